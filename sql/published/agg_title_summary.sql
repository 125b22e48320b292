-- Per-title summary of ratings, helpful votes and sentiment. grain: one row per title; key: title_id
with summary as (
    select * from metric_title_summary
),

final as (
    select
        title_id,
        title,
        review_count,
        rated_review_count,
        rating_mean,
        rating_median,
        rating_stddev,
        site_rating,
        site_votes,
        helpful_votes,
        total_votes,
        sentiment_mean,
        positive_share,
        neutral_share,
        negative_share
    from summary
)

select * from final
order by title_id
