-- agg_sentiment_agreement: a title row names its title; rates within bounds
-- The rest of the check agg_sentiment_agreement_key: its key, (scope, title_id, rating_scale), one
-- row per title and one per rating scale overall, is checked first (reviewpipe.schema).
select scope, title_id, rating_scale, spearman_whole, label_agreement_whole
from agg_sentiment_agreement
where (scope = 'title' and title_id is null)
    or spearman_whole not between -1 and 1
    or label_agreement_whole not between 0 and 1
