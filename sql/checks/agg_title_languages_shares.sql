-- agg_title_languages: shares in [0, 1] summing to 1 per title, scored within counted, counts match the title summary
-- A title's rows count each of its reviews with a text once (reviews' review_word_count > 0: staging
-- makes an empty text null) and the scored ones among them (agg_title_summary.scored_review_count).
-- The rest of the check agg_title_languages_key: its key, (title_id, review_language), is checked
-- first (reviewpipe.schema).
with per_title as (
    select
        title_id,
        sum(review_share) as share_sum,
        sum(review_count) as texts,
        sum(scored_review_count) as scored,
        count(*) filter (where review_share not between 0 and 1
                            or review_count < 1
                            or scored_review_count not between 0 and review_count) as bad_rows
    from agg_title_languages
    group by title_id
),

texts as (
    select title_id, count(*) as texts
    from reviews
    where review_word_count > 0
    group by title_id
),

final as (
    select
        coalesce(per_title.title_id, texts.title_id) as title_id,
        per_title.share_sum,
        per_title.texts,
        texts.texts as reviews_with_text,
        per_title.scored,
        s.scored_review_count,
        per_title.bad_rows
    from per_title
    full join texts using (title_id)
    left join agg_title_summary as s on s.title_id = coalesce(per_title.title_id, texts.title_id)
    where abs(per_title.share_sum - 1) > 1e-9
        or per_title.bad_rows > 0
        or per_title.texts is distinct from texts.texts
        or per_title.scored is distinct from s.scored_review_count
)

select * from final
