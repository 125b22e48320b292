-- reviews: 0 <= Wilson bound <= ratio <= 1, and helpful votes never exceed total votes
select review_id, helpful_votes, total_votes, helpful_ratio, helpful_wilson_lb
from reviews
where helpful_votes > total_votes
   or helpful_ratio < 0 or helpful_ratio > 1
   or helpful_wilson_lb < 0
   or helpful_wilson_lb > coalesce(helpful_ratio, 0) + 1e-12
