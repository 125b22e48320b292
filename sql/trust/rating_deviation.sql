-- rating_deviation: the reviews of reviewers with at least $deviation_min_reviews rated reviews
-- measured against a consensus whose mean signed distance from it is at least $deviation_threshold
-- of the scale's span. A title's consensus for a review is the mean rating of the OTHER reviewers'
-- reviews of the title (titles with at least 2 of them): a reviewer is not their own consensus.
-- grain: one row per review in the subset; key: row_id (trust_reviews).
with rated as (
    select * from trust_reviews where rating is not null
),

titles as (
    select title_id, count(*) as n, sum(rating_units) as units
    from rated
    group by title_id
),

-- only reviewers with enough rated reviews can qualify: the rest are left out before the joins
candidates as (
    select * from rated where reviewer_rated >= $deviation_min_reviews
),

own as (
    select title_id, reviewer_no, count(*) as n, sum(rating_units) as units
    from candidates
    group by title_id, reviewer_no
),

distances as (
    select
        candidates.reviewer_no,
        candidates.review_id,
        -- in units of the span: comparable across scales
        (candidates.rating_units - (titles.units - own.units) / (titles.n - own.n)) / 1000.0
            / candidates.rating_span as distance
    from candidates
    join own using (title_id, reviewer_no)
    join titles using (title_id)
    where titles.n - own.n >= 2
),

reviewers as (
    -- averaged in review order: the same bits in every run, whatever order threads add in
    select reviewer_no, count(*) as measured, avg(distance order by review_id) as mean_distance
    from distances
    group by reviewer_no
    having count(*) >= $deviation_min_reviews
        and abs(avg(distance order by review_id)) >= $deviation_threshold
),

final as (
    select
        reviews.row_id,
        'rating_deviation' as test,
        'the reviewer rates ' || round(abs(reviewers.mean_distance), 2)::varchar || ' of the scale '
            || case when reviewers.mean_distance > 0 then 'above' else 'below' end
            || ' titles'' consensus over ' || reviewers.measured || ' reviews' as detail
    from trust_reviews as reviews
    join reviewers using (reviewer_no)
)

select * from final
