-- sentiment_score per source and rating point: its mean and box statistics (5th, 25th, 50th, 75th
-- and 95th percentiles), computed here so that no review rows are embedded in the page.
-- Only scored reviews: one whose language has no analyzer has no score (never 0); text_reviews
-- counts every rated review with a text, scored or not, so the page can say how many are left out.
-- grain: one row per (source, rating_scale, rating)
with texts as (
    select source, rating_scale, rating, sentiment_score
    from reviews
    where rating is not null and review_text is not null and rating_scale is not null
),

scored as (
    select * from texts where sentiment_score is not null
),

covered as (
    select source, rating_scale, rating, count(*) as text_reviews
    from texts
    group by source, rating_scale, rating
),

stats as (
    select
        source,
        rating_scale,
        rating,
        count(*) as reviews,
        avg(sentiment_score) as sentiment_mean,
        quantile_cont(sentiment_score, 0.05) as p05,
        quantile_cont(sentiment_score, 0.25) as q1,
        quantile_cont(sentiment_score, 0.5) as median,
        quantile_cont(sentiment_score, 0.75) as q3,
        quantile_cont(sentiment_score, 0.95) as p95
    from scored
    group by source, rating_scale, rating
),

final as (
    select stats.*, covered.text_reviews
    from stats
    join covered using (source, rating_scale, rating)
)

select * from final
order by source, rating_scale desc, rating
