-- A title's source: the one holding most of its reviews (ties: the first by name), so a title
-- reviewed in two sources is ranked once, with the titles of the source most of its reviews come
-- from; source_count is the number of sources reviewing it. grain: one row per reviewed title;
-- key: title_id
-- Built once per report as a temporary table (the published file stays read-only): the
-- leaderboard, the distribution and the trends read it, and it groups every review.
with reviewed as (
    select title_id, source from reviews
),

final as (
    select
        title_id,
        source,
        count(*) over (partition by title_id) as source_count
    from reviewed
    group by title_id, source
    qualify row_number() over (partition by title_id order by count(*) desc, source) = 1
)

select * from final
