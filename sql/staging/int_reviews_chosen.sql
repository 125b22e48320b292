-- Which rows of int_reviews_typed are the reviews of stg_reviews: no problem of their own, and the
-- first copy of their review (int_reviews_validated ranks the copies). Only the rows' keys are kept:
-- stg_reviews reads everything else, texts included, from int_reviews_typed, so a run that adds one
-- file does not copy every review's text again.
-- grain: one row per review; key: (source, file_path, row_number)
with validated as (
    select * from int_reviews_validated
),

final as (
    select
        source,
        file_path,
        row_number
    from validated
    where len(problems) = 0
)

select * from final
