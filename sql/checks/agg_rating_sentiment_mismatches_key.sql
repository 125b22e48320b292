-- agg_rating_sentiment_mismatches: ranks 1..n per title
-- The rest of the check agg_rating_sentiment_mismatches_key: its key, review_id, is checked first
-- (reviewpipe.schema).
select title_id, max(rank) as max_rank, count(*) as n
from agg_rating_sentiment_mismatches
group by title_id
having max(rank) <> count(*) or count(distinct rank) <> count(*)
