-- titles: title_id is present and unique
select title_id, count(*) as n
from titles
group by title_id
having title_id is null or count(*) > 1
