-- single_day_reviewers: the reviews of reviewers with at least two reviews (writings: copies onto a
-- product's variants count once), every one dated, all on one day.
-- grain: one row per review in the subset; key: review_id.
with reviews as (
    select * from trust_reviews where reviewer is not null
),

reviewers as (
    select
        reviewer,
        count(distinct writing) as writings,
        min(review_date) as review_day
    from reviews
    group by reviewer
    having count(distinct writing) >= 2
        and count(review_date) = count(*)
        and count(distinct review_date) = 1
),

final as (
    select
        reviews.review_id,
        'single_day_reviewers' as test,
        'all ' || reviewers.writings || ' of the reviewer''s reviews on ' || reviewers.review_day::varchar
            as detail
    from reviews
    join reviewers using (reviewer)
)

select * from final
