-- Per title and test: the rated reviews the test can see (n), those it picks (x), the share its
-- picks among the other titles' reviews of the title's sources predicts (baseline_share), each
-- side's rating sum in exact thousandths of a point (for the means), and the Mann-Whitney U of the
-- subset against the rest with its tie sum, from the counts of each side per rating point.
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
-- them, subsets that hold them and rating (a million reviews make a few dozen per title)
groups as (
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

-- per title, test and rating point: the subset's reviews there (s) and the rest's (r)
points as (
    select
        title_id,
        test_index,
        rating_units,
        max(rating_span) as rating_span,
        coalesce(sum(n) filter (where picked), 0)::bigint as s,
        coalesce(sum(n) filter (where not picked), 0)::bigint as r
    from marked
    group by title_id, test_index, rating_units
),

-- and the rest's reviews below the point: a subset review there beats each of them
below as (
    select
        *,
        coalesce(sum(r) over (partition by title_id, test_index order by rating_units
                              rows between unbounded preceding and 1 preceding), 0)::bigint as r_below
    from points
),

sums as (
    select
        title_id,
        test_index,
        sum(s + r)::bigint as tested_reviews,
        sum(s)::bigint as subset_reviews,
        max(rating_span) as rating_span,
        sum(s::hugeint * rating_units)::bigint as subset_units,
        sum(r::hugeint * rating_units)::bigint as rest_units,
        -- 2·U1 = Σ_k s_k·(2·rest below k + rest at k): whole, so exact (ties count half a win)
        sum(s::hugeint * (2 * r_below + r))::double as subset_u_twice,
        -- Σ (t³ - t) over the points, t the reviews of both sides there: the tie correction
        sum((s + r)::hugeint * (s + r) * (s + r) - (s + r))::double as tie_sum
    from below
    group by title_id, test_index
    having sum(s + r) >= $min_title_reviews
),

final as (
    select sums.*, baseline.baseline_share
    from sums
    join baseline using (title_id, test_index)
)

select * from final
