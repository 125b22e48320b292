-- The working warehouse: what ingest loaded, what it rejected, what it has scored, and the run log.
-- Created if missing when a run opens the warehouse (warehouse.ensure_schema: skipped while the catalog
-- is what this script last made); staging, metrics and publishing rebuild everything else.

-- raw_reviews: one row per record read from a reviews source, every field as the text it arrived as.
-- grain: (source, file_path, row_number); row_number counts data records from 1 in file order.
-- Its fields, review_id..review_language, are reviewpipe.schema's REVIEW_FIELDS, in that order.
create table if not exists raw_reviews (
    source varchar not null,
    file_path varchar not null,
    row_number bigint not null,
    rating_scale integer not null,    -- the top of the source's scale; 1 is the thumbs scale (0 or 1)
    rating_min double default 1,      -- the scale's lowest point
    rating_step double default 1,     -- the step between two neighbouring points
    source_language varchar,          -- the source's `language` (settings.Source), as configured
    review_id varchar,
    title_id varchar,
    author varchar,
    review_date varchar,
    rating varchar,
    review_title varchar,
    review_text varchar,
    helpful_votes varchar,
    total_votes varchar,
    review_language varchar,
    reviewer_id varchar,
    verified_purchase varchar,
    failed_fields varchar[],          -- fields whose configured expression raised an error here
    source_order integer not null,    -- the source's position in the configuration, for tie-breaks
    file_modified_at timestamp,       -- the file's mtime at its load: kept for old warehouses, decides nothing
    run_id varchar not null
);

-- raw_titles: one row per record read from a titles source, as text.
-- Its fields, title_id..related_to_title_id, are reviewpipe.schema's TITLE_FIELDS, in that order
-- (a field added later is added below, for old warehouses, in the same order).
create table if not exists raw_titles (
    source varchar not null,
    file_path varchar not null,
    row_number bigint not null,
    rating_scale integer not null,
    title_id varchar,
    title varchar,
    year varchar,
    site_rating varchar,
    site_votes varchar,
    user_review_count varchar,
    critic_review_count varchar,
    genres varchar,
    directors varchar,
    writers varchar,
    stars varchar,
    country varchar,
    language varchar,
    runtime_minutes varchar,
    popularity varchar,
    related_to_title_id varchar,      -- set on "More Like This" titles of a saved IMDb page
    failed_fields varchar[],
    source_order integer not null,
    file_modified_at timestamp,       -- the file's mtime at its load: kept for old warehouses, decides nothing
    run_id varchar not null
);

-- raw_rejects: what a reader could not turn into a record (malformed lines) or a file it could not read
-- at all (line_number is null then).
create table if not exists raw_rejects (
    source varchar not null,
    kind varchar not null,
    file_path varchar not null,
    line_number bigint,
    column_name varchar,
    raw_value varchar,
    reason varchar not null,
    run_id varchar not null
);

-- load_log: one row per (source, file) ever seen; fingerprint = sha256 of the bytes and of the
-- source's configuration, so a changed file or a changed mapping reloads and an unchanged one is skipped.
create table if not exists load_log (
    source varchar not null,
    kind varchar not null,
    file_path varchar not null,
    fingerprint varchar not null,
    file_bytes bigint not null,
    status varchar not null,          -- loaded | unreadable
    records_read bigint not null,
    lines_rejected bigint not null,
    message varchar,
    run_id varchar not null,
    loaded_at timestamp not null,
    primary key (source, file_path)
);

