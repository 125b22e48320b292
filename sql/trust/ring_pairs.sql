-- review_ring, its candidates: per pair of titles of one source, the reviewers who reviewed both
-- within $ring_days days of each other (co_reviewers, at least $ring_min_reviewers), and the count
-- independence predicts (expected: reviewers of a x reviewers of b / reviewers of the source; the
-- time window ignored, so it overstates chance and the test errs towards passing). Reviewers with
-- more than $ring_max_titles titles are left out: a reviewer of k titles makes k(k-1)/2 pairs.
-- Reads trust_ring_titles (sql/trust/ring_titles.sql, kept by reviewpipe.trust.subsets).
-- grain: one row per (title_a, title_b), title_a < title_b; key: both.
with titles as (
    select * from trust_ring_titles
),

active as (
    select * from titles where reviewer_titles <= $ring_max_titles
),

title_reviewers as (
    select source, title_id, count(*) as reviewers
    from titles
    group by source, title_id
),

source_reviewers as (
    select source, count(distinct reviewer_no) as reviewers
    from titles
    group by source
),

co as (
    select a.source, a.title_id as title_a, b.title_id as title_b, count(*) as co_reviewers
    from active as a
    join active as b
        on a.reviewer_no = b.reviewer_no and a.source = b.source and a.title_id < b.title_id
    -- one writing copied onto a product's variants (Amazon 2018) is one review, not two titles
    -- reviewed together
    where a.writing <> b.writing
        and abs(date_diff('day', a.first_date, b.first_date)) <= $ring_days
    group by a.source, a.title_id, b.title_id
    having count(*) >= $ring_min_reviewers
),

final as (
    select
        co.title_a,
        co.title_b,
        co.co_reviewers,
        ra.reviewers * rb.reviewers / sources.reviewers as expected
    from co
    join title_reviewers as ra on ra.source = co.source and ra.title_id = co.title_a
    join title_reviewers as rb on rb.source = co.source and rb.title_id = co.title_b
    join source_reviewers as sources on sources.source = co.source
)

select * from final
