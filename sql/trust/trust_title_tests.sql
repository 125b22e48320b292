-- Per title and test: the rated reviews the test can see (n), those it picks (x), the share its
-- picks among the other titles' reviews of the title's sources predicts (baseline_share), and each
-- side's rating sum in exact thousandths of a point (for the means).
-- grain: one row per (title_id, test_index) with at least $min_title_reviews tested rated reviews;
-- test_index: the test's place in reviewpipe.trust.TESTS.
-- Reads trust_rating_groups (sql/trust/trust_rating_groups.sql: the rated reviews grouped by
-- title, source, tested_mask, picked_mask and rating) and trust_baseline_excluded (title_id,
-- test_index, other_title_id: titles left out of a title's baseline for a test; review_ring's,
-- sql/trust/ring_baseline_excluded.sql).
with tests as (
    select range::integer as test_index from range($test_count)
),

-- the rating points summed away: the sums below need the groups' counts and rating sums only
groups as (
    select
        title_id,
        source,
        tested_mask,
        picked_mask,
        max(rating_span) as rating_span,
        sum(n) as n,
        sum(n * rating_units)::hugeint as u1
    from trust_rating_groups
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

-- the titles left out of a title's baseline for a test (a ring's other titles for review_ring: a
-- campaign over several titles does not raise the yardstick of any of them), summed per source
excluded as (
    select
        excluded.title_id,
        excluded.test_index,
        by_source.source,
        sum(by_source.n) as n,
        sum(by_source.x) as x
    from trust_baseline_excluded as excluded
    join by_source
        on by_source.title_id = excluded.other_title_id and by_source.test_index = excluded.test_index
    group by all
),

-- the other titles' reviews of each source, the excluded ones left out
others as (
    select
        by_source.title_id,
        by_source.test_index,
        by_source.source,
        by_source.n,
        source_totals.n - by_source.n - coalesce(excluded.n, 0) as other_n,
        source_totals.x - by_source.x - coalesce(excluded.x, 0) as other_x
    from by_source
    join source_totals using (test_index, source)
    left join excluded using (title_id, test_index, source)
),

-- each of the title's reviews weighted by its source's share among the other titles' reviews;
-- a source with no other title's review tells nothing and is left out (null when none is left)
baseline as (
    select
        title_id,
        test_index,
        -- summed in source order: the same bits in every run, whatever order threads add in
        sum(n * other_x / other_n order by source) filter (where other_n > 0)
            / sum(n) filter (where other_n > 0) as baseline_share
    from others
    group by title_id, test_index
),

sums as (
    select
        title_id,
        test_index,
        sum(n)::bigint as tested_reviews,
        coalesce(sum(n) filter (where picked), 0)::bigint as subset_reviews,
        max(rating_span) as rating_span,
        coalesce(sum(u1) filter (where picked), 0)::bigint as subset_units,
        coalesce(sum(u1) filter (where not picked), 0)::bigint as rest_units
    from marked
    group by title_id, test_index
    having sum(n) >= $min_title_reviews
),

final as (
    select sums.*, baseline.baseline_share
    from sums
    join baseline using (title_id, test_index)
)

select * from final
