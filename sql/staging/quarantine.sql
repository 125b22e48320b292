-- Everything that could not be used, with where it came from and why: rows that failed a check, lines
-- a reader rejected, and files that could not be read at all.
-- grain: one row per (row or line, problem); a row with two problems appears twice
with review_problems as (
    select
        source,
        'reviews' as kind,
        file_path,
        row_number,
        null::bigint as line_number,
        p.column_name,
        p.raw_value,
        p.reason,
        review_id  -- for restaging a review's rows alone (ingest.stage); not published
    from int_reviews_validated, unnest(problems) as t(p)
),

title_problems as (
    select
        source,
        'titles' as kind,
        file_path,
        row_number,
        null::bigint as line_number,
        p.column_name,
        p.raw_value,
        p.reason,
        null::varchar as review_id
    from int_titles_validated, unnest(problems) as t(p)
),

reader_rejects as (
    select
        source,
        kind,
        file_path,
        null::bigint as row_number,
        line_number,
        column_name,
        raw_value,
        reason,
        null::varchar as review_id
    from raw_rejects
),

final as (
    select * from review_problems
    union all
    select * from title_problems
    union all
    select * from reader_rejects
)

select * from final
order by source, file_path, row_number nulls first, line_number, column_name