-- sentiment_scores: each distinct cleaned text's language and its analyzer's scores, kept so a re-run
-- detects and scores only new texts. The scores are null when no analyzer read the text (its language
-- is not in [sentiment] languages).
create table if not exists sentiment_scores (
    text_hash varchar primary key,    -- md5 of the cleaned review text
    sentiment_compound double,
    sentiment_pos double,
    sentiment_neu double,
    sentiment_neg double,
    sentence_compound_mean double,    -- mean compound of the text's sentences
    sentence_count integer,           -- null on rows scored before sentences were: they are rescored
    positive_sentence_share double,
    negative_sentence_share double,
    review_language varchar,          -- detected (reviewpipe.language): ISO 639-1, or 'und'; null on rows from before languages: they are done again
    language_confidence double,
    language_guess varchar,           -- the detectors' best guess (the language itself unless 'und')
    sentiment_language varchar,       -- the language whose analyzer gave the scores; null when unscored
    sentence_ends blob,               -- where each sentence ends (characters), little-endian int32s; null when unscored, and on rows scored before: they are done again
    sentence_compounds blob           -- each sentence's compound, in order, little-endian float64s
);

-- runs: one row per pipeline run, for `reviewpipe status`.
create table if not exists runs (
    run_id varchar primary key,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,          -- running | succeeded | failed
    files_loaded bigint,
    files_skipped bigint,
    files_unreadable bigint,
    records_read bigint,
    rows_quarantined bigint,
    reviews_published bigint,
    titles_published bigint,
    message varchar
);

-- Which version of an incrementally kept staging model (sql/staging/int_reviews_typed.sql) a table holds;
-- under 'source_order', the sources' positions in the config that the rows' source_order holds.
create table if not exists staging_state (
    model varchar primary key,
    version varchar not null
);

-- Review ids whose rows in int_reviews_typed changed (a file loaded, replaced or forgotten) since
-- stg_reviews was last built: staging rebuilds only their rows. Written in each file's transaction,
-- with the title of each staged row a file's reload or removal takes away (for publish_pending).
create table if not exists staging_touched (
    review_id varchar,
    title_id varchar
);

-- Review ids whose published rows may differ from what staging gives now: touched since the live
-- published database was built, with the titles they had in staging before and after (a null
-- title_id: the id alone). A null review_id means every review (stg_reviews was rebuilt whole).
-- Written with staging, emptied when a run's published database goes live.
create table if not exists publish_pending (
    review_id varchar,
    title_id varchar
);

-- Review ids whose trust_reviews_kept rows may differ from what staging gives now (the trust tests'
-- reviews and reviewer histories, reviewpipe.trust.subsets.update_kept_reviews): written with
-- publish_pending, emptied by the trust stage once it made their rows again. A null review_id means
-- every review. (trust_reviews_kept itself is made by that stage, sql/trust/trust_reviews.sql.)
create table if not exists trust_pending (
    review_id varchar
);

-- The live published database: what it was built from (state.publish_basis) and the file as it
-- was put in place (size, mtime, ctime, inode). A run may build the next one from a copy of it only if both
-- still hold.
create table if not exists published_state (
    basis varchar not null,
    file_signature varchar not null
);

-- What a delta run (the metrics of the touched titles alone, state.py) needs of every other title,
-- kept here instead of read back from the published database. Rows with is_live describe the live
-- published database; the others are the last metrics stage's (state.keep_metric_rows), which replace
-- the live rows of kept_replaces' titles in the transaction that logs their run gone live
-- (state.went_live). Columns as in agg_title_summary, reviews and agg_rating_sentiment_mismatches.

-- kept_titles: per title with reviews, the figures made of its reviews alone (metrics.title_stats,
-- title_scales, rating_shape; the shape is null without rated reviews).
create table if not exists kept_titles (
    is_live boolean not null,
    title_id varchar not null,
    review_count bigint,
    rated_review_count bigint,
    rating_mean double,
    rating_median double,
    rating_stddev double,
    helpful_votes bigint,
    total_votes bigint,
    sentiment_mean double,
    positive_share double,
    neutral_share double,
    negative_share double,
    scored_review_count bigint,
    scored_share double,
    whole_text_sentiment_mean double,
    sentence_sentiment_mean double,
    first_review_date date,
    last_review_date date,
    helpful_only_votes bigint,
    rating_scale integer,
    rating_min double,
    rating_step double,
    rating_kind varchar,
    rating_entropy double,
    extreme_share double,
    bimodality_coefficient double,
    rating_skewness double,
    is_polarized boolean
);

