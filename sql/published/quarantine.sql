-- Rows, lines and files that could not be used, with the reason; nothing is dropped silently.
-- grain: one row per (row or line, problem)
with problems as (
    select * from quarantine
),

final as (
    select
        source,
        kind,
        file_path,
        row_number,
        line_number,
        column_name,
        raw_value,
        reason
    from problems
)

select * from final
order by source, file_path, row_number nulls first, line_number, column_name
