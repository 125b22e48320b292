-- Per title and review language: the reviews with a text in it, their share of the title's, and how
-- many of them sentiment scored. grain: one row per (title_id, review_language); key: both.
-- review_language is the effective language: the source's declared one, else the detected one
-- ('und' when undetermined).
with languages as (
    select * from metric_title_languages
),

final as (
    select
        title_id,
        review_language,
        review_count,
        review_share,  -- of the title's reviews with a text: a title's shares sum to 1
        scored_review_count
    from languages
)

select * from final
order by title_id, review_count desc, review_language
