-- rating_deviation: the reviews of reviewers with at least $deviation_min_reviews rated reviews
-- measured against a consensus whose mean signed distance from it is at least $deviation_threshold
-- of the scale's span. A title's consensus for a review is the mean rating of the OTHER reviewers'
-- reviews of the title (titles with at least 2 of them): a reviewer is not their own consensus.
-- grain: one row per review in the subset; key: review_id.
with rated as (
    select * from trust_reviews where rating is not null
),

titles as (
    select title_id, count(*) as n, sum(rating_units) as units
    from rated
    group by title_id
),

own as (
    select title_id, reviewer, count(*) as n, sum(rating_units) as units
    from rated
    where reviewer is not null
    group by title_id, reviewer
),

distances as (
    select
        rated.reviewer,
        -- in units of the span: comparable across scales
        (rated.rating_units - (titles.units - own.units) / (titles.n - own.n)) / 1000.0
            / rated.rating_span as distance
    from rated
    join own using (title_id, reviewer)
    join titles using (title_id)
    where titles.n - own.n >= 2
),

reviewers as (
    select reviewer, count(*) as measured, avg(distance) as mean_distance
    from distances
    group by reviewer
    having count(*) >= $deviation_min_reviews
        and abs(avg(distance)) >= $deviation_threshold
),

final as (
    select
        reviews.review_id,
        'rating_deviation' as test,
        'the reviewer rates ' || round(abs(reviewers.mean_distance), 2)::varchar || ' of the scale '
            || case when reviewers.mean_distance > 0 then 'above' else 'below' end
            || ' titles'' consensus over ' || reviewers.measured || ' reviews' as detail
    from trust_reviews as reviews
    join reviewers using (reviewer)
)

select * from final
