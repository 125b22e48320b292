-- one_review_accounts: the reviews of reviewers with a single review in the warehouse (copies of one
-- writing onto a product's variants count once).
-- grain: one row per review in the subset; key: review_id.
with reviews as (
    select * from trust_reviews where reviewer is not null
),

reviewers as (
    select reviewer
    from reviews
    group by reviewer
    having count(distinct writing) = 1
),

final as (
    select
        reviews.review_id,
        'one_review_accounts' as test,
        'the reviewer''s only review' as detail
    from reviews
    join reviewers using (reviewer)
)

select * from final
