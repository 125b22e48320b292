"""The one schema vocabulary: the input fields and each published table, with its key, stored order
and the description of the table and of every column.

Made from it: the field lists settings and ingest use (REVIEW_FIELDS, TITLE_FIELDS,
FIELDS_BY_KIND), the `comment on` statements publish runs, the key checks run on every new
published database (beside the SQL checks in sql/checks), PUBLISHED_TABLES and STORED_ORDER, and
the README's "Published tables" section (`python -m reviewpipe.schema` prints it). The SQL models
(raw tables, staging, published) keep their own column lists, as each casts and cleans each field
its own way; tests/test_schema.py holds them to the lists here, in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewpipe.warehouse import sql_literal


@dataclass(frozen=True)
class Column:
    """A published column and its description (carried into the database as its comment)."""

    name: str
    description: str
    # an input field: a source's column is mapped onto it (README, "Your own data")
    is_field: bool = False


def _field(name: str, description: str) -> Column:
    """A published column that is also an input field of its kind."""
    return Column(name, description, is_field=True)


@dataclass(frozen=True)
class Table:
    """A published table: its description, columns in their published order, key and stored order."""

    name: str
    description: str
    columns: tuple[Column, ...]
    # present and unique in every new published database (the check "<name>_key")
    key: tuple[str, ...]
    # key columns that may be null (nulls group as one value in the uniqueness check)
    nullable_key: tuple[str, ...] = ()
    # the order its rows are stored in, where it helps
    stored_order: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        """The names of its columns, in published order."""
        return tuple(c.name for c in self.columns)

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of its columns that are input fields, in order."""
        return tuple(c.name for c in self.columns if c.is_field)


# ---- the published tables, in publish order -------------------------------------------------------
# The descriptions are what `reviewpipe tables`, any SQL client and the README show.

TITLES = Table(
    "titles",
    "One row per title, merged over all sources: later sources, then files whose paths sort "
    "later, fill in and override earlier ones.",
    columns=(
        _field("title_id", "Title key as the source gives it: IMDb tconst, product id, folder "
               'name, or "Title (Year)" from a saved page.'),
        _field("title", "Title as the source names it."),
        _field("year", "Release year."),
        _field("site_rating", "The site's own average rating, on the source's scale."),
        _field("site_votes", "Number of votes behind site_rating."),
        _field("user_review_count", 'User reviews the site reports for the title ("2.9K" read as '
               "2900)."),
        _field("critic_review_count", "Critic reviews the site reports for the title."),
        _field("genres", "Genres, comma-separated."),
        _field("directors", "Directors, comma-separated."),
        _field("writers", "Writers, comma-separated (saved pages)."),
        _field("stars", "Leading actors, comma-separated (saved pages)."),
        _field("country", "Countries of origin, comma-separated (saved pages)."),
        _field("language", "Languages, comma-separated (saved pages)."),
        _field("runtime_minutes", "Running time in minutes (saved pages)."),
        _field("popularity", "The site's popularity rank, 1 = most popular (saved pages)."),
        _field("related_to_title_id", 'For a "More Like This" title of a saved page: the '
               "page's title_id."),
    ),
    key=("title_id",),
)

