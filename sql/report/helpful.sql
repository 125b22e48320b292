-- The most helpful reviews per source (the review's own) and ranking, the first helpful_rows of
-- each: votes on one platform are not comparable with another's, and a source counting helpful
-- votes alone is ranked by them ('helpful_votes'), never together with shares of voters
-- ('helpful_ratio'); see agg_top_helpful_reviews. grain: one row per (source, ranked_by, position)
with top_helpful as (
    select * from agg_top_helpful_reviews
),

final as (
    select
        reviews.source,
        h.ranked_by,
        h.title_id,
        coalesce(s.title, h.title_id) as title_name,
        h.helpful_votes,
        h.total_votes,
        h.helpful_wilson_lb,
        h.review_id,
        row_number() over (
            partition by reviews.source, h.ranked_by
            order by h.helpful_wilson_lb desc nulls last, h.helpful_votes desc,
                h.total_votes desc nulls last, h.review_id
        ) as position
    from top_helpful as h
    join reviews using (title_id, review_id)
    left join agg_title_summary as s using (title_id)
    qualify position <= $helpful_rows
)

select * from final
order by source, ranked_by desc, position
