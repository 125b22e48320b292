-- Every dated review per source and month, as sums: the stacked bars, and each source's first row
-- of trends (all its titles). grain: one row per (source, month)
with dated as (
    select source, review_date, rating, review_text, sentiment_score
    from reviews
    where review_date is not null
),

final as (
    select
        source,
        date_trunc('month', review_date)::date as month,
        count(*) as review_count,
        count(rating) as rated_review_count,
        sum(rating) as rating_sum,
        count(review_text) as text_review_count,
        count(sentiment_score) as scored_review_count,
        sum(sentiment_score) as sentiment_sum
    from dated
    group by all
)

select * from final
order by source, month