REVIEWS = Table(
    "reviews",
    "One row per usable review, cleaned, with helpfulness, its language and VADER sentiment (of "
    "reviews in [sentiment] languages; the others are unscored: null scores); of copies of one "
    "review_id, the first source's, then the copy in the file whose path sorts last, is kept.",
    columns=(
        _field("review_id", "Given by the source (its ends trimmed, its inside as given), or md5 "
               "of source, title_id, author, review_date, rating, review_title, review_text and "
               "the record's occurrence among the records of its file with these values (saved "
               "pages: title_id, author, review_date, review_title)."),
        _field("title_id", "The title the review is about."),
        _field("author", "Reviewer name as the source gives it."),
        _field("review_date", "Date of the review."),
        _field("rating", "The reviewer's rating, a point of the source's scale (thumbs: 1 "
               "recommended, 0 not); null when none was given."),
        _field("review_title", "The review's headline."),
        _field("review_text", "Cleaned text: HTML breaks and entities decoded, whitespace "
               "normalised."),
        _field("helpful_votes", "People who found the review helpful."),
        _field("total_votes", "People who voted on whether it was helpful; null when the source "
               "counts helpful votes alone (Yelp, Steam, Google Play)."),
        Column("rating_scale", "Highest rating of the source's scale (10 or 5; 1 on thumbs)."),
        Column("source", "The configured source the review came from."),
        _field("review_language", "The review's language, ISO 639-1 (es, en): as its source "
               "declares it (a column mapped onto review_language, else the source's `language`), "
               "else detected from its text; 'und' when the text is too short or mixed to tell."),
        Column("language_confidence", "The detector's confidence in review_language (in its best "
               "guess when 'und'), 0..1; null when declared or without text."),
        Column("helpful_ratio", "helpful_votes / total_votes; null when total_votes is 0 or "
               "unknown."),
        Column("helpful_wilson_lb", "95% Wilson lower bound (p + z²/2n - z·√(p(1-p)/n + z²/4n²)) "
               "/ (1 + z²/n), p = helpful/total, n = total; 0 when total_votes = 0, null when it "
               "is unknown."),
        Column("sentiment_compound", "vaderSentiment 3.3.2 compound score of the whole "
               "review_text, -1..1; null when unscored (no text, or a review_language not in "
               "[sentiment] languages)."),
        Column("sentiment_pos", "VADER's share of positive words in the whole text."),
        Column("sentiment_neu", "VADER's share of neutral words in the whole text."),
        Column("sentiment_neg", "VADER's share of negative words in the whole text."),
        Column("sentiment_label", "From sentiment_compound: positive if >= 0.05, negative if <= "
               "-0.05, else neutral; unscored when the review has a text no analyzer read."),
        Column("sentence_compound_mean", "Mean VADER compound of the text's sentences (scored "
               "one by one, as VADER's authors advise for paragraphs)."),
        Column("sentence_count", "Number of sentences in review_text."),
        Column("positive_sentence_share", "Share of sentences with compound >= 0.05."),
        Column("negative_sentence_share", "Share of sentences with compound <= -0.05."),
        Column("sentence_sentiment_label", "From sentence_compound_mean, by the same ±0.05 rule; "
               "unscored as sentiment_label."),
        Column("sentiment_score", "The measure that stands for the review in per-title figures: "
               "sentence_compound_mean by default ([sentiment] title_measure)."),
        Column("rating_sentiment_mismatch", "True when a rating in the top 30% of the scale "
               "comes with sentiment_score <= -0.5, or one in the bottom 40% with >= 0.5."),
        Column("review_word_count", "Words in review_text."),
        _field("reviewer_id", "The reviewer's account id as the source gives it (Yelp user_id, "
               "Amazon reviewerID); null when the source maps none. The trust tests tell reviewers "
               "apart by it, else by author ([trust] anonymous_names are nobody's)."),
        _field("verified_purchase", "True when the site marks the review a verified purchase "
               "(true/false, Y/N, 1/0, yes/no in any case); null when the source gives no flag."),
        Column("file_path", "The file the review was loaded from."),
        Column("row_number", "Its record number in that file (1 = first data row)."),
    ),
    key=("review_id",),
    # stored by title: a query on one title reads few blocks
    stored_order="title_id, review_id",
)

