-- agg_top_helpful_reviews: (title_id, ranked_by, rank) unique, ranks 1..n without gaps in each
-- ranking, each review of its title, and each ranking of its own kind of review, never mixed:
-- 'helpful_ratio' ranks reviews with a known total someone voted on (so a bound to rank by);
-- 'helpful_votes' ranks reviews with helpful votes and no total (so no total, ratio or bound)
with top as (
    select
        *,
        count(*) over (partition by title_id, ranked_by) as ranked,
        count(*) over (partition by title_id, ranked_by, rank) as copies
    from agg_top_helpful_reviews
),

final as (
    select top.title_id, top.ranked_by, top.rank, top.review_id
    from top
    left join reviews as r using (review_id)
    where r.review_id is null
        or top.title_id is distinct from r.title_id
        or top.rank is null or top.rank < 1 or top.rank > top.ranked
        or top.copies > 1
        or top.ranked_by is null
        or top.ranked_by not in ('helpful_ratio', 'helpful_votes')
        or (top.ranked_by = 'helpful_ratio'
            and not coalesce(r.total_votes > 0 and top.helpful_wilson_lb is not null, false))
        or (top.ranked_by = 'helpful_votes'
            and not coalesce(r.total_votes is null and top.helpful_votes > 0
                and top.total_votes is null and top.helpful_ratio is null
                and top.helpful_wilson_lb is null, false))
)

select * from final
