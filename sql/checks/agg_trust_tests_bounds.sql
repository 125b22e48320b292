-- agg_trust_tests: shares, p-values and rating_auc are shares and probabilities, the subset is of the tested reviews, the rating statistics agree, and a verdict says what its figures say
-- The rule of the verdicts (README, "Trust tests") is checked against the parameters each row names:
-- fail only where both questions hold or the share question holds for a subset of at least
-- dominant_min_reviews reviews and dominant_share of the tested reviews, pass only where neither does. The span of the scale is the
-- title's (agg_title_summary). A difference within 1e-9 of the span below the floor reaches it
-- (stats.EFFECT_TOLERANCE: the means are floating point).
with tests as (
    select * from agg_trust_tests
),

titles as (
    select title_id, rating_scale - rating_min as span from agg_title_summary
),

ruled as (
    select
        tests.*,
        titles.span,
        regexp_extract(parameters, '(^|;)alpha=([^;]+)', 2)::double as alpha,
        regexp_extract(parameters, '(^|;)min_subset_reviews=([^;]+)', 2)::double as min_subset_reviews,
        regexp_extract(parameters, '(^|;)min_share_ratio=([^;]+)', 2)::double as min_share_ratio,
        regexp_extract(parameters, '(^|;)min_rating_effect=([^;]+)', 2)::double as min_rating_effect,
        regexp_extract(parameters, '(^|;)dominant_share=([^;]+)', 2)::double as dominant_share,
        regexp_extract(parameters, '(^|;)dominant_min_reviews=([^;]+)', 2)::double as dominant_min_reviews
    from tests
    left join titles using (title_id)
),

answered as (
    select
        *,
        coalesce(share_p_value < alpha and subset_share >= min_share_ratio * baseline_share
                 and subset_reviews >= min_subset_reviews, false) as share_holds,
        coalesce(rating_p_value < alpha and abs(rating_difference) >= (min_rating_effect - 1e-9) * span, false)
            as rating_holds
    from ruled
)

select title_id, test, tested_reviews, subset_reviews, subset_share, baseline_share, share_p_value,
    rating_z, rating_auc, rating_p_value, rating_difference, span, verdict, parameters
from answered
where subset_reviews not between 0 and tested_reviews
    or subset_share not between 0 and 1
    or baseline_share not between 0 and 1
    or share_p_value not between 0 and 1
    or rating_p_value not between 0 and 1
    or rating_auc not between 0 and 1
    -- the rating question answers with its statistic, its effect and its p-value, or not at all
    or (rating_z is null) <> (rating_p_value is null)
    or (rating_auc is null) <> (rating_p_value is null)
    -- z > 0 is the subset rating higher: more than half its pairs with the rest won
    or (rating_z > 0 and rating_auc <= 0.5)
    or (rating_z < 0 and rating_auc >= 0.5)
    or verdict not in ('fail', 'warn', 'pass')
    or verdict is null
    or span is null
    or (verdict = 'fail') <> (share_holds and (rating_holds or (subset_share >= dominant_share
                                                             and subset_reviews >= dominant_min_reviews)))
    or (verdict = 'pass') <> (not share_holds and not rating_holds)
    -- the parameters a verdict is re-derived from are all named, and incentivized names its pattern list
    or alpha is null or min_subset_reviews is null or min_share_ratio is null or min_rating_effect is null
    or dominant_share is null or dominant_min_reviews is null
    or (test = 'incentivized'
        and not regexp_matches(parameters, '(^|;)disclosure_patterns=[0-9]+:[0-9a-f]{8}(;|$)'))
