-- one_review_accounts: the reviews of reviewers with a single review in the warehouse (copies of one
-- writing onto a product's variants count once).
-- grain: one row per review in the subset; key: row_id (trust_reviews).
with reviews as (
    select * from trust_reviews
),

final as (
    select row_id, 'one_review_accounts' as test, 'the reviewer''s only review' as detail
    from reviews
    where has_one_writing
)

select * from final
