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
        rating_scale,  -- the top of the scale; 1 is the thumbs scale (0 or 1)
        rating_min,
        rating_step,
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
        clean_key(reviewer_id) as reviewer_id,
        verified_purchase as raw_verified_purchase,
        parse_flag(verified_purchase) as verified_purchase,
        parse_date(review_date) as review_date,
        parse_rating(rating) as parsed_rating,
        clean_line(review_title) as review_title,
        clean_text(review_text) as review_text,
        parse_count(helpful_votes) as helpful_votes,  -- doubles until checked against max_count()
        parse_count(total_votes) as total_votes,
        -- the review's own review_language wins over its source's `language`; blank is no language
        -- (detected). Codes as sites give them: "es-MX", "pt_BR" and "ES" are es, pt and es.
        coalesce(nullif(trim(review_language), ''), source_language) as raw_review_language,
        lower(regexp_replace(trim(coalesce(nullif(trim(review_language), ''), source_language)),
            '[-_].*$', '')) as declared_language
    from raw
),

-- "4/5" on a 10-point source is 8: a rating out of another known scale is rescaled to the source's;
-- on the thumbs scale "Recommended", "true", "1" are 1 and "Not Recommended", "false", "-1" are 0
rescaled as (
    select
        *,
        case when rating_scale = 1 then thumbs_rating(raw_rating)
            else rescale_rating(parsed_rating.given, parsed_rating.out_of, rating_scale) end as rating
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
                case when rating_scale > 1 and not is_blank(raw_rating) and parsed_rating.given is null
                    then problem('rating', raw_rating, 'rating is not a number') end,
                case when rating_scale = 1 and not is_blank(raw_rating) and rating is null
                    then problem('rating', raw_rating,
                        'rating ' || trim(raw_rating) || ' is not a thumbs rating (the source''s rating_scale '
                        || 'is "thumbs": Recommended / Not Recommended, true / false, 1 / 0, 1 / -1, yes / no, '
                        || 'up / down or positive / negative, in any case); map rating to one of these, or set '
                        || 'rating_scale to the top of the numeric scale') end,
                case when rating_scale > 1 and parsed_rating.given is not null and rating is null
                    then problem('rating', raw_rating,
                        'rating ' || trim(raw_rating) || ' is not out of a known scale (5, 10, 100 or the source''s '
                        || 'rating_scale ' || rating_scale || '); give it on one of these') end,
                case when not rating between rating_min and rating_scale  -- also -inf and inf (too many digits)
                    then problem('rating', raw_rating,
                        'rating is outside ' || number_text(rating_min) || '..' || rating_scale
                        || case when rating_min = 1 then ' (the source''s rating_scale)'
                            else ' (the source''s rating_min..rating_scale)' end
                        || case when parsed_rating.out_of <> rating_scale
                            then ': ' || trim(raw_rating) || ' is ' || rating || ' on that scale' else '' end) end,
                case when rating between rating_min and rating_scale
                        and not is_scale_point(rating, rating_min, rating_step)
                    then problem('rating', raw_rating,
                        'rating ' || trim(raw_rating)
                        || case when parsed_rating.out_of <> rating_scale
                            then ' is ' || rating || ' on the source''s scale, which is' else ' is' end
                        || ' not a point of the scale ' || scale_points_text(rating_min, rating_step, rating_scale)
                        || '; set rating_step to the step between two neighbouring ratings (0.5 for half '
                        || 'stars, 0.1 for scores like 9.6)') end,
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
                -- helpful votes without a total (Yelp's useful, Steam's helpful) are kept: most sites
                -- count only that side; the review's ratio stays unknown (metrics.helpful_ratio)
                case when helpful_votes > total_votes
                    then problem('helpful_votes', raw_helpful_votes || ' of ' || raw_total_votes,
                        'helpful_votes is greater than total_votes') end,
                case when review_text is null and is_blank(raw_rating)
                    then problem('review_text', null::varchar, 'the review has neither text nor rating') end,
                case when not is_blank(raw_review_date) and review_date is null
                    then problem('review_date', raw_review_date,
                        'review_date is not a date (expected e.g. 2002-09-03 or 3 September 2002)') end,
                case when raw_review_language is not null and not regexp_full_match(declared_language, '[a-z]{2}')
                    then problem('review_language', raw_review_language,
                        'review_language is not an ISO 639-1 code (e.g. es, en); map review_language to a column '
                        || 'of two-letter codes (a region after - or _ is dropped: es-MX is es), or leave it '
                        || 'blank for the language to be detected') end,
                case when not is_blank(raw_verified_purchase) and verified_purchase is null
                    then problem('verified_purchase', raw_verified_purchase,
                        'verified_purchase is not a yes/no flag (true / false, Y / N, 1 / 0, yes / no, '
                        || 'verified / unverified, in any case); map verified_purchase to such a column, or '
                        || 'leave it unmapped') end,
                case when not is_holdable_date(review_date)
                    then problem('review_date', raw_review_date, date_out_of_range('review_date')) end
            ], lambda p: p is not null)) as problems
    from rescaled
)

select
    * exclude (raw_title_id, raw_review_date, raw_rating, raw_helpful_votes, raw_total_votes, parsed_rating,
               raw_review_language, raw_verified_purchase)
        replace (count_value(helpful_votes) as helpful_votes, count_value(total_votes) as total_votes,
                 -- a point of the scale as the decimal it is (9.6, not 0 + 96 × 0.1), as metrics lists them
                 round(rating, 3) as rating),
    md5(review_text) as text_hash,  -- key of the sentiment cache; null when there is no text
    word_count(review_text) as review_word_count,
    false as staged
from checked
