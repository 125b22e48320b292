-- The most helpful reviews per title by the Wilson lower bound. grain: (title_id, rank)
with ranked as (
    select * from metric_top_helpful_reviews
),

final as (
    select
        title_id,
        rank,
        review_id,
        helpful_votes,
        total_votes,
        helpful_ratio,
        helpful_wilson_lb
    from ranked
)

select * from final
order by title_id, rank