AGG_TITLE_SUMMARY = Table(
    "agg_title_summary",
    "One row per title: counts, rating statistics, comparable ratings, distribution shape, votes "
    "and sentiment. Sentiment covers the languages in [sentiment] languages: each sentiment figure "
    "counts only the title's scored reviews (scored_review_count), and reviews in other languages "
    "are left out.",
    columns=(
        Column("title_id", "Title key."),
        Column("title", "Title name, when a titles source gives it."),
        Column("review_count", "Usable reviews of the title."),
        Column("rated_review_count", "Of those, reviews with a rating (n, v below)."),
        Column("rating_mean", "Mean rating R."),
        Column("rating_median", "Median rating."),
        Column("rating_stddev", "Sample standard deviation s of the ratings (n - 1)."),
        Column("site_rating", "The site's own rating, from a titles source."),
        Column("site_votes", "Votes behind site_rating."),
        Column("helpful_votes", "Sum of the helpful votes of the reviews with a known "
               "total_votes; null when none has one."),
        Column("total_votes", "Sum of those reviews' helpfulness votes (total_votes); null when "
               "no review has one."),
        Column("sentiment_mean", "Mean sentiment_score over the title's scored reviews "
               "(scored_review_count; reviews in languages sentiment does not cover are left out)."),
        Column("positive_share", "Share of the scored reviews labelled positive (sentiment_label, "
               "whole text)."),
        Column("neutral_share", "Share of the scored reviews labelled neutral (sentiment_label)."),
        Column("negative_share", "Share of the scored reviews labelled negative (sentiment_label)."),
        Column("scored_review_count", "Reviews with a sentiment score: those whose language is in "
               "[sentiment] languages (the reviews every sentiment figure here counts); 0 without "
               "reviews."),
        Column("scored_share", "scored_review_count / the title's reviews with a text; null when "
               "none has a text."),
        Column("rating_scale", "K, the highest point of the title's rating scale (1 on thumbs)."),
        Column("rating_min", "L, the lowest point of the title's rating scale (0 on thumbs)."),
        Column("rating_step", "The step between two neighbouring points of the scale (1 whole "
               "stars, 0.5 half stars)."),
        Column("rating_kind", "stars (points L..K) or thumbs (1 recommended, 0 not)."),
        Column("weighted_rating", "IMDb's weighted rating v/(v+m)·R + m/(v+m)·C of the review "
               "ratings; C and m per rating scale, stated in the table comment."),
        Column("bayesian_rating", "Bayesian average with one pseudo-rating on each of the P "
               "points of the scale: (n·R + P(L+K)/2) / (n + P)."),
        Column("rating_ci_low", "Lower end of the 95% interval R - 1.96·s/√n (n >= 2), at least "
               "L."),
        Column("rating_ci_high", "Upper end of the 95% interval R + 1.96·s/√n (n >= 2), at most "
               "K."),
        Column("recommended_share", "Thumbs only: share of rated reviews that recommend the "
               "title; null on stars."),
        Column("recommended_share_low", "Thumbs only: lower end of the 95% Wilson interval of "
               "recommended_share."),
        Column("recommended_share_high", "Thumbs only: upper end of the 95% Wilson interval of "
               "recommended_share."),
        Column("weighted_site_rating", "IMDb's weighted rating of site_rating with v = "
               "site_votes; C and m over titles with site figures."),
        Column("rating_entropy", "Shannon entropy of the rating shares / ln(points): 0 = all one "
               "rating, 1 = all points equally common."),
        Column("extreme_share", "Share of ratings on the two lowest and two highest points of "
               "the scale (1, 2, K-1, K of 1..K); null on thumbs."),
        Column("bimodality_coefficient", "Sarle's b = (G1² + 1) / (G2 + 3(n-1)²/((n-2)(n-3))), "
               "G1 skewness, G2 excess kurtosis; > 5/9 suggests two modes (n >= 4); null on "
               "thumbs."),
        Column("rating_skewness", "Sample skewness G1 of the ratings (n >= 3); negative = a long "
               "tail of low ratings."),
        Column("is_polarized", "At least 10 ratings, bimodality_coefficient > 5/9, and at least "
               "20% of ratings on each end (the two lowest and the two highest points); false on "
               "thumbs."),
        Column("whole_text_sentiment_mean", "Mean whole-text sentiment_compound of the scored "
               "reviews."),
        Column("sentence_sentiment_mean", "Mean sentence_compound_mean of the scored reviews."),
        Column("first_review_date", "Date of the first review."),
        Column("last_review_date", "Date of the latest review."),
        Column("helpful_only_votes", "Sum of the helpful votes of the reviews whose source gives "
               "no total (kept out of helpful_votes, so helpful_votes / total_votes stays a "
               "share); null when there are none."),
        Column("trust_verdict", "The worst verdict of the title's trust tests (agg_trust_tests): "
               "fail, warn or pass; null when the title has too few rated reviews to test "
               "([trust] min_title_reviews)."),
        Column("failed_tests", "The trust tests the title fails, comma-separated in "
               "agg_trust_tests' order; null when none fails."),
        Column("adjusted_rating", "Mean rating of the title's rated reviews outside every failing "
               "test's subset, beside rating_mean (never replacing it); equal to rating_mean when no "
               "test fails; null when every rated review is in a failing subset or the title is "
               "not tested."),
        Column("adjusted_review_count", "The rated reviews adjusted_rating keeps."),
    ),
    key=("title_id",),
)

