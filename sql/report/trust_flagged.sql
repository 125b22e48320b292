-- The flagged reviews to read first (agg_trust_flagged_reviews) of each failing leaderboard title:
-- those in most failing subsets first, then the most helpful (helpful votes), then by review_id;
-- the first flagged_rows of each title, with their tests and details in agg_trust_tests' order and
-- the title's count of flagged reviews. grain: one row per listed review; key: review_id
with flagged as (
    select * from agg_trust_flagged_reviews
    where title_id in (select title_id from leaderboard_titles)
),

per_review as (
    select
        title_id,
        review_id,
        count(*) as test_count,
        list({'test': test, 'detail': detail} order by list_position($tests, test)) as findings
    from flagged
    group by title_id, review_id
),

helpful as (
    select title_id, review_id, helpful_votes from reviews
    where title_id in (select title_id from flagged)
),

final as (
    select
        per_review.title_id,
        per_review.review_id,
        per_review.test_count,
        per_review.findings,
        helpful.helpful_votes,
        count(*) over (partition by per_review.title_id) as flagged_reviews,
        row_number() over (
            partition by per_review.title_id
            order by per_review.test_count desc, helpful.helpful_votes desc nulls last,
                per_review.review_id
        ) as position
    from per_review
    left join helpful using (title_id, review_id)
    qualify position <= $flagged_rows
)

select * from final
order by title_id, position
