-- agg_rating_distribution: (title_id, rating) unique, every point of the title's scale listed once and nothing else, shares sum to 1, counts match the summary
with per_title as (
    select
        title_id,
        sum(share) as share_sum,
        sum(review_count) as rated,
        count(*) as n,
        count(distinct rating) as points,
        -- the points rating_min, rating_min + rating_step, ..., rating_scale
        round((any_value(rating_scale) - any_value(rating_min)) / any_value(rating_step)) + 1 as scale_points,
        count(*) filter (where abs((rating - rating_min) / rating_step
                                   - round((rating - rating_min) / rating_step)) > 1e-9
                            or rating not between rating_min and rating_scale) as off_scale,
        count(distinct (rating_scale, rating_min, rating_step, rating_kind)) as scales
    from agg_rating_distribution
    group by title_id
)
select per_title.*, s.rated_review_count
from per_title
left join agg_title_summary s using (title_id)
where title_id is null
   or abs(share_sum - 1) > 1e-9
   or n <> points
   or n <> scale_points
   or off_scale > 0
   or scales > 1
   or rated <> s.rated_review_count
