-- Rating histogram per title, every point of the title's scale listed (rating_min to rating_scale
-- in steps of rating_step; 0 and 1 on thumbs). grain: (title_id, rating)
with distribution as (
    select * from metric_rating_distribution
),

final as (
    select
        title_id,
        rating,
        review_count,
        share,  -- review_count / rated reviews of the title; a title's shares sum to 1
        rating_scale,
        rating_min,
        rating_step,
        rating_kind
    from distribution
)

select * from final
order by title_id, rating
