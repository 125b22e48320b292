-- review_ring, its reviewers' titles: per reviewer with 3 to $ring_max_titles titles (fewer cannot
-- be in a ring; more make too many pairs, k(k-1)/2) and per title, the first day they reviewed it
-- and their writing of it (the smallest, when several); twice, once in each of two tilings of time
-- into windows of 2 x $ring_days days offset by $ring_days (time_window), so that
-- reviews of a title within $ring_days days of each other share a window of one tiling. Undated
-- reviews are left out.
-- grain: one row per (reviewer_no, title_id, time_window); key: the three.
with reviews as (
    select reviewer_no, title_id, source, review_date, writing
    from trust_reviews
    where reviewer_no is not null and review_date is not null
),

-- a reviewer of 3 titles has at least 3 reviews: the others (most of a million reviews' accounts)
-- are left out before the grouping by title
several as (
    select reviewer_no
    from reviews
    group by reviewer_no
    having count(*) >= 3
),

reviewer_titles as (
    select
        reviewer_no,
        title_id,
        any_value(source) as source,
        min(review_date) as first_date,
        min(writing) as writing
    from reviews
    semi join several using (reviewer_no)
    group by reviewer_no, title_id
),

counted as (
    select *
    from reviewer_titles
    qualify count(*) over (partition by reviewer_no) between 3 and $ring_max_titles
),

tilings as (
    select range as tiling from range(2)
),

final as (
    select
        counted.*,
        tilings.tiling,
        -- the tiling, and the day's window in it (days since 1970); ring_pairs.sql says it alike
        tilings.tiling * 1000000000
            + (date_diff('day', date '1970-01-01', counted.first_date) + tilings.tiling * $ring_days)
            // (2 * $ring_days) as time_window
    from counted
    cross join tilings
)

select * from final
