-- Parsing and cleaning rules shared by the staging models. Each takes text as it arrived in a raw table.

-- Review and title text: HTML line breaks become newlines, entities are decoded (&amp; &#39; &nbsp; ...),
-- runs of spaces (tabs, form feeds, no-break spaces) collapse, at most one blank line is kept, and an
-- empty result is null. Each step runs only on texts that hold what it replaces: most texts hold none.
create or replace temp macro clean_text_breaks(t) as
    case when contains(t, '<') then regexp_replace(t, '<br\s*/?>', chr(10), 'gi') else t end;
create or replace temp macro clean_text_entities(t) as
    case when contains(t, '&') then decode_html_entities(t) else t end;
create or replace temp macro clean_text_spaces(t) as
    case when contains(t, chr(9)) or contains(t, chr(13)) or contains(t, chr(12)) or contains(t, chr(160))
            or contains(t, '  ')
        then regexp_replace(replace(t, chr(13) || chr(10), chr(10)), '[ \t\r\f\x{00A0}]+', ' ', 'g')
        else t end;
create or replace temp macro clean_text_lines(t) as
    case when contains(t, chr(10))
        then regexp_replace(regexp_replace(t, ' ?\n ?', chr(10), 'g'), '\n{3,}', chr(10) || chr(10), 'g')
        else t end;
-- DuckDB's trim copies the whole text, so only texts with an end to trim go in.
create or replace temp macro clean_text_ends(t) as
    case when starts_with(t, ' ') or starts_with(t, chr(10)) or ends_with(t, ' ') or ends_with(t, chr(10))
        then trim(t, chr(10) || ' ') else t end;
-- The steps are chained through a one-element list so that each one's argument is a lambda parameter:
-- macros nested directly copy their argument's whole expression into each of its uses, and the copies
-- multiply (planning the typing of one file took many times longer).
create or replace temp macro clean_text(t) as nullif(
    [t].list_transform(lambda x: clean_text_breaks(x))
        .list_transform(lambda x: clean_text_entities(x))
        .list_transform(lambda x: clean_text_spaces(x))
        .list_transform(lambda x: clean_text_lines(x))
        .list_transform(lambda x: clean_text_ends(x))[1],
    '');

-- Words in a cleaned text (runs of characters between spaces and line breaks; clean_text leaves no
-- other whitespace and no run of spaces): separators + 1, counted without splitting the text. Each
-- `replace` copies the text, so the line-break terms are taken only for texts with a line break;
-- strlen (bytes) gives the same differences as length (characters) and need not decode UTF-8.
create or replace temp macro word_count(t) as coalesce(
    strlen(t) - strlen(replace(t, ' ', ''))
    + case when contains(t, chr(10))
        then strlen(t) - strlen(replace(t, chr(10), ''))
            - (strlen(t) - strlen(replace(t, chr(10) || chr(10), ''))) // 2
        else 0 end
    + 1, 0);

-- A one-line value (names, titles, ids): all whitespace collapses to single spaces. The regular
-- expression runs only on values that hold what it replaces (its \s is tab, line feed, form feed,
-- carriage return and space); chained through a list as clean_text is.
create or replace temp macro clean_line_spaces(t) as
    case when contains(t, '  ') or contains(t, chr(9)) or contains(t, chr(10)) or contains(t, chr(12))
            or contains(t, chr(13))
        then regexp_replace(t, '\s+', ' ', 'g') else t end;
create or replace temp macro clean_line(t) as nullif(trim(
    [t].list_transform(lambda x: case when contains(x, '&') then decode_html_entities(x) else x end)
        .list_transform(lambda x: clean_line_spaces(x))[1]), '');

-- A key (review_id, title_id, related_to_title_id) as the source gives it: only whitespace at its ends
-- (spaces, tabs, line ends) is trimmed, and an empty key is null. Its inside is never changed
-- ("John Wick Chapter 3  Parabellum", a real folder name, keeps its two spaces; entities stay as
-- written), so that a key joins every other file and table that gives it.
create or replace temp macro clean_key(t) as nullif(trim(t, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), '');

-- One problem that keeps a row out of a stg_ table, as quarantine lists it.
create or replace temp macro problem(column_name, raw_value, reason) as
    {'column_name': column_name, 'raw_value': raw_value::varchar, 'reason': reason};

-- The problems of the configured expressions that raised an error on a row (the row's failed_fields).
create or replace temp macro expression_problems(failed_fields) as list_transform(failed_fields,
    lambda f: problem(f, null, 'the configured expression for ' || f
        || ' raised an error on this row; fix the value or the expression'));

-- True when a text cell holds nothing.
create or replace temp macro is_blank(t) as t is null or trim(t) = '';

-- A count as people write it: "34,370", "2.9K", "1.2M", "57": the number it stands for, as a double
-- (exact for every whole number up to 2^53, so for every count staging keeps); null when it is none
-- of these. A double, not a bigint, so that "99999999999999999999K" is a number too large to keep
-- (quarantined for that, see max_count) rather than a cast error that stops staging.
create or replace temp macro parse_count(t) as (
    case
        when is_blank(t) then null
        when regexp_full_match(trim(t), '[0-9]+(\.[0-9]+)?\s*[kKmM]')
            then round(
                try_cast(regexp_extract(trim(t), '^[0-9]+(\.[0-9]+)?', 0) as double)
                * (case when upper(right(trim(t), 1)) = 'K' then 1000 else 1000000 end))
        when regexp_full_match(trim(t), '-?[0-9]{1,3}(,[0-9]{3})+')
            then try_cast(replace(trim(t), ',', '') as double)
        when regexp_full_match(trim(t), '-?[0-9]+(\.0+)?')
            then try_cast(trim(t) as double)  -- "57", "57.0" (JSON exports)
    end);

-- The largest count staging keeps (2^31 - 1): a sum of up to 2^32 (4 billion) such counts fits a
-- bigint (Int64 in Polars) exactly, and every count and every ratio of two is exact as a double.
create or replace temp macro max_count() as 2147483647;

-- The reason a count above max_count() is quarantined.
create or replace temp macro too_large(column_name) as
    column_name || ' is larger than 2147483647, the largest count kept (so that sums of counts stay exact)';

-- A parsed count (parse_count) as a bigint, or null when no bigint of at most max_count() holds it
-- (the row is quarantined for that reason then).
create or replace temp macro count_value(x) as
    case when x between -max_count() and max_count() then x::bigint end;

-- A rating as people write it: "8", "8.1", "8.1/10", "4 / 5": {'given': x, 'out_of': y}, y null when
-- none is written; both null when the text is not a number nor x/y ("ten", "4/5/6"). Chained
-- through a list as clean_text is, so the regular expression runs once.
create or replace temp macro parse_rating(t) as (
    [regexp_extract(trim(t), '^(-?[0-9]+(?:\.[0-9]+)?)\s*(?:/\s*([0-9]+(?:\.[0-9]+)?))?$', ['given', 'out_of'])]
        .list_transform(lambda r: {
            'given': try_cast(nullif(r.given, '') as double),
            'out_of': try_cast(nullif(r.out_of, '') as double)})[1]);

-- A parsed rating (parse_rating) on a scale of `scale` points: x itself when no y is written or y is
-- the scale, x * scale / y when y is one of the other known scales (5, 10, 100: "4/5" is 8 on a
-- 10-point scale); null when y is none of these ("3/7", "5/0"), as a rating out of it cannot be read.
create or replace temp macro rescale_rating(given, out_of, scale) as
    case
        when out_of is null or out_of = scale then given
        when out_of in (5, 10, 100) then given * scale / out_of
    end;

-- A thumbs rating as platforms export it (Steam's "Recommended" / "Not Recommended", voted_up
-- true/false, 1/0, 1/-1, yes/no, up/down, positive/negative, in any case): 1 recommended, 0 not;
-- null for any other text ("maybe"), which is quarantined.
create or replace temp macro thumbs_rating(t) as (
    case lower(trim(t))
        when 'recommended' then 1.0 when 'not recommended' then 0.0
        when 'true' then 1.0 when 'false' then 0.0
        when '1' then 1.0 when '0' then 0.0 when '-1' then 0.0
        when 'yes' then 1.0 when 'no' then 0.0
        when 'up' then 1.0 when 'down' then 0.0
        when 'positive' then 1.0 when 'negative' then 0.0
    end);

-- A verified-purchase flag as sites export it (Amazon's true/false and Y/N, 1/0, yes/no,
-- verified/unverified, in any case): true or false; null for blank and for any other text (which is
-- quarantined when not blank).
create or replace temp macro parse_flag(t) as (
    case lower(trim(t))
        when 'true' then true when 'false' then false
        when 'y' then true when 'n' then false
        when 'yes' then true when 'no' then false
        when '1' then true when '0' then false
        when 't' then true when 'f' then false
        when 'verified' then true when 'unverified' then false
    end);

-- Who wrote a review, for the trust tests: the source's reviewer_id, else its author name unless
-- that is one of `anonymous` (lower-cased names many people share: "a google user", "amazon
-- customer"); within the source (two sites' ids are not one person). Null: nobody known.
create or replace temp macro reviewer_key(source, reviewer_id, author, anonymous) as
    case
        when reviewer_id is not null then source || chr(31) || 'id' || chr(31) || reviewer_id
        when author is not null and not list_contains(anonymous, lower(author))
            then source || chr(31) || 'name' || chr(31) || author
    end;

-- A number as a reason shows it: 5, not 5.0; 0.5 and 9.6 as written.
create or replace temp macro number_text(x) as
    case when x = round(x) then x::bigint::varchar else x::varchar end;

-- True when a rating is a point of the scale rating_min, rating_min + rating_step, ... (up to
-- floating point error: 9.6 / 0.1 is 95.99999999999999); the range is checked apart.
create or replace temp macro is_scale_point(r, rating_min, rating_step) as
    abs((r - rating_min) / rating_step - round((r - rating_min) / rating_step)) < 1e-9;

-- The scale's points in words, for a reason: "1..5 in steps of 0.5 (rating_min = 1, rating_step = 0.5)".
create or replace temp macro scale_points_text(rating_min, rating_step, rating_scale) as
    number_text(rating_min) || '..' || rating_scale || ' in steps of ' || number_text(rating_step)
    || ' (the source''s rating_min = ' || number_text(rating_min) || ', rating_step = '
    || number_text(rating_step) || ', rating_scale = ' || rating_scale || ')';

-- A date in the forms review exports use: ISO dates and timestamps, "3 September 2002",
-- "September 3, 2002", "3 Sep 2002", "Sep 3, 2002"; null when it is none of these or not a real day.
create or replace temp macro parse_date(t) as (
    case
        when is_blank(t) then null
        else coalesce(
            try_cast(trim(t) as date),
            try_cast(try_cast(trim(t) as timestamp) as date),
            try_cast(try_strptime(trim(t), ['%d %B %Y', '%B %d, %Y', '%d %b %Y', '%b %d, %Y']) as date))
    end);

-- True when a date lies in the window every later stage can hold: 0001-01-01..9999-12-31, the days
-- of Python's date (the report's), inside Polars' (whose month truncation panics on 'infinity').
-- DuckDB also accepts 'infinity', '-infinity', BC dates and years of 5 digits and more.
create or replace temp macro is_holdable_date(d) as d between date '0001-01-01' and date '9999-12-31';
create or replace temp macro date_out_of_range(column_name) as
    column_name || ' is outside 0001-01-01..9999-12-31, the dates later stages can hold';

-- A list written as text ("Drama | War", "Drama,Romance", "[Action, Drama]") as "Drama, War".
create or replace temp macro clean_list(t) as nullif(array_to_string(list_filter(
    list_transform(
        regexp_split_to_array(regexp_replace(trim(t), '^\[|\]$', '', 'g'), '\s*[|,]\s*'),
        lambda x: trim(x, ' "''')),
    lambda x: x <> ''), ', '), '');

-- The language whose analyzer scores a review, or null when it is not scored: the declared language
-- when there is one, else the detected one, when it is in `languages`; an undetermined ('und') text in
-- its detectors' best guess when that is in `languages` and score_undetermined. The same rule as
-- sentiment.scores_language (tests/test_language.py holds them equal).
create or replace temp macro scores_language(declared, detected, guess, languages, score_undetermined) as
    case
        when list_contains(languages, coalesce(declared, detected)) then coalesce(declared, detected)
        when coalesce(declared, detected) = 'und' and score_undetermined and list_contains(languages, guess)
            then guess
    end;
