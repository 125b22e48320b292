-- burst: the reviews of the burst days (burst_days the Poisson tail kept, registered by
-- reviewpipe.trust.subsets).
-- grain: one row per review in the subset; key: row_id (trust_reviews).
with reviews as (
    select * from trust_reviews where review_date is not null
),

days as (
    select * from trust_burst_days
),

final as (
    select
        reviews.row_id,
        'burst' as test,
        'one of ' || days.day_reviews || ' reviews of ' || days.review_date::varchar
            || ', a day the title''s rate predicts ' || round(days.daily_rate, 1)::varchar as detail
    from reviews
    join days using (title_id, review_date)
)

select * from final
