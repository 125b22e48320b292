-- Vote sums of every table that publishes them: never negative and helpful never above total, as
-- sums of staged counts (each 0..2^31-1, helpful <= total) are; a wrapped Int64 sum fails here.
-- helpful_votes and total_votes are summed over the same reviews (those with a known total), so a
-- helpful-only review, counted in helpful_only_votes, can never push helpful above total.
with sums as (
    select 'agg_title_summary' as table_name, title_id, null::date as month, helpful_votes, total_votes,
        helpful_only_votes
    from agg_title_summary
    union all
    select 'agg_monthly_trends', title_id, month, helpful_votes, total_votes, helpful_only_votes
    from agg_monthly_trends
    union all
    select 'agg_helpfulness', title_id, null, helpful_votes, total_votes, helpful_only_votes
    from agg_helpfulness
),

final as (
    select *
    from sums
    where helpful_votes < 0 or total_votes < 0 or helpful_votes > total_votes or helpful_only_votes < 0
        or (helpful_votes is null) <> (total_votes is null)
)

select * from final
