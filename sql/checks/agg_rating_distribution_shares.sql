-- agg_rating_distribution: (title_id, rating) unique, shares of a title sum to 1, counts match the summary
with per_title as (
    select title_id, sum(share) as share_sum, sum(review_count) as rated, count(*) as n,
           count(distinct rating) as points
    from agg_rating_distribution
    group by title_id
)
select per_title.*, s.rated_review_count
from per_title
left join agg_title_summary s using (title_id)
where title_id is null
   or abs(share_sum - 1) > 1e-9
   or n <> points
   or rated <> s.rated_review_count
