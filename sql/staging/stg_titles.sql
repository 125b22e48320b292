-- Title rows that passed every check. A title may appear in several rows (several sources or saves);
-- the published `titles` merges them, later rows (by source order, then file path, then row) filling
-- in and overriding earlier ones; file times play no part (metrics.merged_titles).
-- grain: one row per raw title row; key: (source, file_path, row_number)
with validated as (
    select * from int_titles_validated
),

final as (
    select
        title_id,
        title,
        year,
        site_rating,
        site_votes,
        user_review_count,
        critic_review_count,
        genres,
        directors,
        writers,
        stars,
        country,
        language,
        runtime_minutes,
        popularity,
        related_to_title_id,
        source,
        file_path,
        row_number,
        source_order
    from validated
    where len(problems) = 0
)

select * from final
