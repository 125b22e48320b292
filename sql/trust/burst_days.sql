-- burst, its candidates: per title and day with at least $burst_min_reviews dated reviews, the
-- count, the daily rate the title's own history predicts (its dated reviews over the days from its
-- first to its last, at least 1), and the days around it: the mean and variance of the title's
-- daily counts over the $burst_neighbourhood_days days before it and after it, the day and the
-- days next to it left out (a campaign of two or three days is not its own yardstick), days
-- without a review counted as 0. review_date is a day: the warehouse keeps no hours.
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

all_days as (
    select title_id, review_date, count(*) as day_reviews
    from reviews
    group by title_id, review_date
),

days as (
    select * from all_days where day_reviews >= $burst_min_reviews
),

-- the days around each candidate (2 to $burst_neighbourhood_days days away), their counts summed
-- and squared: 2 x ($burst_neighbourhood_days - 1) days in all
around as (
    select
        days.title_id,
        days.review_date,
        coalesce(sum(near.day_reviews), 0) as near_reviews,
        coalesce(sum(near.day_reviews * near.day_reviews), 0) as near_squares
    from days
    -- each day around, by its offset: an equality join on (title, day), not a range join
    cross join (
        select range as offset_days
        from range(-$burst_neighbourhood_days, $burst_neighbourhood_days + 1)
        where abs(range) >= 2
    ) as offsets
    left join all_days as near
        on near.title_id = days.title_id
        and near.review_date = days.review_date + offsets.offset_days::integer
    group by days.title_id, days.review_date
),

final as (
    select
        days.title_id,
        days.review_date,
        days.day_reviews,
        titles.daily_rate,
        around.near_reviews / (2 * ($burst_neighbourhood_days - 1)) as near_mean,
        around.near_squares / (2 * ($burst_neighbourhood_days - 1))
            - (around.near_reviews / (2 * ($burst_neighbourhood_days - 1))) ** 2 as near_variance
    from days
    join titles using (title_id)
    join around using (title_id, review_date)
)

select * from final
