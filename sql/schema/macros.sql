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
-- DuckDB's trim copies the whole text (10 us per review), so only texts with an end to trim go in.
create or replace temp macro clean_text_ends(t) as
    case when starts_with(t, ' ') or starts_with(t, chr(10)) or ends_with(t, ' ') or ends_with(t, chr(10))
        then trim(t, chr(10) || ' ') else t end;
-- The steps are chained through a one-element list so that each one's argument is a lambda parameter:
-- macros nested directly copy their argument's whole expression into each of its uses, and the copies
-- multiply (planning the typing of one file took 150 ms instead of 2 ms).
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

-- One problem that keeps a row out of a stg_ table, as quarantine lists it.
create or replace temp macro problem(column_name, raw_value, reason) as
    {'column_name': column_name, 'raw_value': raw_value::varchar, 'reason': reason};

-- The problems of the configured expressions that raised an error on a row (the row's failed_fields).
create or replace temp macro expression_problems(failed_fields) as list_transform(failed_fields,
    lambda f: problem(f, null, 'the configured expression for ' || f
        || ' raised an error on this row; fix the value or the expression'));

-- True when a text cell holds nothing.
create or replace temp macro is_blank(t) as t is null or trim(t) = '';

-- A count as people write it: "34,370", "2.9K", "1.2M", "57"; null when it is none of these.
create or replace temp macro parse_count(t) as (
    case
        when is_blank(t) then null
        when regexp_full_match(trim(t), '[0-9]+(\.[0-9]+)?\s*[kKmM]')
            then round(
                try_cast(regexp_extract(trim(t), '^[0-9]+(\.[0-9]+)?', 0) as double)
                * (case when upper(right(trim(t), 1)) = 'K' then 1000 else 1000000 end))::bigint
        when regexp_full_match(trim(t), '-?[0-9]{1,3}(,[0-9]{3})+')
            then try_cast(replace(trim(t), ',', '') as bigint)
        when regexp_full_match(trim(t), '-?[0-9]+(\.0+)?')
            then try_cast(try_cast(trim(t) as double) as bigint)  -- "57", "57.0" (JSON exports)
    end);

-- A rating as people write it: "8", "8.1", "8.1/10"; null when it is not a number.
create or replace temp macro parse_rating(t) as (
    case
        when is_blank(t) then null
        else try_cast(regexp_extract(trim(t), '^(-?[0-9]+(\.[0-9]+)?)\s*(/\s*[0-9]+)?$', 1) as double)
    end);

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

-- A list written as text ("Drama | War", "Drama,Romance", "[Action, Drama]") as "Drama, War".
create or replace temp macro clean_list(t) as nullif(array_to_string(list_filter(
    list_transform(
        regexp_split_to_array(regexp_replace(trim(t), '^\[|\]$', '', 'g'), '\s*[|,]\s*'),
        lambda x: trim(x, ' "''')),
    lambda x: x <> ''), ', '), '');
