-- agg_title_summary: the rating figures lie on the title's scale (rating_min..rating_scale), shares and shape measures within their ranges, scored reviews among the title's
select
    title_id, rating_kind, rating_min, rating_scale, rating_mean, bayesian_rating, weighted_rating,
    rating_ci_low, rating_ci_high, recommended_share, recommended_share_low, recommended_share_high,
    rating_entropy, extreme_share, scored_review_count, scored_share
from agg_title_summary
where rating_entropy not between 0 and 1
   -- sentiment covers the scored reviews alone, a share of those with a text
   or scored_review_count not between 0 and review_count
   or scored_share not between 0 and 1
   or extreme_share not between 0 and 1
   or rating_mean not between rating_min - 1e-9 and rating_scale + 1e-9
   or bayesian_rating not between rating_min - 1e-9 and rating_scale + 1e-9
   or weighted_rating not between rating_min - 1e-9 and rating_scale + 1e-9
   or rating_ci_low < rating_min or rating_ci_high > rating_scale
   or rating_ci_low > rating_mean + 1e-9
   or rating_ci_high < rating_mean - 1e-9
   -- the scale is described the same way everywhere: thumbs is 0..1 in one step
   or (rating_kind = 'thumbs') is distinct from (rating_scale = 1 and rating_min = 0 and rating_step = 1)
       and rated_review_count > 0
   -- the share recommended is thumbs' alone, within its interval, within 0..1
   or (recommended_share is not null) <> (rating_kind = 'thumbs' and rated_review_count > 0)
   or recommended_share_low > recommended_share or recommended_share > recommended_share_high
   or recommended_share_low < 0 or recommended_share_high > 1
