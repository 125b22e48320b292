-- Each reviewer's history over the whole warehouse, by min and max (cheaper than distinct counts at a
-- million reviews): rated reviews, one writing (its min and max are one), one day likewise.
-- grain: one row per reviewer of trust_history_rows; key: reviewer.
-- Reads trust_history_rows (trust_review_rows' columns): reviewpipe.trust.subsets points it at every
-- staged review for a whole build, or at the kept rows of the reviewers a run's reviews touch.
with reviews as (
    select * from trust_history_rows where reviewer is not null
),

final as (
    select
        reviewer,
        count(rating) as reviewer_rated,  -- rated reviews (rating_deviation's floor)
        min(writing) = max(writing) as has_one_writing,
        count(review_date) = count(*) and min(review_date) = max(review_date) as is_one_day
    from reviews
    group by reviewer
)

select * from final
