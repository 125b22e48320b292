-- Titles: one row per title, merged over every source and save that mentions it (later sources, then
-- files whose paths sort later, fill in and override earlier ones). grain: one row per title; key: title_id
with merged as (
    select * from metric_titles
),

final as (
    select
        title_id,
        title,
        year::integer as year,
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
        runtime_minutes::integer as runtime_minutes,
        popularity,
        related_to_title_id
    from merged
)

select * from final
order by title_id
