-- What reviewers praise and complain about, per title (reviewpipe.terms): the top terms of each
-- side with their counts per rating class, z-score, sentence mentions and an example sentence.
-- grain: one row per (title_id, side, rank); key: all three. Rebuilt whole every run: the prior is
-- every title's kept counts, which any run changes.
with terms as (
    select * from metric_title_terms
),

final as (
    select
        title_id,
        side,
        rank,
        term,
        term_words,
        negative_reviews,
        middle_reviews,
        positive_reviews,
        unrated_reviews,
        z_score,
        sentence_mentions,
        sentence_sentiment_mean,  -- mean VADER compound of the sentences mentioning the term
        example,
        example_review_id
    from terms
)

select * from final
