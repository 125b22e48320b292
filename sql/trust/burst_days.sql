-- burst, its candidates: per title and day with at least $burst_min_reviews dated reviews, the
-- count and the daily rate the title's own history predicts (its dated reviews over the days from
-- its first to its last, at least 1). review_date is a day: the warehouse keeps no hours.
-- grain: one row per (title_id, review_date); key: both.
with reviews as (
    select * from trust_reviews where review_date is not null
),

titles as (
    select
        title_id,
        count(*) / greatest(date_diff('day', min(review_date), max(review_date)) + 1, 1) as daily_rate
    from reviews
    group by title_id
),

days as (
    select title_id, review_date, count(*) as day_reviews
    from reviews
    group by title_id, review_date
    having count(*) >= $burst_min_reviews
),

final as (
    select days.title_id, days.review_date, days.day_reviews, titles.daily_rate
    from days
    join titles using (title_id)
)

select * from final