AGG_TITLE_LANGUAGES = Table(
    "agg_title_languages",
    "Per title, the languages of its reviews with a text, and how many of each sentiment scored "
    "(it covers the languages in [sentiment] languages).",
    columns=(
        Column("title_id", "Title key."),
        Column("review_language", "The reviews' language, ISO 639-1: declared by the source, else "
               "detected; und when undetermined (a text too short or mixed to tell)."),
        Column("review_count", "The title's reviews with a text in that language."),
        Column("review_share", "review_count / the title's reviews with a text; a title's shares "
               "sum to 1."),
        Column("scored_review_count", "Of those, the reviews with a sentiment score."),
    ),
    key=("title_id", "review_language"),
)

AGG_RATING_DISTRIBUTION = Table(
    "agg_rating_distribution",
    "Rating histogram per title: every point of the title's scale, with review_count and share.",
    columns=(
        Column("title_id", "Title key."),
        Column("rating", "A point of the scale: L, L + step, ..., K (1 = recommended, 0 = not on "
               "thumbs)."),
        Column("review_count", "Reviews with that rating (0 included)."),
        Column("share", "review_count / the title's rated reviews; a title's shares sum to 1."),
        Column("rating_scale", "K, the highest point of the title's scale (1 on thumbs)."),
        Column("rating_min", "L, the lowest point of the title's scale (0 on thumbs)."),
        Column("rating_step", "The step between two neighbouring points of the scale."),
        Column("rating_kind", "stars (points L..K) or thumbs (1 recommended, 0 not)."),
    ),
    key=("title_id", "rating"),
)

AGG_TOP_HELPFUL_REVIEWS = Table(
    "agg_top_helpful_reviews",
    "Top 10 reviews per title in two rankings, never mixed (ranked_by): reviews with a known "
    "total someone voted on by helpful_wilson_lb, ties by helpful_votes, total_votes, review_id; "
    "reviews whose source gives helpful votes alone, with at least one, by helpful_votes, ties "
    "by review_id.",
    columns=(
        Column("title_id", "Title key."),
        Column("rank", "1 = most helpful, within the title's ranking (ranked_by)."),
        Column("review_id", "The review (see reviews)."),
        Column("helpful_votes", "People who found it helpful."),
        Column("total_votes", "People who voted; null in a helpful_votes ranking."),
        Column("helpful_ratio", "helpful_votes / total_votes; null in a helpful_votes ranking."),
        Column("helpful_wilson_lb", "The 95% Wilson lower bound it is ranked by in a "
               "helpful_ratio ranking; null in a helpful_votes ranking."),
        Column("ranked_by", "helpful_ratio: ranked by helpful_wilson_lb, among reviews with a "
               "known total; helpful_votes: ranked by helpful_votes, among reviews whose source "
               "gives no total."),
    ),
    key=("title_id", "ranked_by", "rank"),
)

