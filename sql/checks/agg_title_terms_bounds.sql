-- agg_title_terms: a known side, ranks from 1 without a gap, z at least where the side's group uses the term, counts and means in their ranges, the example's review of the title
-- The z-scores fall with the rank; a praise term is used by a positive review, a complaint term by a
-- negative one; the example holds the term's words (lower-cased) and comes from a review of the title.
with terms as (
    select * from agg_title_terms
),

reviews as (
    select review_id, title_id from reviews
),

checked as (
    select
        terms.*,
        reviews.title_id as example_title_id,
        lag(z_score) over (partition by terms.title_id, side order by rank) as z_before,
        count(*) over (partition by terms.title_id, side) as side_terms,
        max(rank) over (partition by terms.title_id, side) as last_rank
    from terms
    left join reviews on reviews.review_id = terms.example_review_id
)

select title_id, side, rank, term, z_score, z_before, sentence_mentions, sentence_sentiment_mean, example,
    example_title_id
from checked
where side not in ('praise', 'complaint', 'distinctive')
    or rank < 1 or last_rank <> side_terms
    or term is null or term = '' or term_words not between 1 and 3
    or z_score is null or z_score > z_before
    or least(negative_reviews, middle_reviews, positive_reviews, unrated_reviews) < 0
    or (side = 'praise' and positive_reviews < 1)
    or (side = 'complaint' and negative_reviews < 1)
    or negative_reviews + middle_reviews + positive_reviews + unrated_reviews < 1
    or sentence_mentions < 1
    or sentence_sentiment_mean not between -1 and 1
    or example is null
    -- (the term's words are lower-cased, with curly apostrophes and the dotted capital I written as ASCII)
    or not contains(lower(replace(replace(replace(example, '’', ''''), '‘', ''''), 'İ', 'i')), split_part(term, ' ', 1))
    or example_title_id is distinct from title_id