-- kept_agreement_inputs: per staged review, what the overall sentiment agreement reads of it
-- (metrics.sentiment_agreement ranks every review of a scale: per-title sums would not be exact).
create table if not exists kept_agreement_inputs (
    is_live boolean not null,
    title_id varchar not null,
    rating double,
    rating_scale integer,
    rating_min double,
    sentiment_compound double,
    sentence_compound_mean double,
    sentiment_label varchar,
    sentence_sentiment_label varchar
);

-- kept_mismatches: per flagged review, its row of agg_rating_sentiment_mismatches but read_order
-- (renumbered across titles by every run).
create table if not exists kept_mismatches (
    is_live boolean not null,
    title_id varchar not null,
    rank bigint,
    review_id varchar,
    rating double,
    rating_scale integer,
    sentiment_score double,
    mismatch varchar,
    strength double,
    helpful_wilson_lb double
);

-- kept_replaces: the titles whose live kept_ rows the rows not live yet replace, and one row with a
-- null title_id saying that the metrics stage stored its rows (none, a delta run may touch no title);
-- every_title on it: they replace every title's (a whole build).
create table if not exists kept_replaces (
    title_id varchar,
    every_title boolean not null
);

-- The configuration this warehouse belongs to (warehouse.claim_warehouse): at most one row. A run or
-- ingest of another configuration is refused unless it takes the warehouse over (--take-over-warehouse).
create table if not exists warehouse_owner (
    configuration varchar not null,   -- the config file's resolved path, or the built-in defaults of a folder
    recorded_at timestamp not null    -- when it took the warehouse (UTC)
);

-- Every output the last run that went live put in place (state.output_paths): its stat signature
-- (size, mtime, ctime, inode: publish.file_signature) and the sha256 of the bytes it went live with.
-- A run that finds nothing new checks the outputs against them and rebuilds if one differs.
create table if not exists output_signatures (
    path varchar primary key,
    stat varchar not null,
    sha256 varchar not null
);

-- Columns added after the first release: a warehouse made by an older reviewpipe gains them in place.
alter table raw_reviews add column if not exists file_modified_at timestamp;
alter table raw_titles add column if not exists writers varchar;
alter table raw_titles add column if not exists stars varchar;
alter table raw_titles add column if not exists country varchar;
alter table raw_titles add column if not exists language varchar;
alter table raw_titles add column if not exists runtime_minutes varchar;
alter table raw_titles add column if not exists popularity varchar;
alter table raw_titles add column if not exists related_to_title_id varchar;
alter table raw_titles add column if not exists file_modified_at timestamp;
alter table sentiment_scores add column if not exists sentence_compound_mean double;
-- what the run's outputs were made from (state.inputs_state): a run that finds it unchanged skips
alter table runs add column if not exists inputs_hash varchar;
alter table sentiment_scores add column if not exists sentence_count integer;
alter table sentiment_scores add column if not exists positive_sentence_share double;
alter table sentiment_scores add column if not exists negative_sentence_share double;
-- each text's language (issue 24): rows from before have none and are detected and scored again
alter table sentiment_scores add column if not exists review_language varchar;
alter table sentiment_scores add column if not exists language_confidence double;
alter table sentiment_scores add column if not exists language_guess varchar;
alter table sentiment_scores add column if not exists sentiment_language varchar;
-- each sentence's end and compound (issue 26): scored rows from before have none and are scored again
alter table sentiment_scores add column if not exists sentence_ends blob;
alter table sentiment_scores add column if not exists sentence_compounds blob;
alter table sentiment_scores alter column sentiment_compound drop not null;
alter table sentiment_scores alter column sentiment_pos drop not null;
alter table sentiment_scores alter column sentiment_neu drop not null;
alter table sentiment_scores alter column sentiment_neg drop not null;
-- what each title's sentiment figures cover (issue 24)
alter table kept_titles add column if not exists scored_review_count bigint;
alter table kept_titles add column if not exists scored_share double;
-- the file's state at its load (ingest.file_state): an unchanged state is not hashed again
alter table load_log add column if not exists file_state varchar;
alter table publish_pending add column if not exists title_id varchar;
alter table staging_touched add column if not exists title_id varchar;
-- the scale's points (settings.Source): rows loaded before had whole stars 1..rating_scale
alter table raw_reviews add column if not exists rating_min double default 1;
alter table raw_reviews add column if not exists rating_step double default 1;
-- whether the kept_ tables describe the live published database (null on warehouses from before
-- them: the next run builds whole, state.delta_base)
alter table published_state add column if not exists has_kept_rows boolean;
-- a review's declared language (issue 24): the source's `language` and the review_language field
alter table raw_reviews add column if not exists source_language varchar;
alter table raw_reviews add column if not exists review_language varchar;
-- who wrote a review and whether the site verified the purchase (issue 25: the trust tests)
alter table raw_reviews add column if not exists reviewer_id varchar;
alter table raw_reviews add column if not exists verified_purchase varchar;

