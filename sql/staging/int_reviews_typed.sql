-- Every raw review row typed and cleaned, with the list of problems found in the row itself.
-- grain: one row per raw_reviews row; key: (source, file_path, row_number)
-- Built incrementally (ingest.py): `raw_reviews_batch` is a view of the rows of the file just loaded
-- (or of every row, when the model changed), so each row's text is cleaned once, when it arrives.
-- `staged` is staging's mark (ingest.stage): the row is usable and its review's first copy, so
-- stg_reviews shows it. Rows arrive unmarked; the cleaned text is stored here alone.
with raw as (
    select * from raw_reviews_batch
),

typed as (
    select
        source,
        file_path,
        row_number,
        source_order,
        file_modified_at,
        rating_scale,
        failed_fields,
        -- as they arrived, for the quarantine's raw_value
        title_id as raw_title_id,
        review_date as raw_review_date,
        rating as raw_rating,
        helpful_votes as raw_helpful_votes,
        total_votes as raw_total_votes,
        clean_key(review_id) as given_review_id,  -- keys: ends trimmed, inside as given
        clean_key(title_id) as title_id,
        clean_line(author) as author,
        parse_date(review_date) as review_date,
        parse_rating(rating) as parsed_rating,
        clean_line(review_title) as review_title,
        clean_text(review_text) as review_text,
        parse_count(helpful_votes) as helpful_votes,  -- doubles until checked against max_count()
        parse_count(total_votes) as total_votes
    from raw
),

-- "4/5" on a 10-point source is 8: a rating out of another known scale is rescaled to the source's
rescaled as (
    select
        *,
        rescale_rating(parsed_rating.given, parsed_rating.out_of, rating_scale) as rating
    from typed
),

checked as (
    select
        *,
        -- a review without an id of its own is identified by what it says and, among records of
        -- the same content in its file, by the how-many-th it is: two rating-only reviews of one
        -- day stay two, while the same record in an overlapping later export keeps its id.
        -- (The partition is by a 64-bit hash of the content: a collision would only number two
        -- different contents together, whose ids differ anyway.)
        coalesce(given_review_id, md5(concat_ws(chr(31),
            source, coalesce(title_id, ''), coalesce(author, ''),
            coalesce(review_date::varchar, ''), coalesce(rating::varchar, ''),
            coalesce(review_title, ''), coalesce(review_text, ''),
            row_number() over (
                partition by source, file_path,
                    hash(title_id, author, review_date, rating, review_title, review_text)
                order by row_number)))) as review_id,
        list_concat(
            expression_problems(failed_fields),
            list_filter([
                case when title_id is null
                    then problem('title_id', raw_title_id,
                        'title_id is empty; every review needs the title it belongs to') end,
                case when not is_blank(raw_rating) and parsed_rating.given is null
                    then problem('rating', raw_rating, 'rating is not a number') end,
                case when parsed_rating.given is not null and rating is null
                    then problem('rating', raw_rating,
                        'rating ' || trim(raw_rating) || ' is not out of a known scale (5, 10, 100 or the source''s '
                        || 'rating_scale ' || rating_scale || '); give it on one of these') end,
                case when not rating between 1 and rating_scale  -- also -inf and inf (too many digits)
                    then problem('rating', raw_rating,
                        'rating is outside 1..' || rating_scale || ' (the source''s rating_scale)'
                        || case when parsed_rating.out_of <> rating_scale
                            then ': ' || trim(raw_rating) || ' is ' || rating || ' on that scale' else '' end) end,
                case when not is_blank(raw_helpful_votes) and helpful_votes is null
                    then problem('helpful_votes', raw_helpful_votes,
                        'helpful_votes is not a whole number') end,
                case when not is_blank(raw_total_votes) and total_votes is null
                    then problem('total_votes', raw_total_votes, 'total_votes is not a whole number') end,
                case when helpful_votes < 0
                    then problem('helpful_votes', raw_helpful_votes, 'helpful_votes is negative') end,
                case when total_votes < 0
                    then problem('total_votes', raw_total_votes, 'total_votes is negative') end,
                case when helpful_votes > max_count()
                    then problem('helpful_votes', raw_helpful_votes, too_large('helpful_votes')) end,
                case when total_votes > max_count()
                    then problem('total_votes', raw_total_votes, too_large('total_votes')) end,
                case when helpful_votes > total_votes
                    then problem('helpful_votes', raw_helpful_votes || ' of ' || raw_total_votes,
                        'helpful_votes is greater than total_votes') end,
                case when helpful_votes is not null and total_votes is null and is_blank(raw_total_votes)
                    then problem('total_votes', raw_total_votes,
                        'total_votes is missing while helpful_votes is given') end,
                case when review_text is null and is_blank(raw_rating)
                    then problem('review_text', null::varchar, 'the review has neither text nor rating') end,
                case when not is_blank(raw_review_date) and review_date is null
                    then problem('review_date', raw_review_date,
                        'review_date is not a date (expected e.g. 2002-09-03 or 3 September 2002)') end,
                case when not is_holdable_date(review_date)
                    then problem('review_date', raw_review_date, date_out_of_range('review_date')) end
            ], lambda p: p is not null)) as problems
    from rescaled
)

select
    * exclude (raw_title_id, raw_review_date, raw_rating, raw_helpful_votes, raw_total_votes, parsed_rating)
        replace (count_value(helpful_votes) as helpful_votes, count_value(total_votes) as total_votes),
    md5(review_text) as text_hash,  -- key of the sentiment cache; null when there is no text
    word_count(review_text) as review_word_count,
    false as staged
from checked
