-- review_ring, its reviewers' titles: per known reviewer and title, the first day they reviewed it
-- and their writing of it (the smallest, when several), with how many titles the reviewer has.
-- grain: one row per (reviewer_no, title_id); key: both.
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

final as (
    select *, count(*) over (partition by reviewer_no) as reviewer_titles
    from pairs
)

select * from final
