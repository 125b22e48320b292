-- Per title and test: the rated reviews the test can see (n), those it picks (x), the share its
-- picks among the other titles' reviews of the title's sources predicts (baseline_share), and each
-- side's rating sums in exact thousandths of a point (for the means and sample variances).
-- grain: one row per (title_id, test) with at least $min_title_reviews tested rated reviews.
-- Reads trust_tested (per test, the reviews it can see) and trust_members (its subsets).
with tested as (
    select * from trust_tested where rating_units is not null
),

members as (
    select distinct review_id, test from trust_members
),

marked as (
    select tested.*, members.review_id is not null as picked
    from tested
    left join members using (review_id, test)
),

by_source as (
    select title_id, test, source, count(*) as n, count(*) filter (where picked) as x
    from marked
    group by title_id, test, source
),

source_totals as (
    select test, source, sum(n) as n, sum(x) as x
    from by_source
    group by test, source
),

-- each of the title's reviews weighted by its source's share among the other titles' reviews;
-- a source with no other title's review tells nothing and is left out (null when none is left)
baseline as (
    select
        by_source.title_id,
        by_source.test,
        sum(by_source.n * (source_totals.x - by_source.x) / (source_totals.n - by_source.n))
            filter (where source_totals.n > by_source.n)
            / sum(by_source.n) filter (where source_totals.n > by_source.n) as baseline_share
    from by_source
    join source_totals using (test, source)
    group by by_source.title_id, by_source.test
),

sums as (
    select
        title_id,
        test,
        count(*) as tested_reviews,
        count(*) filter (where picked) as subset_reviews,
        max(rating_span) as rating_span,
        coalesce(sum(rating_units) filter (where picked), 0)::hugeint as s1,
        coalesce(sum(rating_units * rating_units) filter (where picked), 0)::hugeint as s2,
        coalesce(sum(rating_units) filter (where not picked), 0)::hugeint as r1,
        coalesce(sum(rating_units * rating_units) filter (where not picked), 0)::hugeint as r2
    from marked
    group by title_id, test
    having count(*) >= $min_title_reviews
),

sides as (
    select
        title_id,
        test,
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
    join baseline using (title_id, test)
)

select * from final
