-- agg_trust_flagged_reviews: each flagged review is a review of its title, in the subset of a test the title fails
select flagged.review_id, flagged.title_id, flagged.test, tests.verdict, reviews.title_id as review_title_id
from agg_trust_flagged_reviews as flagged
left join agg_trust_tests as tests using (title_id, test)
left join reviews using (review_id)
where tests.verdict is distinct from 'fail'
    or reviews.title_id is distinct from flagged.title_id
