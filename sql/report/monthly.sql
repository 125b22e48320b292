-- Per source, its trend_titles titles with most dated reviews, and their source's reviews per month
-- as sums (the page smooths them over months, which means cannot be): only that source's reviews,
-- so a title's lines are on one scale. text_review_count and scored_review_count say how much of
-- it sentiment covers. grain: one row per (source, title_id, month)
with dated as (
    select title_sources.source, reviews.title_id, count(*) as dated_reviews
    from reviews
    join title_sources using (title_id, source)
    where reviews.review_date is not null
    group by all
),

top as (
    select
        source,
        title_id,
        dated_reviews,
        row_number() over (partition by source order by dated_reviews desc, title_id)
            as position
    from dated
    qualify position <= $trend_titles
),

final as (
    select
        top.source,
        top.position,
        top.title_id,
        coalesce(summary.title, top.title_id) as title_name,
        -- a title without ratings has no scale in agg_title_summary: its source's top
        coalesce(summary.rating_kind, 'stars') as rating_kind,
        coalesce(summary.rating_min, 1.0) as rating_min,
        coalesce(summary.rating_step, 1.0) as rating_step,
        coalesce(summary.rating_scale, max(reviews.rating_scale)) as rating_scale,
        date_trunc('month', reviews.review_date)::date as month,
        count(*) as review_count,
        count(reviews.rating) as rated_review_count,
        sum(reviews.rating) as rating_sum,
        count(reviews.review_text) as text_review_count,
        count(reviews.sentiment_score) as scored_review_count,
        sum(reviews.sentiment_score) as sentiment_sum
    from reviews
    join top using (title_id, source)
    left join agg_title_summary as summary using (title_id)
    where reviews.review_date is not null
    group by top.source, top.position, top.title_id, summary.title, summary.rating_kind,
        summary.rating_min, summary.rating_step, summary.rating_scale, month
)

select * from final
order by source, position, month
