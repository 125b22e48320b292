-- agg_rating_sentiment_mismatches: review_id unique and present; ranks 1..n per title
select review_id, count(*) as n
from agg_rating_sentiment_mismatches
group by review_id
having review_id is null or count(*) > 1
union all
select title_id, max(rank)
from agg_rating_sentiment_mismatches
group by title_id
having max(rank) <> count(*) or count(distinct rank) <> count(*)
