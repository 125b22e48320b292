-- review_ring, its reviewers' titles: per known reviewer and title, the first day they reviewed it,
-- their writing of it (the smallest, when several) and how many titles the reviewer has; twice,
-- once in each of two tilings of time into windows of 2 x $ring_days days offset by $ring_days
-- (time_window: the tiling and the window's number), so that reviews of a title within $ring_days days
-- of each other share a window of one tiling. Undated reviews have no window.
-- grain: one row per (reviewer_no, title_id, time_window); key: the three.
with reviews as (
    select * from trust_reviews where reviewer_no is not null
),

pairs as (
    select
        reviewer_no,
        title_id,
        any_value(source) as source,
        min(review_date) as first_date,
        min(writing) as writing
    from reviews
    group by reviewer_no, title_id
),

counted as (
    select *, count(*) over (partition by reviewer_no) as reviewer_titles
    from pairs
),

tilings as (
    select range as tiling from range(2)
),

final as (
    select
        counted.*,
        -- days since 1970 in windows of 2 x ring_days; the second tiling shifted by ring_days
        tilings.tiling * 1000000000
            + (date_diff('day', date '1970-01-01', counted.first_date) + tilings.tiling * $ring_days)
            // (2 * $ring_days) as time_window
    from counted
    cross join tilings
    where counted.first_date is not null
)

select * from final
