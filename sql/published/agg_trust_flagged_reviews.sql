-- The reviews in a failing trust test's subset, with what the test saw: the reviews to read first.
-- grain: one row per (review_id, test); key: both. Rebuilt whole every run, as agg_trust_tests.
with flagged as (
    select * from metric_trust_flagged
),

final as (
    select
        review_id,
        title_id,
        test,
        detail
    from flagged
)

select * from final