AGG_SENTIMENT_AGREEMENT = Table(
    "agg_sentiment_agreement",
    "How well words agree with stars, per title and overall per rating scale, for whole-text and "
    "sentence-level sentiment, over the scored reviews alone (those in [sentiment] languages).",
    columns=(
        Column("scope", '"title" for one title, "overall" for all titles on one rating scale.'),
        Column("title_id", "Title key; null on overall rows."),
        Column("rating_scale", "K of the ratings compared."),
        Column("compared_reviews", "Scored reviews with a rating (reviews in languages sentiment "
               "does not cover are left out)."),
        Column("spearman_whole", "Spearman rank correlation of rating and sentiment_compound (>= "
               "3 pairs)."),
        Column("spearman_sentence", "Spearman rank correlation of rating and "
               "sentence_compound_mean (>= 3 pairs)."),
        Column("label_agreement_whole", "Share of reviews rated in the bottom 40% (1-4 of 10, "
               "1-2 of 5) or top 30% (7-10, 4-5) whose sentiment_label names that side; neutral "
               "counts as disagreement."),
        Column("label_agreement_sentence", "The same with sentence_sentiment_label."),
    ),
    key=("scope", "title_id", "rating_scale"),
    nullable_key=("title_id",),  # the overall rows belong to no title
)

AGG_RATING_SENTIMENT_MISMATCHES = Table(
    "agg_rating_sentiment_mismatches",
    "Reviews whose words and stars disagree strongly (rating_sentiment_mismatch), to read first "
    "in read_order; scored reviews only (a review in a language sentiment does not cover is "
    "never listed).",
    columns=(
        Column("title_id", "Title key."),
        Column("rank", "Order within the title: strength, then helpful_wilson_lb, then review_id."),
        Column("review_id", "The review (see reviews)."),
        Column("rating", "Its star rating."),
        Column("rating_scale", "K of its rating."),
        Column("sentiment_score", "Its sentiment_score."),
        Column("mismatch", '"high rating, negative words" or "low rating, positive words".'),
        Column("strength", "|sentiment_score|: how strongly the words say the opposite."),
        Column("helpful_wilson_lb", "Its helpfulness (95% Wilson lower bound)."),
        Column("read_order", "Order over all titles: strength, then helpful_wilson_lb, then "
               "review_id."),
        Column("review_title", "Its headline."),
        Column("author", "Its author."),
        Column("review_date", "Its date."),
    ),
    key=("review_id",),
)

AGG_HELPFULNESS = Table(
    "agg_helpfulness",
    "Per title: how many reviews get votes, how helpful they are found, and whether harsher or "
    "longer reviews are found more helpful.",
    columns=(
        Column("title_id", "Title key."),
        Column("review_count", "Usable reviews of the title."),
        Column("voted_reviews", "Reviews with a known total and at least one helpfulness vote."),
        Column("voted_share", "voted_reviews / reviews_with_total; null when no review has a "
               "known total."),
        Column("helpful_votes", "Sum of the helpful votes of the reviews with a known total; "
               "null when none has one."),
        Column("total_votes", "Sum of their helpfulness votes; null when no review has a known "
               "total."),
        Column("helpful_share", "helpful_votes / total_votes over the title (reviews with a "
               "known total only)."),
        Column("helpfulness_rating_spearman", "Spearman correlation of helpful_ratio with rating "
               "over voted reviews; negative = harsher reviews found more helpful."),
        Column("helpfulness_length_spearman", "Spearman correlation of helpful_ratio with "
               "review_word_count over voted reviews."),
        Column("reviews_with_total", "Reviews with both helpful_votes and total_votes known: "
               "every share and correlation here is over them."),
        Column("helpful_only_reviews", "Reviews with helpful votes and no total (a source that "
               "counts one side only); in no share."),
        Column("helpful_only_votes", "Sum of their helpful votes; null when there are none."),
    ),
    key=("title_id",),
)

