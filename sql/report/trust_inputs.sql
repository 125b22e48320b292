-- What each source's reviews give the trust tests, to say why a test could not run on its titles:
-- its reviews, those with a known reviewer (a reviewer_id, else an author name not in [trust]
-- anonymous_names, as the reviewer_key macro tells reviewers apart), a date, a text and a
-- verified-purchase flag. grain: one row per source; key: source
with reviewed as (
    select source, reviewer_id, author, review_date, review_text, verified_purchase from reviews
),

final as (
    select
        source,
        count(*) as reviews,
        count(*) filter (where reviewer_id is not null
                         or (author is not null and not list_contains($anonymous, lower(author))))
            as with_reviewer,
        count(review_date) as with_date,
        count(review_text) as with_text,
        count(verified_purchase) as with_verified_flag
    from reviewed
    group by source
)

select * from final
order by source
