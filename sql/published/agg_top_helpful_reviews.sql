-- The most helpful reviews per title, in two rankings never mixed: 'helpful_ratio' by the Wilson
-- lower bound (reviews with a known total), 'helpful_votes' by helpful votes (reviews whose source
-- counts helpful votes alone). grain: one row per (title_id, ranked_by, rank)
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
        helpful_wilson_lb,
        ranked_by
    from ranked
)

select * from final
order by title_id, ranked_by, rank