AGG_MONTHLY_TRENDS = Table(
    "agg_monthly_trends",
    "Per title and calendar month of review_date: reviews, ratings, sentiment and helpfulness "
    "(undated reviews are in no month). Sentiment counts only the scored reviews (those in "
    "[sentiment] languages).",
    columns=(
        Column("title_id", "Title key."),
        Column("month", "First day of the month."),
        Column("review_count", "Reviews dated in the month."),
        Column("rated_review_count", "Of those, reviews with a rating."),
        Column("rating_mean", "Mean rating of the month."),
        Column("sentiment_mean", "Mean sentiment_score of the month's scored reviews "
               "(scored_review_count)."),
        Column("scored_review_count", "Of the month's reviews, those with a sentiment score."),
        Column("helpful_votes", "Sum of the helpful votes of the month's reviews with a known "
               "total; null when none has one."),
        Column("total_votes", "Sum of their helpfulness votes."),
        Column("helpful_ratio", "helpful_votes / total_votes; null when 0 or unknown."),
        Column("helpful_only_votes", "Sum of the helpful votes of the month's reviews whose "
               "source gives no total; null when there are none."),
    ),
    key=("title_id", "month"),
)

AGG_TRUST_TESTS = Table(
    "agg_trust_tests",
    "Can the ratings be trusted: per title and trust test (README, \"Trust tests\"), the subset of "
    "its reviews the test picks, whether that subset is unusually large for the title against its "
    "sources' share (one-sided exact binomial test), whether it rates the title differently from "
    "the rest (two-sided Mann-Whitney U test), both p-values corrected over every title and test "
    "of the run (Benjamini-Hochberg), and the verdict. Titles with at least [trust] min_title_reviews rated "
    "reviews; a test whose inputs the title's sources lack (no reviewer ids, no verified flag, no "
    "texts) has no row.",
    columns=(
        Column("title_id", "Title key."),
        Column("test", "one_review_accounts, single_day_reviewers, burst, copied_text, "
               "repeated_phrases, incentivized, unverified, rating_deviation or review_ring."),
        Column("tested_reviews", "The title's rated reviews the test can see (e.g. those with a "
               "reviewer for the reviewer tests): n."),
        Column("subset_reviews", "Of those, the reviews the test picks: x."),
        Column("subset_share", "x / n."),
        Column("baseline_share", "The share the test picks among the other titles' tested reviews "
               "of the title's sources (each of the title's reviews weighted by its source's share); "
               "null when no source of the title has another title."),
        Column("share_p_value", "P(X >= x) for X ~ Binomial(n, baseline_share), corrected "
               "(Benjamini-Hochberg over all rows); 1 when x is 0, 0 when baseline_share is 0 and x "
               "is not; null with baseline_share."),
        Column("subset_rating_mean", "Mean rating of the subset; null when it is empty."),
        Column("rest_rating_mean", "Mean rating of the title's other tested reviews; null when "
               "there are none."),
        Column("rating_difference", "subset_rating_mean - rest_rating_mean, on the title's "
               "scale."),
        Column("rating_z", "Mann-Whitney U of the subset's ratings against the rest's, "
               "standardized (normal approximation with tie and continuity corrections): positive "
               "when the subset rates higher; 0 when every rating is on one point; null when the "
               "subset or the rest is empty."),
        Column("rating_auc", "U / (subset_reviews x rest): the probability that a subset rating is "
               "above a rest rating, ties counting half (0.5: no difference); null with rating_z."),
        Column("rating_p_value", "Two-sided p-value of rating_z, corrected (Benjamini-Hochberg over "
               "all rows); 1 when every rating is on one point; null with rating_z."),
        Column("verdict", "fail: the subset is unusually large (share_p_value < [trust] alpha, "
               "subset_share >= min_share_ratio x baseline_share, subset_reviews >= "
               "min_subset_reviews) and rates the title differently (rating_p_value < alpha, "
               "|rating_difference| >= min_rating_effect of the scale's span), or is unusually "
               "large and at least dominant_min_reviews reviews and dominant_share of the tested "
               "reviews, whatever it rates; warn: one of the two questions otherwise; pass: neither."),
        Column("parameters", "The parameters the test ran with, as key=value pairs separated by ';'; "
               "incentivized's disclosure_patterns is its [trust] disclosure_patterns list as "
               "<count>:<the first 8 hex digits of the md5 of the list> (e.g. 15:1a2b3c4d): another "
               "list, another value."),
    ),
    key=("title_id", "test"),
    stored_order="title_id, test",
)

