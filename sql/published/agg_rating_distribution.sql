-- Rating histogram per title, every whole point of the scale listed. grain: (title_id, rating)
with distribution as (
    select * from metric_rating_distribution
),

final as (
    select
        title_id,
        rating,
        review_count,
        share,  -- review_count / rated reviews of the title; a title's shares sum to 1
        rating_scale
    from distribution
)

select * from final
order by title_id, rating
