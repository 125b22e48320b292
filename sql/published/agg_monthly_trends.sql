-- Per title and month: review counts, rating and sentiment means, helpfulness.
-- grain: one row per (title_id, month); month is the first day of the calendar month
with trends as (
    select * from metric_monthly_trends
),

final as (
    select
        title_id,
        month,
        review_count,
        rated_review_count,
        rating_mean,
        sentiment_mean,
        scored_review_count,  -- sentiment_mean is over these
        helpful_votes,
        total_votes,
        helpful_ratio,
        helpful_only_votes
    from trends
)

select * from final
order by title_id, month
