-- Reviews with their per-review metrics. grain: one row per review; key: review_id
-- Stored in title_id, review_id order (publish.STORED_ORDER).
with staged as (
    select * from stg_reviews
),

scored as (
    select * from metric_reviews
),

final as (
    select
        staged.review_id,
        staged.title_id,
        staged.author,
        staged.review_date,
        staged.rating,
        staged.review_title,
        staged.review_text,
        staged.helpful_votes,
        staged.total_votes,
        staged.rating_scale,
        staged.source,
        scored.review_language,
        scored.language_confidence,
        scored.helpful_ratio,
        scored.helpful_wilson_lb,
        scored.sentiment_compound,
        scored.sentiment_pos,
        scored.sentiment_neu,
        scored.sentiment_neg,
        -- a text no analyzer read (its language is not in [sentiment] languages) is said to be so
        case when staged.review_text is not null and scored.sentiment_compound is null then 'unscored'
            else scored.sentiment_label end as sentiment_label,
        scored.sentence_compound_mean,
        scored.sentence_count,
        scored.positive_sentence_share,
        scored.negative_sentence_share,
        case when staged.review_text is not null and scored.sentiment_compound is null then 'unscored'
            else scored.sentence_sentiment_label end as sentence_sentiment_label,
        scored.sentiment_score,
        scored.rating_sentiment_mismatch,
        staged.review_word_count,
        staged.reviewer_id,
        staged.verified_purchase,
        staged.file_path,
        staged.row_number
    from staged
    left join scored using (review_id)
)

select * from final