AGG_TRUST_FLAGGED_REVIEWS = Table(
    "agg_trust_flagged_reviews",
    "The reviews in a failing trust test's subset (agg_trust_tests' verdict fail): one row per "
    "review and test, with what the test saw; of a failing burst subset that rates the title "
    "differently (and is not most of it), the days whose own mean rating leans the way the subset "
    "does. adjusted_rating leaves these reviews out.",
    columns=(
        Column("review_id", "The review (see reviews)."),
        Column("title_id", "Title key."),
        Column("test", "The failing test whose subset holds the review."),
        Column("detail", "What put the review in the subset, in words (e.g. \"one of 41 reviews "
               "of 2024-03-05\", \"near-copy of a review by another reviewer\")."),
    ),
    key=("review_id", "test"),
    stored_order="title_id, review_id, test",
)

AGG_TITLE_TERMS = Table(
    "agg_title_terms",
    "What reviewers praise and complain about, per title (reviewpipe.terms; README, \"Distinctive "
    "terms\"): the terms (words and phrases of 2-3 words, lower-cased, no stop word alone or at a "
    "phrase's ends) that its positive reviews use more than its negative ones (praise), the reverse "
    "(complaint), and that set the title apart from every other title (distinctive), ranked by the "
    "log-odds z-score with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "
    "\"Fightin' Words\"): the prior is each term's share of the counts the warehouse keeps (terms "
    "at least [terms] min_reviews reviews of a title use), scaled to 1,000 pseudo-counts. Reviews "
    "scored in English alone are counted; a review counts a term once.",
    columns=(
        Column("title_id", "Title key."),
        Column("side", "praise, complaint or distinctive."),
        Column("rank", "1 = the side's highest z-score for the title; at most [terms] top_terms."),
        Column("term", "The word or phrase, lower-cased, its words joined by one space."),
        Column("term_words", "Its number of words (1-3)."),
        Column("negative_reviews", "The title's negative reviews that use it (rating classes: README, "
               "\"How the measures are computed\")."),
        Column("middle_reviews", "Its middle reviews that use it."),
        Column("positive_reviews", "Its positive reviews that use it."),
        Column("unrated_reviews", "Its reviews without a rating that use it."),
        Column("z_score", "The log-odds ratio's z-score: praise, the positive reviews against the "
               "negative ones; complaint, the reverse; distinctive, the title's reviews against every "
               "other title's. At least [terms] min_z."),
        Column("sentence_mentions", "The sentences of the title's reviews that mention it (a "
               "sentence once)."),
        Column("sentence_sentiment_mean", "The mean VADER compound of those sentences (-1..1)."),
        Column("example", "The sentence that first uses it in the most helpful review of the side "
               "(praise: a positive review; complaint: a negative one; distinctive: any), cut around "
               "the term with … when longer than 240 characters."),
        Column("example_review_id", "The review the example is from (see reviews)."),
    ),
    key=("title_id", "side", "rank"),
    stored_order="title_id, side, rank",
)

QUARANTINE = Table(
    "quarantine",
    "Rows, reader-rejected lines and unreadable files that were not loaded, with the reason.",
    columns=(
        Column("source", "The configured source."),
        Column("kind", "reviews or titles."),
        Column("file_path", "The file."),
        Column("row_number", "Record number in the file (1 = first data row); null for reader "
               "rejects and unreadable files."),
        Column("line_number", "Line the reader rejected; null otherwise."),
        Column("column_name", "The pipeline field that failed a check; for a line the reader "
               "rejected, the file's own column."),
        Column("raw_value", "The value as it arrived."),
        Column("reason", "What was wrong."),
    ),
    # no key: a row, a line or a file can have several problems, and a reader reject or an
    # unreadable file has no row number
    key=(),
)

