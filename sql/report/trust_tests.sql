-- The trust tests of the leaderboards' titles (agg_trust_tests), with what the flagged reviews of
-- a failing test say of its subset's ratings: how many of them are rated, how many of those are on
-- the title's scale, and how many give its top point or its lowest. A warning or passing subset is
-- not listed in agg_trust_flagged_reviews, so its counts are null.
-- grain: one row per (title_id, test) of a leaderboard title; key: both
with tests as (
    select * from agg_trust_tests
    where title_id in (select title_id from leaderboard_titles)
),

flagged as (
    select * from agg_trust_flagged_reviews
    where title_id in (select title_id from leaderboard_titles)
),

scales as (
    select title_id, rating_min, rating_scale from agg_title_summary
),

flagged_ratings as (
    select
        flagged.title_id,
        flagged.test,
        count(reviews.rating) as flagged_rated,
        count(reviews.rating) filter (where reviews.rating_scale = scales.rating_scale)
            as flagged_on_scale,
        count(*) filter (where reviews.rating_scale = scales.rating_scale
                         and reviews.rating = scales.rating_scale) as flagged_top,
        count(*) filter (where reviews.rating_scale = scales.rating_scale
                         and reviews.rating = scales.rating_min) as flagged_bottom
    from flagged
    join reviews using (title_id, review_id)
    join scales using (title_id)
    group by flagged.title_id, flagged.test
),

final as (
    select
        tests.*,
        flagged_ratings.flagged_rated,
        flagged_ratings.flagged_on_scale,
        flagged_ratings.flagged_top,
        flagged_ratings.flagged_bottom
    from tests
    left join flagged_ratings using (title_id, test)
)

select * from final
order by title_id, list_position($tests, test)
