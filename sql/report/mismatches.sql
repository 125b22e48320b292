-- The first mismatch_rows reviews whose rating and sentiment disagree, in read order, with their
-- title's name and whether its title's sentiment covers too few of its reviews (title_languages).
-- grain: one row per review; key: review_id
with mismatches as (
    select * from agg_rating_sentiment_mismatches
),

final as (
    select
        m.read_order,
        m.title_id,
        coalesce(s.title, m.title_id) as title_name,
        m.review_title,
        m.author,
        m.review_date,
        m.rating,
        m.rating_scale,
        m.sentiment_score,
        m.mismatch,
        coverage.scored_share,
        coverage.is_partly_scored,
        coverage.language_mix,
        m.review_id
    from mismatches as m
    left join agg_title_summary as s on s.title_id = m.title_id
    left join title_languages as coverage on coverage.title_id = m.title_id
)

select * from final
order by read_order
limit $mismatch_rows
