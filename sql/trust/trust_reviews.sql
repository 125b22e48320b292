-- The staged reviews as the trust tests see them: who wrote each (reviewer_key: null = nobody
-- known) with the reviewer's history, its day, its rating on the title's scale, whether it has a
-- text and a verified flag.
-- grain: one row per staged review; key: review_id (reviewpipe.trust.subsets adds row_id).
-- $anonymous: [trust] anonymous_names.
with staged as (
    select * from stg_reviews
),

reviews as (
    select
        review_id,
        title_id,
        source,
        reviewer_key(source, reviewer_id, author, $anonymous) as reviewer,
        review_date,
        rating,
        -- the rating in whole thousandths of a point (metrics' RATING_UNIT), for exact sums
        round(rating * 1000)::bigint as rating_units,
        rating_scale,
        -- the span of the scale, K - L: thumbs is 0..1, stars start at 1 unless the source says
        rating_scale - coalesce(rating_min, case when rating_scale = 1 then 0 else 1 end) as rating_span,
        -- one writing of a reviewer: Amazon 2018 copies one review onto every variant of a
        -- product (same text, same day), which is one review by its author, not several. A 64-bit
        -- hash: only two writings of one reviewer colliding could count them as one
        hash(coalesce(text_hash, review_id), review_date) as writing,
        text_hash is not null as has_text,
        text_hash,  -- the text tests' (reviewpipe.trust.texts reads this table)
        verified_purchase
    from staged
),

-- each reviewer's history over the whole warehouse, by min and max (cheaper than distinct counts
-- at a million reviews): one writing when its min and max are one; one day likewise
reviewers as (
    select
        reviewer,
        row_number() over () as reviewer_no,  -- a number for this run's joins
        count(rating) as reviewer_rated,  -- rated reviews (rating_deviation's floor)
        min(writing) = max(writing) as has_one_writing,
        count(review_date) = count(*) and min(review_date) = max(review_date) as is_one_day
    from reviews
    where reviewer is not null
    group by reviewer
),

final as (
    select
        reviews.*,
        reviewers.reviewer_no,
        reviewers.reviewer_rated,
        reviewers.has_one_writing,
        reviewers.is_one_day
    from reviews
    left join reviewers using (reviewer)
)

select * from final
