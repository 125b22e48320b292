-- agg_sentiment_agreement: one row per title and one per rating scale overall; rates within bounds
select scope, title_id, rating_scale, count(*) as n
from agg_sentiment_agreement
group by scope, title_id, rating_scale
having count(*) > 1
    or (scope = 'title' and title_id is null)
    or any_value(spearman_whole) not between -1 and 1
    or any_value(label_agreement_whole) not between 0 and 1
