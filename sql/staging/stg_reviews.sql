-- Reviews that passed every check: typed, cleaned text, one row per review.
-- grain: one row per review; key: review_id
with validated as (
    select * from int_reviews_validated
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
        source,
        file_path,
        row_number,
        text_hash,  -- key of the sentiment cache; null when there is no text
        review_word_count
    from validated
    where len(problems) = 0
)

select * from final
