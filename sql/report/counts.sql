-- The page's headline counts: titles, titles with reviews, those without a rating, reviews,
-- reviews with a text, those with a sentiment score (the others' language has no analyzer) and
-- quarantined records (a record quarantined for several problems counted once). grain: one row
select
    (select count(*) from agg_title_summary) as titles,
    (select count(*) from agg_title_summary where review_count > 0) as reviewed_titles,
    (select count(*) from agg_title_summary where review_count > 0 and rated_review_count = 0)
        as unrated_titles,
    (select count(*) from reviews) as reviews,
    (select count(review_text) from reviews) as text_reviews,
    (select count(sentiment_score) from reviews) as scored_reviews,
    (select count(*) from (select distinct source, file_path, row_number, line_number
                           from quarantine)) as quarantined