-- The kept signatures of the trust tests that read texts (reviewpipe.trust.texts, issue 25): computed
-- once per distinct cleaned text and kept, so a run computes those of its new texts only
-- (update_signatures: staged texts with no row here). All of a text's rows are made together, under
-- the signature version staging_state holds for 'text_signatures' (tokenising, shingles, MinHash,
-- bands, phrase_words, sampling); a changed version empties these tables and they are made again.

-- text_signatures: one row per distinct staged text; key: text_hash (int_reviews_typed.text_hash).
create table if not exists text_signatures (
    -- md5 of the cleaned review text; stored uncompressed, as text_phrases' lists: 0.23 against 0.63
    -- s of CPU to write 1,000,000 of them, for 20 MB more (bench/README.md, round 11)
    text_hash varchar not null using compression uncompressed,
    text_id integer,                  -- the text's number (1, 2, ... in the order texts are read): text_bands and text_phrases name it
    word_count integer not null,      -- words as the trust tests split them (lower case, end punctuation off)
    shingle_count integer,            -- distinct 3-word shingles (their hashes): a pair of texts whose counts differ too much is no copy
    disclosure varchar,               -- what the first matching [trust] disclosure_patterns found; null: none
    disclosure_version varchar        -- md5 of the pattern list it was matched against: another list redoes this column alone
);
-- (warehouses from before text ids: the signature version's change empties these tables)
alter table text_signatures add column if not exists text_id integer;
-- (warehouses from before shingle counts: the signature version's change makes them)
alter table text_signatures add column if not exists shingle_count integer;
-- (a text's pairs made are the text ids up to staging_state's 'text_copy_pairs_through', no longer a flag)
alter table text_signatures drop column if exists is_paired;

-- text_bands: the LSH bands of each text's MinHash signature (60 permutations of its 3-word shingles,
-- 12 bands of 5); grain: (band, text_id). Texts of fewer than 3 words have none. Two texts with a
-- band in common are candidate near-copies.
create table if not exists text_bands (
    band ubigint not null,            -- hash of the band's number and its 5 minimum hashes
    text_id integer not null          -- text_signatures.text_id (a 4-byte number, not the 32-character md5)
);
alter table text_bands add column if not exists text_id integer;
alter table text_bands drop column if exists text_hash;

-- text_phrases: a fixed sample of each text's phrases of [trust] phrase_words words (those whose hash
-- is 0 modulo 2: a phrase is kept in every text or in none), as a list: one row per text with a kept
-- phrase (a row a text: 75x fewer rows to write than a row a phrase); grain: text_id. Readers unnest it.
create table if not exists text_phrases (
    text_id integer not null,         -- text_signatures.text_id
    -- each kept phrase's hash of its words (lower case; even), in text order (a phrase held twice,
    -- twice). Stored uncompressed: random hashes do not compress, and DuckDB's trying cost 40% of
    -- writing them (0.49 against 0.29 s of CPU for 200,000 texts; bench/README.md, round 11)
    phrases ubigint[] not null using compression uncompressed
);
-- (warehouses of the layouts before: a row per (text, phrase); the signature version's change empties the table)
alter table text_phrases add column if not exists text_id integer;
alter table text_phrases add column if not exists phrases ubigint[];
alter table text_phrases drop column if exists text_hash;
alter table text_phrases drop column if exists phrase;
alter table text_phrases drop column if exists is_named;

-- text_copy_pairs: pairs of distinct texts that share an LSH band, with their exact Jaccard similarity
-- of 3-word shingle sets; both orders; grain: (text_hash, copy_hash). Extended at each run with the
-- pairs that involve a new text; made again whole when staging_state's 'text_copy_pairs' version
-- (the signature version and [trust] copy_min_words: shorter texts are not paired) changes.
create table if not exists text_copy_pairs (
    text_hash varchar not null,
    copy_hash varchar not null,
    similarity double not null
);

-- text_title_phrases: per title, the sampled phrases (text_phrases) that at least 2 of its reviewers
-- share, with how many (a reviewer's reviews count once); grain: (title_id, phrase). The
-- repeated_phrases test reads it; text_title_state holds each title's fingerprint (its reviews,
-- reviewers and texts) when its rows were made: a run makes again the rows of the titles whose
-- fingerprint changed, and all of them when staging_state's 'text_title_phrases' version (the
-- signature version and [trust] anonymous_names) changes.
create table if not exists text_title_phrases (
    title_id varchar not null,
    phrase ubigint not null,
    reviewers bigint not null
);
create table if not exists text_title_state (
    title_id varchar not null,
    fingerprint ubigint not null
);

