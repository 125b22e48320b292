-- agg_helpfulness: title_id present and unique; shares are shares; the counts nest (voted reviews
-- have a known total; reviews with a total and helpful-only reviews are of the title's reviews)
select title_id, count(*) as n
from agg_helpfulness
group by title_id
having title_id is null or count(*) > 1
    or any_value(voted_share) not between 0 and 1
    or any_value(helpful_share) not between 0 and 1
    or any_value(voted_reviews) > any_value(reviews_with_total)
    or any_value(reviews_with_total) + any_value(helpful_only_reviews) > any_value(review_count)
