-- review_ring, its candidates: per pair of titles of one source and pair of windows (one per title,
-- of one tiling: ring_titles.sql), the reviewers who reviewed the first title in its window and the
-- second in its own (co_reviewers, at least $ring_min_reviewers; reviewers of 3 to
-- $ring_max_titles titles), and the count independence predicts (expected: reviews of a in its
-- window x reviews of b in its window / reviewers of the source; reviews, not reviewers, of a
-- title in a window: a reviewer's second review of it only raises the expectation).
-- Reads trust_ring_titles (sql/trust/ring_titles.sql, kept by reviewpipe.trust.subsets).
-- grain: one row per (title_a, window_a, title_b, window_b), title_a < title_b; key: the four.
with titles as (
    select * from trust_ring_titles
),

-- pairs of titles with enough co-reviewers whatever the windows (one tiling: each reviewer's
-- title once): the count by windows is made for these only, a few of a million reviews' pairs
title_pairs as (
    select a.title_id as title_a, b.title_id as title_b
    from titles as a
    join titles as b
        on a.reviewer_no = b.reviewer_no and a.source = b.source and a.title_id < b.title_id
    -- one writing copied onto a product's variants (Amazon 2018) is one review, not two titles
    -- reviewed together
    where a.tiling = 0 and b.tiling = 0 and a.writing <> b.writing
    group by all
    having count(*) >= $ring_min_reviewers
),

co as (
    select
        a.source,
        a.title_id as title_a,
        a.time_window as window_a,
        b.title_id as title_b,
        b.time_window as window_b,
        count(*) as co_reviewers
    from titles as a
    join titles as b
        on a.reviewer_no = b.reviewer_no and a.source = b.source and a.title_id < b.title_id
    join title_pairs on title_pairs.title_a = a.title_id and title_pairs.title_b = b.title_id
    where a.writing <> b.writing
    group by all
    having count(*) >= $ring_min_reviewers
),

-- the expectations, only for the candidates' titles and sources (none, most runs)
candidate_reviews as (
    select reviews.source, reviews.title_id, reviews.reviewer_no, reviews.review_date
    from trust_reviews as reviews
    where reviews.reviewer_no is not null
        and reviews.source in (select source from co)
),

window_reviews as (
    select
        reviews.title_id,
        -- as ring_titles.sql's time_window
        tilings.tiling * 1000000000
            + (date_diff('day', date '1970-01-01', reviews.review_date) + tilings.tiling * $ring_days)
            // (2 * $ring_days) as time_window,
        count(*) as reviews
    from candidate_reviews as reviews
    cross join (select range as tiling from range(2)) as tilings
    where reviews.review_date is not null
        and reviews.title_id in (select title_a from co union select title_b from co)
    group by all
),

source_reviewers as (
    select source, count(distinct reviewer_no) as reviewers
    from candidate_reviews
    group by source
),

final as (
    select
        co.title_a,
        co.window_a,
        co.title_b,
        co.window_b,
        co.co_reviewers,
        ra.reviews * rb.reviews / sources.reviewers as expected
    from co
    join window_reviews as ra on ra.title_id = co.title_a and ra.time_window = co.window_a
    join window_reviews as rb on rb.title_id = co.title_b and rb.time_window = co.window_b
    join source_reviewers as sources on sources.source = co.source
)

select * from final
