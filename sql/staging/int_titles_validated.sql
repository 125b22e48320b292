-- Every raw title row typed and cleaned, with the problems that keep it out of stg_titles.
-- grain: one row per raw_titles row; key: (source, file_path, row_number)
with raw as (
    select * from raw_titles
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
        title_id as raw_title_id,
        year as raw_year,
        site_rating as raw_site_rating,
        site_votes as raw_site_votes,
        user_review_count as raw_user_review_count,
        critic_review_count as raw_critic_review_count,
        clean_key(title_id) as title_id,  -- keys: ends trimmed, inside as given
        clean_line(title) as title,
        -- the year of a date ("1975-01-01"; "0044-03-15 (BC)" is no year 44), else four leading digits
        -- ("1975", "(1975)", "2011-2019"), not the first four of "12345"
        coalesce(
            year(case when is_holdable_date(parse_date(year)) then parse_date(year) end),
            case when parse_date(year) is null
                then parse_count(regexp_extract(year, '^\s*\(?([0-9]{4})([^0-9]|$)', 1)) end) as year,
        parse_rating(site_rating) as parsed_site_rating,
        parse_count(site_votes) as site_votes,
        parse_count(user_review_count) as user_review_count,
        parse_count(critic_review_count) as critic_review_count,
        clean_list(genres) as genres,
        clean_list(directors) as directors,
        clean_list(writers) as writers,
        clean_list(stars) as stars,
        clean_list(country) as country,
        clean_list(language) as language,
        -- "108", "108 min": not the leading digits of "2h 30min", "1e308" or "2.9K"
        parse_count(regexp_extract(runtime_minutes, '^\s*([0-9][0-9,]*)\s*(min|mins|minutes)?\s*$', 1, 'i'))
            as runtime_minutes,
        parse_count(popularity) as popularity,  -- the site's popularity rank, "3,939"
        clean_key(related_to_title_id) as related_to_title_id,
        runtime_minutes as raw_runtime_minutes,
        popularity as raw_popularity
    from raw
),

-- a site rating out of another known scale is rescaled to the source's, as a review's rating is
rescaled as (
    select
        *,
        rescale_rating(parsed_site_rating.given, parsed_site_rating.out_of, rating_scale) as site_rating
    from typed
),

checked as (
    select
        *,
        list_concat(
            expression_problems(failed_fields),
            list_filter([
                case when title_id is null
                    then problem('title_id', raw_title_id, 'title_id is empty') end,
                -- year 0 is no year of the calendar dates use (0001..9999)
                case when (not is_blank(raw_year) and year is null) or year not between 1 and 9999
                    then problem('year', raw_year, 'year is not a year') end,
                case when not is_blank(raw_site_rating) and parsed_site_rating.given is null
                    then problem('site_rating', raw_site_rating, 'site_rating is not a number') end,
                case when parsed_site_rating.given is not null and site_rating is null
                    then problem('site_rating', raw_site_rating,
                        'site_rating ' || trim(raw_site_rating) || ' is not out of a known scale (5, 10, 100 or the source''s '
                        || 'rating_scale ' || rating_scale || '); give it on one of these') end,
                case when not site_rating between 0 and rating_scale  -- also -inf and inf
                    then problem('site_rating', raw_site_rating,
                        'site_rating is outside 0..' || rating_scale || ' (the source''s rating_scale)'
                        || case when parsed_site_rating.out_of <> rating_scale
                            then ': ' || trim(raw_site_rating) || ' is ' || site_rating || ' on that scale'
                            else '' end) end,
                case when (not is_blank(raw_site_votes) and site_votes is null) or site_votes < 0
                    then problem('site_votes', raw_site_votes, 'site_votes is not a count') end,
                case when site_votes > max_count()
                    then problem('site_votes', raw_site_votes, too_large('site_votes')) end,
                case when user_review_count > max_count()
                    then problem('user_review_count', raw_user_review_count, too_large('user_review_count')) end,
                case when critic_review_count > max_count()
                    then problem('critic_review_count', raw_critic_review_count,
                        too_large('critic_review_count')) end,
                case when runtime_minutes > max_count()
                    then problem('runtime_minutes', raw_runtime_minutes, too_large('runtime_minutes')) end,
                case when popularity > max_count()
                    then problem('popularity', raw_popularity, too_large('popularity')) end,
                case when (not is_blank(raw_user_review_count) and user_review_count is null)
                        or user_review_count < 0
                    then problem('user_review_count', raw_user_review_count,
                        'user_review_count is not a count') end,
                case when (not is_blank(raw_critic_review_count) and critic_review_count is null)
                        or critic_review_count < 0
                    then problem('critic_review_count', raw_critic_review_count,
                        'critic_review_count is not a count') end,
                case when (not is_blank(raw_runtime_minutes) and runtime_minutes is null)
                        or runtime_minutes < 0
                    then problem('runtime_minutes', raw_runtime_minutes,
                        'runtime_minutes is not a number of minutes') end,
                case when (not is_blank(raw_popularity) and popularity is null) or popularity < 0
                    then problem('popularity', raw_popularity, 'popularity is not a rank') end
            ], lambda p: p is not null)) as problems
    from rescaled
),

final as (
    select
        source,
        file_path,
        row_number,
        source_order,
        file_modified_at,
        title_id,
        title,
        count_value(year) as year,
        site_rating,
        count_value(site_votes) as site_votes,
        count_value(user_review_count) as user_review_count,
        count_value(critic_review_count) as critic_review_count,
        genres,
        directors,
        writers,
        stars,
        country,
        language,
        count_value(runtime_minutes) as runtime_minutes,
        count_value(popularity) as popularity,
        related_to_title_id,
        problems
    from checked
)

select * from final
