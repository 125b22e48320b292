-- agg_title_summary: the comparable ratings and shape measures stay within their ranges
select title_id
from agg_title_summary
where rating_entropy not between 0 and 1
   or extreme_share not between 0 and 1
   or bayesian_rating not between 1 and rating_scale
   or weighted_rating not between 1 and rating_scale
   or rating_ci_low > rating_mean + 1e-9
   or rating_ci_high < rating_mean - 1e-9
