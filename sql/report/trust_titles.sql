-- The leaderboards' titles with their trust verdicts (agg_title_summary's trust columns), in
-- leaderboard order: the titles of the trust section. trust_verdict is null for a title with too
-- few rated reviews to test. grain: one row per leaderboard title; key: title_id
with board as (
    select * from leaderboard_titles
),

summary as (
    select
        title_id,
        rating_mean,
        trust_verdict,
        failed_tests,
        adjusted_rating,
        adjusted_review_count
    from agg_title_summary
),

final as (
    select
        board.source,
        board.source_count,
        board.rating_kind,
        board.rating_min,
        board.rating_step,
        board.rating_scale,
        board.position,
        board.title_id,
        board.title_name,
        board.has_title,
        board.rated_review_count,
        summary.rating_mean,
        board.recommended_share,  -- rating_mean as a share on thumbs (ratings 0/1)
        summary.trust_verdict,
        summary.failed_tests,
        summary.adjusted_rating,
        summary.adjusted_review_count
    from board
    join summary using (title_id)
)

select * from final
order by source, rating_scale desc, position
