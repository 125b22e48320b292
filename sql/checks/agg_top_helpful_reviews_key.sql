-- agg_top_helpful_reviews: (title_id, rank) unique, ranks 1..n without gaps, reviews exist
select t.title_id, t.rank, t.review_id
from agg_top_helpful_reviews t
left join reviews r using (review_id)
where r.review_id is null
   or t.rank < 1
   or t.rank > (select count(*) from agg_top_helpful_reviews x where x.title_id = t.title_id)
   or (select count(*) from agg_top_helpful_reviews x where x.title_id = t.title_id and x.rank = t.rank) > 1
