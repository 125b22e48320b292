-- agg_top_helpful_reviews: ranks 1..n in each ranking, each review of its title, rankings never mixed
-- Each ranking is of its own kind of review:
-- 'helpful_ratio' ranks reviews with a known total someone voted on (so a bound to rank by);
-- 'helpful_votes' ranks reviews with helpful votes and no total (so no total, ratio or bound).
-- The rest of the check agg_top_helpful_reviews_key: its key, (title_id, ranked_by, rank), is
-- checked first (reviewpipe.schema), so ranks 1..n here are n different ranks.
with top as (
    select
        *,
        count(*) over (partition by title_id, ranked_by) as ranked
    from agg_top_helpful_reviews
),

final as (
    select top.title_id, top.ranked_by, top.rank, top.review_id
    from top
    left join reviews as r using (review_id)
    where r.review_id is null
        or top.title_id is distinct from r.title_id
        or top.rank < 1 or top.rank > top.ranked
        or top.ranked_by not in ('helpful_ratio', 'helpful_votes')
        or (top.ranked_by = 'helpful_ratio'
            and not coalesce(r.total_votes > 0 and top.helpful_wilson_lb is not null, false))
        or (top.ranked_by = 'helpful_votes'
            and not coalesce(r.total_votes is null and top.helpful_votes > 0
                and top.total_votes is null and top.helpful_ratio is null
                and top.helpful_wilson_lb is null, false))
)

select * from final
