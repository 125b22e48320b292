-- Per title and test: the rated reviews the test can see (n), those it picks (x), the share its
-- picks among the other titles' reviews of the title's sources predicts (baseline_share), and each
-- side's rating sums in exact thousandths of a point (for the means and sample variances).
-- grain: one row per (title_id, test_index) with at least $min_title_reviews tested rated reviews;
-- test_index: the test's place in reviewpipe.trust.TESTS.
-- Reads trust_reviews (tested_mask: bit i set when TESTS[i] can see the review) and trust_members
-- (row_id, test_index: the subsets).
with picks as (
    select row_id, bit_or(1::bigint << test_index) as picked_mask
    from trust_members
    group by row_id
),

tests as (
    select range::integer as test_index from range($test_count)
),

-- the rated reviews in groups that every test sees alike: same title, source, tests that can see
-- them and subsets that hold them (a million reviews make a few per title)
groups as (
    select
        reviews.title_id,
        reviews.source,
        reviews.tested_mask,
        coalesce(picks.picked_mask, 0) as picked_mask,
        -- one scale per title: metrics refuses a title rated on two (metrics.title_scales)
        max(reviews.rating_span) as rating_span,
        count(*) as n,
        sum(reviews.rating_units)::hugeint as u1,
        sum(reviews.rating_units * reviews.rating_units)::hugeint as u2
    from trust_reviews as reviews
    left join picks using (row_id)
    where reviews.rating_units is not null
    group by all
),

-- per group, one row per test that can see it: whether its subset holds the group
marked as (
    select
        groups.* exclude (tested_mask, picked_mask),
        tests.test_index,
        (groups.picked_mask >> tests.test_index) & 1 = 1 as picked
    from groups
    cross join tests
    where (groups.tested_mask >> tests.test_index) & 1 = 1
),

by_source as (
    select title_id, test_index, source, sum(n) as n, coalesce(sum(n) filter (where picked), 0) as x
    from marked
    group by title_id, test_index, source
),

source_totals as (
    select test_index, source, sum(n) as n, sum(x) as x
    from by_source
    group by test_index, source
),

-- each of the title's reviews weighted by its source's share among the other titles' reviews;
-- a source with no other title's review tells nothing and is left out (null when none is left)
baseline as (
    select
        by_source.title_id,
        by_source.test_index,
        -- summed in source order: the same bits in every run, whatever order threads add in
        sum(by_source.n * (source_totals.x - by_source.x) / (source_totals.n - by_source.n)
            order by by_source.source) filter (where source_totals.n > by_source.n)
            / sum(by_source.n) filter (where source_totals.n > by_source.n) as baseline_share
    from by_source
    join source_totals using (test_index, source)
    group by by_source.title_id, by_source.test_index
),

sums as (
    select
        title_id,
        test_index,
        sum(n)::bigint as tested_reviews,
        coalesce(sum(n) filter (where picked), 0)::bigint as subset_reviews,
        max(rating_span) as rating_span,
        coalesce(sum(u1) filter (where picked), 0)::hugeint as s1,
        coalesce(sum(u2) filter (where picked), 0)::hugeint as s2,
        coalesce(sum(u1) filter (where not picked), 0)::hugeint as r1,
        coalesce(sum(u2) filter (where not picked), 0)::hugeint as r2
    from marked
    group by title_id, test_index
    having sum(n) >= $min_title_reviews
),

sides as (
    select
        title_id,
        test_index,
        tested_reviews,
        subset_reviews,
        rating_span,
        s1::bigint as subset_units,
        r1::bigint as rest_units,
        -- n·Σu² - (Σu)², exact in 128 bits: the sample variance's numerator times n (units²)
        (subset_reviews * s2 - s1 * s1)::double as subset_spread,
        ((tested_reviews - subset_reviews) * r2 - r1 * r1)::double as rest_spread
    from sums
),

final as (
    select sides.*, baseline.baseline_share
    from sides
    join baseline using (title_id, test_index)
)

select * from final
