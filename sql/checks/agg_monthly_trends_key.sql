-- agg_monthly_trends: (title_id, month) present and unique; months hold all dated reviews
select title_id, month, count(*) as n
from agg_monthly_trends
group by title_id, month
having title_id is null or month is null or count(*) > 1
union all
select t.title_id, null, t.n
from (select title_id, sum(review_count) as n from agg_monthly_trends group by title_id) t
join (select title_id, count(*) as n from reviews where review_date is not null group by title_id) r
    using (title_id)
where t.n <> r.n
