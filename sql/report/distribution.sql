-- The leaderboards' titles' reviews and share of ratings per rating point, for their histograms.
-- grain: one row per (title_id, rating) of a leaderboard title
with distribution as (
    select * from agg_rating_distribution
),

board as (
    select title_id from leaderboard_titles
),

final as (
    select
        distribution.title_id,
        distribution.rating,
        distribution.review_count,
        distribution.share,
        distribution.rating_scale
    from distribution
    where distribution.title_id in (select title_id from board)
)

select * from final
order by title_id, rating
