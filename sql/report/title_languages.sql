-- Each reviewed title's language mix and how much of it sentiment covers, for the leaderboard,
-- the trends and the mismatches: its scored_share, whether that is below min_scored_share
-- (is_partly_scored), and its languages most reviews first as a list of
-- {language, share, unscored_share} (share: of its reviews with a text; unscored_share: those of
-- them without a sentiment score). grain: one row per reviewed title; key: title_id
-- Built once per report as a temporary table, as title_sources.
with summary as (
    select title_id, scored_review_count, scored_share from agg_title_summary
),

languages as (
    select * from agg_title_languages
    where review_language is not null
),

mix as (
    select
        title_id,
        list({
            'language': review_language,
            'share': review_share,
            'unscored_share': review_share * (review_count - scored_review_count) / review_count
        } order by review_count desc, review_language) as language_mix
    from languages
    where review_count > 0
    group by title_id
),

final as (
    select
        summary.title_id,
        summary.scored_review_count,
        summary.scored_share,
        -- a title without texts has no share and nothing to mark
        coalesce(summary.scored_share < $min_scored_share, false) as is_partly_scored,
        mix.language_mix  -- null when none of its reviews has a language
    from summary
    left join mix using (title_id)
    where summary.title_id in (select title_id from title_sources)
)

select * from final
