-- reviews: 0 <= Wilson bound <= ratio <= 1, helpful votes never exceed total votes, and no ratio
-- or bound where the total is unknown (helpful votes alone are not "12 of 12")
select review_id, helpful_votes, total_votes, helpful_ratio, helpful_wilson_lb
from reviews
where helpful_votes > total_votes
   or helpful_ratio < 0 or helpful_ratio > 1
   or helpful_wilson_lb < 0
   or helpful_wilson_lb > coalesce(helpful_ratio, 0) + 1e-12
   or (total_votes is null and (helpful_ratio is not null or helpful_wilson_lb is not null))