LOAD_LOG = Table(
    "load_log",
    "Every file considered: fingerprint, status, records read.",
    columns=(
        Column("source", "The configured source."),
        Column("kind", "reviews or titles (saved pages give both)."),
        Column("file_path", "The file."),
        Column("status", "loaded (an empty file: 0 records and a message) or unreadable."),
        Column("records_read", "Records the reader produced."),
        Column("lines_rejected", "Lines the reader could not split into the header's columns."),
        Column("message", "Why the file was unreadable, or a note such as an empty file."),
        Column("file_bytes", "Size of the file."),
        Column("fingerprint", "sha256 of the file's bytes and the source's configuration; "
               "unchanged = skipped."),
        Column("run_id", "The run that loaded it."),
        Column("loaded_at", "When (UTC)."),
    ),
    key=("source", "file_path"),
)


TABLES: tuple[Table, ...] = (
    TITLES,
    REVIEWS,
    AGG_TITLE_SUMMARY,
    AGG_TITLE_LANGUAGES,
    AGG_RATING_DISTRIBUTION,
    AGG_TOP_HELPFUL_REVIEWS,
    AGG_SENTIMENT_AGREEMENT,
    AGG_RATING_SENTIMENT_MISMATCHES,
    AGG_HELPFULNESS,
    AGG_MONTHLY_TRENDS,
    AGG_TRUST_TESTS,
    AGG_TRUST_FLAGGED_REVIEWS,
    AGG_TITLE_TERMS,
    QUARANTINE,
    LOAD_LOG,
)
PUBLISHED_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES)
STORED_ORDER: dict[str, str] = {t.name: t.stored_order for t in TABLES if t.stored_order}

# ---- the input fields -----------------------------------------------------------------------------
# Each input field is published under its own name, so it is declared once, as a published column:
# titles publishes every title field; reviews publishes the review fields first.
REVIEW_FIELDS: tuple[str, ...] = REVIEWS.fields
TITLE_FIELDS: tuple[str, ...] = TITLES.fields
FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {"reviews": REVIEW_FIELDS, "titles": TITLE_FIELDS}


# ---- what is made from them -----------------------------------------------------------------------

def comment_statements() -> str:
    """The `comment on` statements of every published table and column, one per line."""
    lines = []
    for table in TABLES:
        lines.append(f"comment on table {table.name} is {sql_literal(table.description)};")
        lines += [f"comment on column {table.name}.{c.name} is {sql_literal(c.description)};"
                  for c in table.columns]
    return "\n".join(lines)


def key_checks() -> dict[str, str]:
    """Check name ("<table>_key") -> a query returning the rows whose key is missing or repeated,
    its first line a comment saying what it checks; one per published table with a key."""
    checks = {}
    for table in TABLES:
        if not table.key:
            continue
        key = table.key[0] if len(table.key) == 1 else f"({', '.join(table.key)})"
        present = [c for c in table.key if c not in table.nullable_key]
        says = (f"{key} is present and unique" if present == list(table.key)
                else f"{key} is unique, {' and '.join(present)} present")
        columns = ", ".join(table.key)
        missing = "".join(f"{c} is null or " for c in present)
        checks[f"{table.name}_key"] = (
            f"-- {table.name}: {says}\n"
            f"select {columns}, count(*) as n\n"
            f"from {table.name}\n"
            f"group by {columns}\n"
            f"having {missing}count(*) > 1"
        )
    return checks


def tables_markdown() -> str:
    """The README's description of every published table: a heading, its description and a table
    of its columns, per table."""
    blocks = []
    for table in TABLES:
        rows = "\n".join(f"| `{c.name}` | {c.description} |" for c in table.columns)
        blocks.append(f"### `{table.name}`\n{table.description}\n\n"
                      f"| column | description |\n|---|---|\n{rows}\n")
    return "\n".join(blocks)


if __name__ == "__main__":
    # what goes in the README under "Published tables": paste it over the tables there
    print(tables_markdown(), end="")
