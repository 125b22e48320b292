-- unverified: the reviews the site does not mark as a verified purchase (where the source maps the
-- flag at all).
-- grain: one row per review in the subset; key: row_id (trust_reviews).
with reviews as (
    select * from trust_reviews
),

final as (
    select row_id, 'unverified' as test, 'not a verified purchase' as detail
    from reviews
    where verified_purchase = false
)

select * from final
