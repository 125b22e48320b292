-- Reviews that passed every check: typed, cleaned text, one row per review.
-- grain: one row per review; key: review_id
-- A view of the int_reviews_typed rows that staging marked (ingest.stage: no problem, the first copy
-- of their review), so that the cleaned text is stored once, there (raw_reviews keeps it as it
-- arrived); it shows what was staged, not rows loaded since.
with typed as (
    select * from int_reviews_typed
),

final as (
    select
        review_id,
        title_id,
        author,
        review_date,
        rating,
        review_title,
        review_text,
        helpful_votes,
        total_votes,
        rating_scale,
        rating_min,
        rating_step,
        source,
        file_path,
        row_number,
        text_hash,  -- key of the sentiment cache; null when there is no text
        review_word_count,
        declared_language,  -- the language the source states (its `language` or review_language column)
        reviewer_id,
        verified_purchase
    from typed
    where staged
)

select * from final
