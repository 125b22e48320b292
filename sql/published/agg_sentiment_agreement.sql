-- How well the words agree with the stars: per title, and overall per rating scale.
-- grain: one row per (scope, title_id, rating_scale); overall rows have a null title_id
with agreement as (
    select * from metric_sentiment_agreement
),

final as (
    select
        scope,
        title_id,
        rating_scale,
        compared_reviews,
        spearman_whole,
        spearman_sentence,
        label_agreement_whole,
        label_agreement_sentence
    from agreement
)

select * from final
order by scope desc, title_id, rating_scale
