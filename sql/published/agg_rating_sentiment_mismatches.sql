-- Reviews whose words and stars disagree strongly, to read first in read_order.
-- grain: one row per flagged review; key: review_id
with mismatches as (
    select * from metric_rating_sentiment_mismatches
),

reviews as (
    select review_id, review_title, author, review_date from stg_reviews
),

final as (
    select
        mismatches.title_id,
        mismatches.rank,
        mismatches.review_id,
        mismatches.rating,
        mismatches.rating_scale,
        mismatches.sentiment_score,
        mismatches.mismatch,
        mismatches.strength,
        mismatches.helpful_wilson_lb,
        mismatches.read_order,
        reviews.review_title,
        reviews.author,
        reviews.review_date
    from mismatches
    left join reviews using (review_id)
)

select * from final
order by read_order
