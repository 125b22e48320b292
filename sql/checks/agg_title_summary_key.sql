-- agg_title_summary: title_id is present and unique
select title_id, count(*) as n
from agg_title_summary
group by title_id
having title_id is null or count(*) > 1
