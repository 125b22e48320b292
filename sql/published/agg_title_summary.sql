-- Per-title summary: counts, rating statistics, comparable ratings, distribution shape, votes,
-- sentiment. grain: one row per title; key: title_id
with summary as (
    select * from metric_title_summary
),

comparable as (
    select * from metric_comparable_ratings
),

shape as (
    select * from metric_rating_shape
),

trust as (
    select * from metric_title_trust
),

final as (
    select
        summary.title_id,
        summary.title,
        summary.review_count,
        summary.rated_review_count,
        summary.rating_mean,
        summary.rating_median,
        summary.rating_stddev,
        summary.site_rating,
        summary.site_votes,
        summary.helpful_votes,
        summary.total_votes,
        summary.sentiment_mean,
        summary.positive_share,
        summary.neutral_share,
        summary.negative_share,
        -- sentiment covers [sentiment] languages: every sentiment figure is over the scored reviews
        summary.scored_review_count,
        summary.scored_share,
        summary.rating_scale,
        summary.rating_min,
        summary.rating_step,
        summary.rating_kind,
        comparable.weighted_rating,
        comparable.bayesian_rating,
        comparable.rating_ci_low,
        comparable.rating_ci_high,
        -- thumbs only: the share of rated reviews that recommend the title, and its Wilson interval
        comparable.recommended_share,
        comparable.recommended_share_low,
        comparable.recommended_share_high,
        comparable.weighted_site_rating,
        shape.rating_entropy,
        shape.extreme_share,
        shape.bimodality_coefficient,
        shape.rating_skewness,
        coalesce(shape.is_polarized, false) as is_polarized,
        summary.whole_text_sentiment_mean,
        summary.sentence_sentiment_mean,
        summary.first_review_date,
        summary.last_review_date,
        summary.helpful_only_votes,
        -- the trust tests (agg_trust_tests): the worst verdict, the failing tests, and the mean
        -- rating without their subsets, beside rating_mean (never replacing it)
        trust.trust_verdict,
        trust.failed_tests,
        trust.adjusted_rating,
        trust.adjusted_review_count
    from summary
    left join comparable using (title_id)
    left join shape using (title_id)
    left join trust using (title_id)
)

select * from final
order by title_id
