-- agg_helpfulness: shares are shares; the counts nest
-- Voted reviews have a known total; reviews with a total and helpful-only reviews are of the
-- title's reviews. The rest of the check agg_helpfulness_key: its key, title_id, is checked first
-- (reviewpipe.schema).
select title_id, voted_share, helpful_share, voted_reviews, reviews_with_total, helpful_only_reviews,
    review_count
from agg_helpfulness
where voted_share not between 0 and 1
    or helpful_share not between 0 and 1
    or voted_reviews > reviews_with_total
    or reviews_with_total + helpful_only_reviews > review_count
