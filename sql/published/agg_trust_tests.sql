-- The trust tests per title (reviewpipe.trust): the subset each test picks, whether it is unusually
-- large and rates the title differently, and the verdict.
-- grain: one row per (title_id, test); key: both. Rebuilt whole every run: a test can change with
-- reviews of other titles (a reviewer's second review, a copy elsewhere, the corrected p-values).
with tests as (
    select * from metric_trust_tests
),

final as (
    select
        title_id,
        test,
        tested_reviews,
        subset_reviews,
        subset_share,
        baseline_share,
        share_p_value,  -- corrected (Benjamini-Hochberg over every row)
        subset_rating_mean,
        rest_rating_mean,
        rating_difference,
        rating_z,
        rating_auc,
        rating_p_value,  -- corrected (Benjamini-Hochberg over every row)
        verdict,
        parameters
    from tests
)

select * from final
