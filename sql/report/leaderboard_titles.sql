-- The leaderboards' titles: titles with rated reviews, ranked within their group (their source
-- and rating scale) by weighted rating, the first max_titles of each group, with their sentiment's
-- coverage (title_languages).
-- grain: one row per title; key: title_id
-- Weighted ratings are only comparable on one scale (C and m are computed per scale), and titles
-- of one scale in two sources (restaurants and apps out of 5) are different things: each group
-- gets its own leaderboard. Built once per report as a temporary table, read by the leaderboard
-- and the distribution.
with summary as (
    select * from agg_title_summary
    where rated_review_count > 0 and rating_scale is not null
),

ranked as (
    select
        title_sources.source,
        title_sources.source_count,
        summary.title_id,
        coalesce(summary.title, summary.title_id) as title_name,
        summary.title is not null as has_title,
        summary.rating_kind,
        summary.rating_min,
        summary.rating_step,
        summary.rating_scale,
        summary.review_count,
        summary.rated_review_count,
        summary.rating_mean,
        summary.weighted_rating,
        summary.bayesian_rating,
        summary.rating_ci_low,
        summary.rating_ci_high,
        summary.sentiment_mean,
        summary.is_polarized,
        summary.recommended_share,
        summary.recommended_share_low,
        summary.recommended_share_high,
        coverage.scored_review_count,
        coverage.scored_share,
        coverage.is_partly_scored,
        coverage.language_mix,
        row_number() over (
            partition by title_sources.source, summary.rating_kind, summary.rating_min,
                summary.rating_step, summary.rating_scale
            order by summary.weighted_rating desc nulls last, summary.title_id
        ) as position
    from summary
    join title_sources using (title_id)
    join title_languages as coverage using (title_id)
),

final as (
    select * from ranked where position <= $max_titles
)

select * from final
