-- Every raw review row typed and cleaned (int_reviews_typed), with the list of problems that keep it
-- out of stg_reviews: its own, or being a second copy of a review.
-- grain: one row per raw_reviews row; key: (source, file_path, row_number)
-- not materialized: read twice, each read gets the caller's filters (a restage of a few review ids)
with checked as not materialized (
    select * from int_reviews_typed
),

-- review ids given by more than one usable row: most ids have one, and only these are ranked
-- (finding these costs much less than ranking every id)
repeated as (
    select review_id
    from checked
    where len(problems) = 0
    group by review_id
    having count(*) > 1
),

-- the same review twice (same id) keeps one occurrence: the first source in the config, then the
-- file whose path sorts last (exports and saves named so that later ones sort later, e.g. by date,
-- have the newer votes), then the first row of that file. Only paths and rows decide, never a
-- file's time, so an incremental run ranks as a whole build over the same files does.
-- Ranked on the keys alone, then joined back, so the window sorts no texts.
ranked as (
    select
        source,
        file_path,
        row_number,
        review_id,
        row_number() over first_seen as occurrence,
        first_value(file_path) over first_seen as first_file,
        first_value(row_number) over first_seen as first_row
    from checked
    where len(problems) = 0 and review_id in (select review_id from repeated)
    window first_seen as (
        partition by review_id
        order by source_order, file_path desc, row_number
    )
),

final as (
    select
        checked.source,
        checked.file_path,
        checked.row_number,
        checked.rating_scale,
        checked.rating_min,
        checked.rating_step,
        checked.review_id,
        checked.title_id,
        checked.author,
        checked.review_date,
        checked.rating,
        checked.review_title,
        checked.review_text,
        checked.helpful_votes,
        checked.total_votes,
        checked.text_hash,
        checked.review_word_count,
        checked.declared_language,
        checked.reviewer_id,
        checked.verified_purchase,
        case when ranked.occurrence > 1
            then [problem('review_id', checked.review_id,
                          'duplicate of the review in ' || ranked.first_file || ' row ' || ranked.first_row)]
        else checked.problems end as problems
    from checked
    left join ranked using (source, file_path, row_number, review_id)
)

select * from final