-- text_named_phrases: per text and sampled phrase that a run found unlikely for a title, whether
-- the text writes a word of the phrase capitalised inside a sentence, as names are
-- (reviewpipe.trust.texts._named_counts); grain: (text_hash, phrase). A property of the text
-- alone: made once per pair, for the texts new to it; emptied when staging_state's
-- 'text_named_phrases' version (the signature version and the word rule) changes.
create table if not exists text_named_phrases (
    text_hash varchar not null,
    phrase ubigint not null,
    named boolean not null
);

-- term_counts: per title, each term (reviewpipe.metrics.term_pass's 64-bit hash of a word or a phrase
-- of 2-3 words) that at least [terms] min_reviews of its reviews scored in English use, with those
-- reviews per rating class, the sentences mentioning it and the sum of their VADER compounds, and
-- where it is first used (characters of the review text, start and end) in the most helpful review
-- of any class, of the positive class and of the negative class (the review by its key: DuckDB's
-- hash of its review_id); grain: (title_id, term). The terms
-- stage (reviewpipe.terms) makes agg_title_terms from it; term_titles holds each title's
-- fingerprint (its reviews, texts, ratings and helpful votes) when its rows were made: a run counts
-- again the titles whose fingerprint changed, and all of them when staging_state's 'term_counts'
-- version (the tokenizer's rules and min_reviews) changes.
create table if not exists term_counts (
    title_id varchar not null,
    term ubigint not null,
    words tinyint not null,
    negative_reviews integer not null,
    middle_reviews integer not null,
    positive_reviews integer not null,
    unrated_reviews integer not null,
    sentence_mentions integer not null,
    sentence_compound_sum double not null,
    any_review ubigint,
    any_start integer,
    any_end integer,
    positive_review ubigint,
    positive_start integer,
    positive_end integer,
    negative_review ubigint,
    negative_start integer,
    negative_end integer
);
create table if not exists term_titles (
    title_id varchar not null,
    fingerprint ubigint not null
);
-- term_examples: for each term the terms stage has ranked among a title's candidates on a side, its
-- words as the example writes them and that side's example sentence and review (agg_title_terms'
-- term, example, example_review_id); grain: (title_id, term, side). A title's rows are made from its
-- review texts once and go with its term_counts rows, so that a run reads again only the example
-- reviews of the titles it counted again.
create table if not exists term_examples (
    title_id varchar not null,
    term ubigint not null,
    side varchar not null,
    term_text varchar not null,
    example varchar,
    example_review_id varchar
);
