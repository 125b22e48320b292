-- The staged reviews as the trust tests see them, each alone: who wrote it (reviewer_key: null =
-- nobody known), its day, its rating on the title's scale, whether it has a text and a verified flag.
-- grain: one row per staged review; key: review_id. $anonymous: [trust] anonymous_names.
-- reviewpipe.trust.subsets keeps these rows, with their reviewers' histories, in trust_reviews_kept
-- (sql/trust/trust_reviews.sql), made again for the review ids staging touched alone.
with staged as (
    select * from stg_reviews
),

final as (
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
)

select * from final
