-- agg_title_summary's trust columns: the worst verdict and the failing tests of agg_trust_tests, and an adjusted rating of the rated reviews on the title's scale
with verdicts as (
    select
        title_id,
        max(case verdict when 'fail' then 2 when 'warn' then 1 else 0 end) as worst,
        count(*) filter (where verdict = 'fail') as failing
    from agg_trust_tests
    group by title_id
),

summary as (
    select * from agg_title_summary
)

select summary.title_id, summary.trust_verdict, summary.failed_tests, verdicts.worst, verdicts.failing,
    summary.adjusted_rating, summary.adjusted_review_count, summary.rated_review_count, summary.rating_mean
from summary
left join verdicts using (title_id)
where summary.trust_verdict is distinct from [null, 'pass', 'warn', 'fail'][verdicts.worst + 2]
    or coalesce(len(string_split(summary.failed_tests, ',')), 0) <> coalesce(verdicts.failing, 0)
    -- tested titles keep a count, at most their rated reviews; nothing fails: nothing is left out
    or (verdicts.worst is null) <> (summary.adjusted_review_count is null)
    or summary.adjusted_review_count > summary.rated_review_count
    or (verdicts.failing = 0 and (summary.adjusted_review_count <> summary.rated_review_count
                                  or summary.adjusted_rating is distinct from summary.rating_mean))
    or summary.adjusted_rating not between summary.rating_min - 1e-9 and summary.rating_scale + 1e-9
    or (summary.adjusted_rating is null) <> (coalesce(summary.adjusted_review_count, 0) = 0)
