-- reviews: review_id is present and unique
select review_id, count(*) as n
from reviews
group by review_id
having review_id is null or count(*) > 1
