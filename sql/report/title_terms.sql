-- The terms section: the top praise, complaint and distinctive terms (agg_title_terms) of the first
-- $term_titles titles of each leaderboard, in leaderboard order, then side and rank.
-- grain: one row per (title_id, side, rank)
with board as (
    select * from leaderboard_titles
    where position <= $term_titles
),

terms as (
    select * from agg_title_terms
),

final as (
    select
        board.source,
        board.rating_kind,
        board.rating_min,
        board.rating_step,
        board.rating_scale,
        board.position,
        board.title_id,
        board.title_name,
        board.has_title,
        terms.side,
        terms.rank,
        terms.term,
        terms.negative_reviews,
        terms.positive_reviews,
        terms.middle_reviews + terms.unrated_reviews as other_reviews,
        terms.z_score,
        terms.sentence_mentions,
        terms.sentence_sentiment_mean,
        terms.example
    from board
    join terms using (title_id)
)

select * from final
order by source, rating_scale desc, position, side, rank
