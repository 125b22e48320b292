-- The staged reviews as the trust tests see them (sql/trust/trust_review_rows.sql) with their
-- reviewer's history over the warehouse (sql/trust/trust_reviewer_history.sql) and two numbers for
-- the tests' joins: row_id (a review's) and reviewer_no (a reviewer's; null = nobody known).
-- grain: one row per staged review; key: review_id, and row_id.
-- A whole build of trust_reviews_kept (reviewpipe.trust.subsets keeps it up to date after): reads
-- trust_history_rows (every staged review, trust_review_rows' columns and its row_id) and
-- trust_reviewer_history (their reviewers' histories), which reviewpipe.trust.subsets makes of those
-- models as it runs this one.
with reviews as (
    select * from trust_history_rows
),

reviewers as (
    select
        *,
        row_number() over () as reviewer_no  -- a number for the joins
    from trust_reviewer_history
),

final as (
    select
        reviews.*,
        reviewers.reviewer_no,
        reviewers.reviewer_rated,
        reviewers.has_one_writing,
        reviewers.is_one_day
    from reviews
    left join reviewers using (reviewer)
)

select * from final
