-- The trust section's header: titles tested ([trust] min_title_reviews rated reviews or more),
-- those whose worst verdict is fail, warn or pass, and the failing ones outside the leaderboards
-- shown (--max-titles). grain: one row
with summary as (
    select title_id, trust_verdict from agg_title_summary
    where trust_verdict is not null
),

final as (
    select
        count(*) as tested_titles,
        count(*) filter (where trust_verdict = 'fail') as failing_titles,
        count(*) filter (where trust_verdict = 'warn') as warning_titles,
        count(*) filter (where trust_verdict = 'pass') as passing_titles,
        count(*) filter (where trust_verdict = 'fail'
                         and title_id not in (select title_id from leaderboard_titles))
            as failing_titles_not_shown
    from summary
)

select * from final
