-- Who votes on reviews and what they find helpful, per title. grain: one row per title; key: title_id
-- Shares are over the reviews with a known total; helpful-only reviews are counted apart.
with helpfulness as (
    select * from metric_helpfulness
),

final as (
    select
        title_id,
        review_count,
        voted_reviews,
        voted_share,
        helpful_votes,
        total_votes,
        helpful_share,
        helpfulness_rating_spearman,
        helpfulness_length_spearman,
        reviews_with_total,
        helpful_only_reviews,
        helpful_only_votes
    from helpfulness
)

select * from final
order by title_id
