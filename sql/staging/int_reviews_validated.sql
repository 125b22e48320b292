-- Every raw review row typed and cleaned (int_reviews_typed), with the list of problems that keep it
-- out of stg_reviews: its own, or being a second copy of a review.
-- grain: one row per raw_reviews row; key: (source, file_path, row_number)
with checked as (
    select * from int_reviews_typed
),

-- the same review twice (same id) keeps one occurrence: the first source in the config, then the
-- newest file (a newer export or page save has the newer votes), then the first row of that file
ranked as (
    select
        *,
        case when len(problems) = 0 then row_number() over first_seen end as occurrence,
        case when len(problems) = 0 then first_value(file_path) over first_seen end as first_file,
        case when len(problems) = 0 then first_value(row_number) over first_seen end as first_row
    from checked
    window first_seen as (
        partition by review_id, len(problems) = 0
        order by source_order, file_modified_at desc, file_path, row_number
    )
),

final as (
    select
        source,
        file_path,
        row_number,
        rating_scale,
        review_id,
        title_id,
        author,
        review_date,
        rating,
        review_title,
        review_text,
        helpful_votes,
        total_votes,
        text_hash,
        review_word_count,
        case when occurrence > 1
            then [problem('review_id', review_id,
                          'duplicate of the review in ' || first_file || ' row ' || first_row)]
        else problems end as problems
    from ranked
)

select * from final
