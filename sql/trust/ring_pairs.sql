-- review_ring, its candidates: per pair of titles of one source and pair of windows (one per title,
-- of one tiling: ring_titles.sql), the reviewers who reviewed the first title in its window and the
-- second in its own (co_reviewers, at least $ring_min_reviewers), and the count independence
-- predicts (expected: reviewers of a in its window x reviewers of b in its window / reviewers of
-- the source). Reviewers with more than $ring_max_titles titles are left out: a reviewer of k
-- titles makes k(k-1)/2 pairs.
-- Reads trust_ring_titles (sql/trust/ring_titles.sql, kept by reviewpipe.trust.subsets).
-- grain: one row per (title_a, window_a, title_b, window_b), title_a < title_b; key: the four.
with titles as (
    select * from trust_ring_titles
),

active as (
    select * from titles where reviewer_titles <= $ring_max_titles
),

window_reviewers as (
    select source, title_id, time_window, count(*) as reviewers
    from titles
    group by source, title_id, time_window
),

source_reviewers as (
    select source, count(distinct reviewer_no) as reviewers
    from titles
    group by source
),

co as (
    select
        a.source,
        a.title_id as title_a,
        a.time_window as window_a,
        b.title_id as title_b,
        b.time_window as window_b,
        count(*) as co_reviewers
    from active as a
    join active as b
        on a.reviewer_no = b.reviewer_no and a.source = b.source and a.title_id < b.title_id
    -- one writing copied onto a product's variants (Amazon 2018) is one review, not two titles
    -- reviewed together
    where a.writing <> b.writing
    group by all
    having count(*) >= $ring_min_reviewers
),

final as (
    select
        co.title_a,
        co.window_a,
        co.title_b,
        co.window_b,
        co.co_reviewers,
        ra.reviewers * rb.reviewers / sources.reviewers as expected
    from co
    join window_reviewers as ra
        on ra.source = co.source and ra.title_id = co.title_a and ra.time_window = co.window_a
    join window_reviewers as rb
        on rb.source = co.source and rb.title_id = co.title_b and rb.time_window = co.window_b
    join source_reviewers as sources on sources.source = co.source
)

select * from final
