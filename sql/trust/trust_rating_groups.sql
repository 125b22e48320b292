-- The rated reviews in groups that every test sees alike: same title, source, tests that can see
-- them (tested_mask), subsets that hold them (picked_mask) and rating point. A million reviews make
-- a few dozen per title; trust_title_tests.sql sums them per title and test, and
-- reviewpipe.trust.rating_ranks takes the Mann-Whitney U from their counts per rating point.
-- grain: one row per (title_id, source, tested_mask, picked_mask, rating_units).
-- Reads trust_reviews (tested_mask: bit i set when TESTS[i] can see the review) and trust_members
-- (row_id, test_index: the subsets).
with picks as (
    select row_id, bit_or(1::bigint << test_index) as picked_mask
    from trust_members
    group by row_id
),

final as (
    select
        reviews.title_id,
        reviews.source,
        reviews.tested_mask,
        coalesce(picks.picked_mask, 0) as picked_mask,
        reviews.rating_units,
        -- one scale per title: metrics refuses a title rated on two (metrics.title_scales)
        max(reviews.rating_span) as rating_span,
        count(*) as n
    from trust_reviews as reviews
    left join picks using (row_id)
    where reviews.rating_units is not null
    group by all
)

select * from final
