-- reviews: every review belongs to a title and has text or a rating
select review_id
from reviews
where title_id is null or (review_text is null and rating is null)
