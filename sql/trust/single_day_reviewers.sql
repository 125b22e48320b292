-- single_day_reviewers: the reviews of reviewers with at least two reviews (writings: copies onto a
-- product's variants count once), every one dated, all on one day.
-- grain: one row per review in the subset; key: row_id (trust_reviews).
with reviews as (
    select * from trust_reviews where is_one_day and not has_one_writing
),

reviewers as (
    select reviewer_no, count(distinct writing) as writings
    from reviews
    group by reviewer_no
),

final as (
    select
        reviews.row_id,
        'single_day_reviewers' as test,
        'all ' || reviewers.writings || ' of the reviewer''s reviews on ' || reviews.review_date::varchar
            as detail
    from reviews
    join reviewers using (reviewer_no)
)

select * from final
