-- agg_monthly_trends: months hold all dated reviews
-- The rest of the check agg_monthly_trends_key: its key, (title_id, month), is checked first
-- (reviewpipe.schema).
select t.title_id, t.n as reviews_in_months, r.n as dated_reviews
from (select title_id, sum(review_count) as n from agg_monthly_trends group by title_id) t
join (select title_id, count(*) as n from reviews where review_date is not null group by title_id) r
    using (title_id)
where t.n <> r.n
