-- Reviews that passed every check: typed, cleaned text, one row per review.
-- grain: one row per review; key: review_id
-- A view: the rows int_reviews_chosen names, as int_reviews_typed holds them (each text stored once).
with typed as (
    select * from int_reviews_typed
),

chosen as (
    select * from int_reviews_chosen
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
    from typed
    semi join chosen using (source, file_path, row_number)
)

select * from final
