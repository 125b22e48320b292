-- agg_helpfulness: title_id present and unique; shares are shares
select title_id, count(*) as n
from agg_helpfulness
group by title_id
having title_id is null or count(*) > 1
    or any_value(voted_share) not between 0 and 1
    or any_value(helpful_share) not between 0 and 1
