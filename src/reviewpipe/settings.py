"""The one settings object: `reviewpipe.toml` (or `--config FILE`), overridden by `REVIEWPIPE_*` variables.

Relative paths resolve against the folder of the config file (or the working folder when there is no
file). Nested values are overridden with `__`, e.g. `REVIEWPIPE_PATHS__PUBLISHED=/srv/reports.duckdb`.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from reviewpipe.errors import ReviewpipeError
from reviewpipe.presets import with_preset
from reviewpipe.schema import FIELDS_BY_KIND, REVIEW_FIELDS, TITLE_FIELDS

DEFAULT_CONFIG_NAME = "reviewpipe.toml"

# Options passed through to DuckDB's readers; anything else is a typo we would rather report.
READER_OPTIONS: dict[str, frozenset[str]] = {
    "csv": frozenset(
        {
            "header", "delim", "sep", "quote", "escape", "columns", "encoding", "skip",
            "comment", "null_padding", "strict_mode", "new_line", "nullstr", "max_line_size",
            "sample_size", "auto_detect", "names", "compression", "allow_quoted_nulls",
        }
    ),
    "json": frozenset(
        {"columns", "maximum_object_size", "compression", "records", "maximum_depth", "sample_size"}
    ),
    "parquet": frozenset({"binary_as_string", "hive_partitioning", "union_by_name"}),
}
READER_OPTIONS["imdb_page"] = frozenset()
READER_OPTIONS["tsv"] = READER_OPTIONS["csv"]
READER_OPTIONS["jsonl"] = READER_OPTIONS["json"]

# Ratings are summed as whole multiples of this unit (exactly: metrics.units), so every point of
# a scale must be one: the finest rating_step is 0.001. A histogram lists every point of a title's
# scale, at most this many (0..10 in steps of 0.01 is 1,001).
RATING_UNIT = 1e-3
MAX_RATING_POINTS = 1001


def _whole(x: float) -> bool:
    """True when x is a whole number up to floating point error (0.1 / 0.001 is 100.00000000000001)."""
    return abs(x - round(x)) < 1e-9


_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# a size as DuckDB's settings take it: 500MB, 2GB, 1.5GiB
_SIZE = r"^\s*[0-9.]+\s*[KMGT]i?B\s*$"


class Paths(BaseModel):
    """Where the warehouse, the published database and the exports live."""

    model_config = ConfigDict(extra="forbid")

    warehouse: Path = Path("data/warehouse.duckdb")
    published: Path = Path("data/reports.duckdb")
    exports: Path = Path("data/exports")
    samples: Path = Path("data/samples")


class Source(BaseModel):
    """One configured input: a glob of files of one format, mapped onto review or title fields."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["reviews", "titles"] = "reviews"
    path: str
    format: Literal["csv", "tsv", "json", "jsonl", "parquet", "imdb_page"] = "csv"
    # the review ratings' scale: its top (a whole number 2..100) or "thumbs" (recommended or not,
    # staged as 1 or 0; published with rating_scale 1); its points run from rating_min to the top
    # in steps of rating_step (README, "Your own data")
    rating_scale: int | Literal["thumbs"] = 10
    rating_min: float | None = None  # default 1; 0 for thumbs
    rating_step: float | None = None  # default 1
    options: dict[str, Any] = Field(default_factory=dict)
    columns: dict[str, str] = Field(default_factory=dict)
    # a well-known layout (reviewpipe.presets) supplying the keys above; the source's own win
    preset: str | None = None
    # the language every review of the source is written in (ISO 639-1, e.g. "es"): it wins over
    # the detected language, as does a column mapped onto review_language (which wins over this)
    language: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("preset") is None:
            return data
        # the preset's keys Source has no field for (yet) are left out rather than refused
        return with_preset(data, cls.model_fields)

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"source name {value!r} must be lowercase letters, digits and _ (e.g. 'imdb_reviews')"
            )
        return value

    @field_validator("language", mode="before")
    @classmethod
    def _language_is_a_code(cls, value: Any) -> Any:
        # read as a review_language cell is (sql/staging/int_reviews_typed.sql): "ES", "es-MX" and
        # "pt_BR" are es, es and pt; blank is none (detected)
        if value is None:
            return None
        code = re.sub(r"[-_].*$", "", str(value).strip()).lower()
        if not code:
            return None
        if not re.fullmatch(r"[a-z]{2}", code):
            raise ValueError(
                f"language {value!r} is not an ISO 639-1 code: give the two letters (e.g. \"es\", "
                "\"en\"; a region after - or _ is dropped), or leave it out for the language to be detected"
            )
        return code

    @field_validator("rating_scale", mode="before")
    @classmethod
    def _scale_is_top_or_thumbs(cls, value: Any) -> Any:
        # one message for both forms, not pydantic's two errors of a union
        if value == "thumbs" or (isinstance(value, int) and not isinstance(value, bool)
                                 and 2 <= value <= 100):
            return value
        raise ValueError(
            f"rating_scale must be the top of the scale, a whole number 2..100 (5, 10, 100), or "
            f"\"thumbs\" for recommended / not recommended ratings; got {value!r}"
        )

    @model_validator(mode="after")
    def _scale_points(self) -> Source:
        if self.rating_scale == "thumbs":
            if self.rating_min not in (None, 0) or self.rating_step not in (None, 1):
                raise ValueError(
                    f"source {self.name!r}: a thumbs scale has the points 0 and 1; leave out "
                    "rating_min and rating_step (or set rating_scale to the top of a numeric scale)"
                )
            self.rating_min, self.rating_step = 0.0, 1.0
            return self
        self.rating_min = 1.0 if self.rating_min is None else float(self.rating_min)
        self.rating_step = 1.0 if self.rating_step is None else float(self.rating_step)
        low, step, top = self.rating_min, self.rating_step, self.rating_scale
        where = f"source {self.name!r}"
        if not 0 <= low < top:
            raise ValueError(f"{where}: rating_min {low:g} must be at least 0 and below rating_scale {top}")
        for name, value in (("rating_min", low), ("rating_step", step)):
            if not _whole(value / RATING_UNIT) or (name == "rating_step" and value <= 0):
                raise ValueError(
                    f"{where}: {name} {value:g} must be a multiple of {RATING_UNIT:g}, the unit ratings are "
                    f"summed in exactly{' (and above 0)' if name == 'rating_step' else ''}"
                )
        steps = (top - low) / step
        if not _whole(steps):
            raise ValueError(
                f"{where}: rating_step {step:g} does not divide the scale {low:g}..{top} into whole "
                "steps; give the step between two neighbouring ratings (1, 0.5, 0.1)"
            )
        if round(steps) + 1 > MAX_RATING_POINTS:
            raise ValueError(
                f"{where}: the scale {low:g}..{top} in steps of {step:g} has {round(steps) + 1} points, "
                f"more than the {MAX_RATING_POINTS} a histogram lists; give a coarser rating_step"
            )
        return self

    @property
    def scale_top(self) -> int:
        """The top of the scale as staged and published: rating_scale, 1 for thumbs."""
        return 1 if self.rating_scale == "thumbs" else self.rating_scale

    @model_validator(mode="after")
    def _known_fields_and_options(self) -> Source:
        # a saved IMDb page yields both titles and reviews, whatever kind the source says
        fields = (
            REVIEW_FIELDS + TITLE_FIELDS if self.format == "imdb_page" else FIELDS_BY_KIND[self.kind]
        )
        unknown = sorted(set(self.columns) - set(fields))
        if unknown:
            raise ValueError(
                f"source {self.name!r}: [sources.columns] has {', '.join(unknown)}, which are not "
                f"{self.kind} fields; use one of: {', '.join(fields)}"
            )
        bad_options = sorted(set(self.options) - READER_OPTIONS[self.format])
        if bad_options:
            raise ValueError(
                f"source {self.name!r}: [sources.options] {', '.join(bad_options)} not understood for "
                f"format {self.format!r}; allowed: {', '.join(sorted(READER_OPTIONS[self.format]))}"
            )
        return self


class SentimentSettings(BaseModel):
    """How texts are scored: label thresholds and the worker pool."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(default=0.05, gt=0, lt=1)
    workers: int = Field(default=0, ge=0, description="0 = one per CPU core")
    batch_size: int = Field(default=2000, ge=1)
    # Which score stands for a review in per-title figures (sentiment_mean, shares, mismatches):
    # "sentence" = mean compound of its sentences, "whole" = compound of the whole text.
    title_measure: Literal["sentence", "whole"] = "sentence"
    mismatch_threshold: float = Field(default=0.5, gt=0, le=1)
    # The languages scored (ISO 639-1), each by its analyzer (sentiment.ANALYZERS: VADER for "en");
    # reviews in any other language get no sentiment and the label "unscored".
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    # Whether a text whose language is undetermined ("und": too short or mixed to tell) is scored
    # when the detectors' best guess is one of `languages` (mostly one- to three-word texts such
    # as "Nice app"); false leaves every undetermined text unscored.
    score_undetermined: bool = True

    @field_validator("languages")
    @classmethod
    def _languages_have_analyzers(cls, value: list[str]) -> list[str]:
        from reviewpipe.sentiment import ANALYZERS

        unknown = [code for code in value if code not in ANALYZERS]
        if unknown:
            raise ValueError(
                f"[sentiment] languages: no analyzer for {', '.join(map(repr, unknown))}; languages "
                f"with an analyzer: {', '.join(sorted(ANALYZERS))}"
            )
        return list(dict.fromkeys(value))


Z_95 = 1.959963984540054  # the two-sided 95% normal quantile: the z of both defaults below


class MetricsSettings(BaseModel):
    """Parameters of the published measures."""

    model_config = ConfigDict(extra="forbid")

    wilson_z: float = Field(default=Z_95, gt=0, description="z of the 95% Wilson bound")
    top_helpful_per_title: int = Field(default=10, ge=1)
    # IMDb's weighted rating WR = v/(v+m)·R + m/(v+m)·C. C defaults to the mean rating over titles
    # (per rating scale), m to this quantile of the titles' vote counts; either can be fixed.
    weighted_quantile: float = Field(default=0.5, ge=0, le=1)
    weighted_m: float | None = Field(default=None, ge=0)
    weighted_c: float | None = None
    bayesian_prior_per_star: float = Field(default=1.0, gt=0)
    confidence_z: float = Field(default=Z_95, gt=0)
    # is_polarized: at least this many ratings, Sarle's bimodality coefficient above this bound
    # (5/9 is a uniform distribution's), and at least this share at each end of the scale.
    polarized_min_ratings: int = Field(default=10, ge=4)
    polarized_bimodality: float = Field(default=5 / 9, gt=0, lt=1)
    polarized_end_share: float = Field(default=0.2, gt=0, lt=0.5)


# Disclosures of a review written for something in return (the incentivized test): lower-case
# regular expressions, any of which in a review's text puts it in the subset (the first that matches
# is the detail shown). Edit [trust] disclosure_patterns to change them; the list is in the README
# ("Trust tests"), and docs/trust.md ("Incentivized") counts what each matches in every real corpus.
DISCLOSURE_PATTERNS = (
    # Steam's own label on a review of a key the reviewer did not pay for (12% of the Steam corpus)
    r"^product received for free\b",
    # a free product with a review in the same sentence: "got it for free" alone is a giveaway, a
    # free weekend or a comped meal in the real corpora (34 Steam, Yelp and hotel reviews), not a
    # disclosure. "receive" too: a family picked to receive a product free to review it (Fine Food)
    r"\b(receive|received|got|given|was sent|sent me)\b[^.!?]{0,40}\b(for free|free of charge|at no (cost|charge)|free sample|complimentary)\b[^.!?]{0,60}\b(review|opinion|feedback|evaluat|test)",
    r"\bin (exchange|return) for (my|an|a|this) ((honest|unbiased|fair|truthful|impartial|objective) )?(review|opinion|evaluation|feedback)",
    # a review promised in exchange for a copy of the film (aclImdb)
    r"\bin (exchange|return) for (a|an|my|the) (free |complimentary |review )?(copy|sample|screener)\b",
    r"\b(at a|for a) (discount|discounted (price|rate)|reduced (price|rate))\b[^.!?]{0,40}\b(review|honest|unbiased)",
    r"\b(discount|discounted|free)\b[^.!?]{0,30}\bin (exchange|return) for\b",
    r"\b(was|were) provided (to me )?(free )?(by|from) the (seller|manufacturer|company|vendor|brand)\b",
    # "the company sent me a replacement" is service, not an incentive: a free item or a review must follow
    r"\b(the seller|the manufacturer|the company|the vendor|the brand) (sent|provided|gave) me\b[^.!?]{0,40}\b(free|review|discount|sample)",
    # samples received from the maker to try, the review based on them (Fine Food)
    r"\b(received|got|was sent|were sent|was given|been sent|been given)\b[^.!?]{0,50}\b(from|by) the (company|manufacturer|maker|seller|vendor|brand)\b[^.!?]{0,30}\bto (try|test|review|sample|taste|evaluate)\b",
    # a product "provided to me free" (the usual wording; none in the real corpora); "the hotel
    # provided free wifi" is a perk: "to me" and a free or discounted item must be said
    r"\b(provided|given|sent|supplied) to me (for free|free of charge|free|at no (cost|charge)|at a (discount|reduced price)|complimentary)\b",
    # "for review purposes" alone is a critic's (an IMDb reviewer seeing a film for review purposes):
    # a free or received item must come first
    r"\b(free|free of charge|at no (cost|charge)|complimentary|discount|discounted|provided|received|sent|given)\b[^.!?]{0,40}\b(for|to) ((testing|test|evaluation) (and|&) )?(review|reviewing|testing|evaluation)( (and|&) (review|testing|evaluation))? purposes\b",
    r"\bfor (my|an) (honest|unbiased) (review|opinion|feedback)\b",
    # Amazon Vine: free products for chosen reviewers (13 Fine Food reviews name it: Amazon Vine, the
    # Vine program, a Vine kit, a taste offered because of Vine); a bare "vine" is a plant, a
    # grapevine or Twitter's Vine (Yelp, IMDb, Steam)
    r"\b(amazon vine|vine (program|voice|member|reviewer|kit|item|product|sample)s?\b|(because of|through|via|from) (the )?vine\b)",
    # product-testing clubs whose members get products free to review (two Fine Food reviewers are
    # BzzAgents), and Yelp's free Elite events (one Yelp review)
    r"\b(bzz ?agent|influenster|voxbox|tomoson|smiley ?360)\b",
    r"\byelp elite (event|party|soiree|dinner|tasting)\b",
)
# Author names many people share, which tell nobody apart (lower case): reviews under them count as
# by unknown reviewers in the reviewer tests, unless the source maps a reviewer_id.
ANONYMOUS_NAMES = (
    "a google user", "amazon customer", "kindle customer", "anonymous", "anon", "guest", "user",
    "customer", "a customer", "an amazon customer", "verified buyer", "verified purchaser",
    "deleted user", "[deleted]", "steam user",
)


class TrustSettings(BaseModel):
    """The trust tests (reviewpipe.trust; README, "Trust tests"): which reviews each picks, and when a
    subset fails."""

    model_config = ConfigDict(extra="forbid")

    # false: no trust test runs (the trust stage reads and keeps nothing; the agg_trust_ tables are
    # published empty and the report and the run's summary say the tests are off)
    enabled: bool = True
    # False-discovery rate: each of a row's two p-values, Benjamini-Hochberg-corrected over every
    # title and test of the run, must be below it. 5%, the rate BH is usually run at: against 0.01
    # the planted-campaign harness found twice the campaigns on Yelp and Amazon with no more false
    # alarms (docs/trust.md, "Measured"); the effect floors keep chance findings harmless
    alpha: float = Field(default=0.05, gt=0, lt=1)
    # a title with fewer rated reviews is not tested
    min_title_reviews: int = Field(default=10, ge=4)
    # a subset fails only with at least this many reviews, at least min_share_ratio times the share
    # the test picks elsewhere, and a mean rating at least min_rating_effect of the scale's span
    # (K - L) away from the rest's
    min_subset_reviews: int = Field(default=5, ge=2)
    min_share_ratio: float = Field(default=2.0, ge=1)
    min_rating_effect: float = Field(default=0.1, ge=0, le=1)
    # ... or, unusually large, at least dominant_min_reviews reviews and dominant_share of the
    # title's tested reviews, whatever it rates: the title's rating is then mostly the subset's, and
    # the few other reviews cannot vouch for it (a ring of 37 accounts among 47 reviews, rating 5.0
    # against 4.8 for the other ten). 20 reviews: a small title's ten reviews on one day are not
    # one (Amazon 2018's clean titles: docs/trust.md, "Dominant subsets")
    dominant_share: float = Field(default=0.5, gt=0, le=1)
    dominant_min_reviews: int = Field(default=20, ge=2)
    # burst: a day with at least burst_min_reviews reviews of the title, which its own daily rate
    # (reviews / days from its first to its last review) and the days within
    # burst_neighbourhood_days around it (their mean and spread: negative binomial) make less likely
    # than burst_p. 14: a release or launch wave lasts weeks, and a wave's peak is not a burst
    burst_min_reviews: int = Field(default=5, ge=2)
    burst_p: float = Field(default=1e-6, gt=0, lt=1)
    burst_neighbourhood_days: int = Field(default=14, ge=3)
    # copied_text: texts of at least copy_min_words words whose word-shingle Jaccard similarity
    # (MinHash estimate) is at least copy_similarity, written by different reviewers
    copy_similarity: float = Field(default=0.8, gt=0, le=1)
    copy_min_words: int = Field(default=8, ge=1)
    # repeated_phrases: phrases of phrase_words words shared by at least phrase_min_reviews reviews
    # of a title, which the corpus's frequency of the phrase makes less likely than phrase_p (names
    # left out); a review is in the subset when it holds two of them that phrase_min_reviews
    # reviewers of the title hold together
    phrase_words: int = Field(default=4, ge=3)
    phrase_min_reviews: int = Field(default=5, ge=2)
    phrase_p: float = Field(default=1e-6, gt=0, lt=1)
    # rating_deviation: reviewers with at least deviation_min_reviews rated reviews whose mean
    # signed distance from each title's consensus (the other reviewers' mean) is at least
    # deviation_threshold of the scale's span
    deviation_min_reviews: int = Field(default=5, ge=2)
    deviation_threshold: float = Field(default=0.3, gt=0, le=1)
    # review_ring: a pair of titles of one source is a ring pair when at least ring_min_reviewers
    # reviewers reviewed each title within one window of time (reviews within ring_days days of each
    # other share one; distinct writings), a count independence makes less likely than ring_p
    # (Poisson); a reviewer of two ring pairs is in a ring. Reviewers with more than ring_max_titles
    # titles are not counted (pairs grow as k²)
    ring_days: int = Field(default=14, ge=1)
    ring_min_reviewers: int = Field(default=10, ge=2)
    ring_p: float = Field(default=1e-6, gt=0, lt=1)
    ring_max_titles: int = Field(default=50, ge=3)
    disclosure_patterns: list[str] = Field(default_factory=lambda: list(DISCLOSURE_PATTERNS))
    anonymous_names: list[str] = Field(default_factory=lambda: list(ANONYMOUS_NAMES))

    @field_validator("disclosure_patterns")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"[trust] disclosure_patterns: {pattern!r} is not a regular expression: {e}")
        return value

    @field_validator("anonymous_names")
    @classmethod
    def _lower_case(cls, value: list[str]) -> list[str]:
        return [name.strip().lower() for name in value]


class TermsSettings(BaseModel):
    """The distinctive terms per title (reviewpipe.terms; README, "Distinctive terms"): what its
    high-rated reviews say that its low-rated ones do not, and what sets it apart from the others."""

    model_config = ConfigDict(extra="forbid")

    # false: no term is counted (agg_title_terms is published empty; the kept counts are left)
    enabled: bool = True
    # a title's term is kept, and compared, when at least this many of its reviews use it: 3 keeps
    # 6.9 million (title, term) rows at 1,000,000 bench reviews, 2 would keep 13.0 million, and a
    # term two reviews use cannot reach min_z against a prior of 1,000 pseudo-counts anyway
    min_reviews: int = Field(default=3, ge=1)
    # the terms published per title and side (praise, complaint, distinctive), when their z-score
    # is at least min_z (1.96: a two-sided 5% test of one term)
    top_terms: int = Field(default=10, ge=1, le=100)
    min_z: float = Field(default=1.96, ge=0)


class ExportSettings(BaseModel):
    """How published tables are handed out as files."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "parquet"] = "csv"
    # OWASP's CSV-injection advice: text starting with = + - @ tab or CR is prefixed with ' so a
    # spreadsheet shows it instead of evaluating it. Numbers are never altered.
    neutralize_formulas: bool = True


class SqlSettings(BaseModel):
    """Bounds on an ad-hoc query of the published database (`reviewpipe sql`, its prompt)."""

    model_config = ConfigDict(extra="forbid")

    # DuckDB's memory cap for the query; beyond it DuckDB spills to temp_directory where it can
    memory_limit: str = Field(default="1GB", pattern=_SIZE)
    # where the query spills (a fresh folder inside it per query, removed after); never the published
    # folder, which DuckDB would use for a read-only file. Unset: the system's temporary folder.
    temp_directory: Path | None = None
    max_temp_directory_size: str = Field(default="4GB", pattern=_SIZE)
    # a query still running after this long is interrupted
    timeout_seconds: float = Field(default=300.0, gt=0)


class ScheduleSettings(BaseModel):
    """When `reviewpipe serve` (and prefect.yaml's deployment) runs the pipeline."""

    model_config = ConfigDict(extra="forbid")

    cron: str = "0 3 * * *"
    timezone: str = "UTC"
    # a run that starts while another is writing: "wait" for it (up to lock_wait_seconds, then fail),
    # or "skip": exit cleanly with a message, the next scheduled run will catch up
    overlap: Literal["wait", "skip"] = "wait"
    deployment: str = Field(default="reviewpipe-scheduled", pattern=r"^[a-z0-9][a-z0-9-]*$")
    # Prefect retries a stage that failed for a reason that may clear by itself (the warehouse locked
    # by another process, a source file still being written), after retry_delay_seconds, then twice
    # that, and so on; user errors (bad config, bad file) are never retried.
    retries: int = Field(default=3, ge=0)
    retry_delay_seconds: float = Field(default=10.0, ge=0)


class RunnerSettings(BaseModel):
    """Where the partitioned work runs: on this machine, or on a Dask cluster (README, Scale-out)."""

    model_config = ConfigDict(extra="forbid")

    # "local": files read and metrics summed in this process, texts scored in a process pool;
    # "dask": reading files, scoring and partial aggregates run as Prefect tasks on a Dask cluster
    # through prefect-dask; DuckDB stays the single writer, in the flow's process.
    kind: Literal["local", "dask"] = "local"
    # tcp://scheduler:8786; empty with kind = "dask" starts a LocalCluster on this machine
    dask_address: str = ""
    dask_workers: int = Field(default=0, ge=0, description="LocalCluster workers; 0 = one per core")
    # reviews per partition for the partial aggregates (texts per scoring partition: batch_size)
    partition_rows: int = Field(default=100_000, ge=1)


class ReportSettings(BaseModel):
    """What the HTML report (reviewpipe.report) marks."""

    model_config = ConfigDict(extra="forbid")

    # A title whose sentiment covers a smaller share of its reviews with text than this (its
    # scored_share; the others are in languages [sentiment] languages does not list) is marked
    # wherever the report shows its sentiment beside other titles' (README, "The report"); 0 marks none.
    min_scored_share: float = Field(default=0.8, ge=0, le=1)


class QualitySettings(BaseModel):
    """Limits past which a run publishes nothing new and fails (README, "When a run went wrong")."""

    model_config = ConfigDict(extra="forbid")

    # a source whose records (rows read plus lines the reader rejected) are quarantined in a larger
    # share than this fails the run; second copies of a review are duplicates, counted apart. 0.1:
    # IMDb's review export quarantines less (rating cells holding widget text) and is fine; a wrong
    # date format, column or scale quarantines far more
    max_quarantined_share: float = Field(default=0.1, ge=0, le=1)
    # a source with a larger share of its files unreadable fails the run: one bad file of two is
    # recorded and the run goes on, as are an empty, header-only or foreign file beside good ones
    max_unreadable_share: float = Field(default=0.5, ge=0, le=1)


class Settings(BaseSettings):
    """Everything a run needs; read it with `load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="REVIEWPIPE_", env_nested_delimiter="__", extra="forbid"
    )

    config_file: Path | None = None
    paths: Paths = Field(default_factory=Paths)
    sources: list[Source] = Field(default_factory=list)
    sentiment: SentimentSettings = Field(default_factory=SentimentSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    exports: ExportSettings = Field(default_factory=ExportSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    sql: SqlSettings = Field(default_factory=SqlSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    trust: TrustSettings = Field(default_factory=TrustSettings)
    terms: TermsSettings = Field(default_factory=TermsSettings)
    # a run that finds the warehouse locked by another process waits this long, then fails
    lock_wait_seconds: float = Field(default=30.0, ge=0)
    # DuckDB's memory cap for a run's warehouse connections (DuckDB's own default is 80% of RAM,
    # mostly cache); beyond it DuckDB spills to disk
    memory_limit: str = Field(default="2GB", pattern=_SIZE)
    uses_sample: bool = Field(default=False, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment variables win over the file, the way operators expect to override a config.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _default_to_sample(self) -> Settings:
        # With no [[sources]] configured, the pipeline runs on the synthetic sample it generates.
        if not self.sources:
            self.sources = sample_sources(self.paths.samples)
            self.uses_sample = True
        return self

    @model_validator(mode="after")
    def _unique_source_names(self) -> Settings:
        names = [s.name for s in self.sources]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"source names must be unique; repeated: {', '.join(duplicated)}")
        return self

    @property
    def base_dir(self) -> Path:
        """The folder relative paths resolve against."""
        return self.config_file.parent if self.config_file else Path.cwd()

    def resolve(self, path: Path | str) -> Path:
        """An absolute path for a configured path."""
        p = Path(path).expanduser()
        return Path(os.path.normpath(p if p.is_absolute() else (self.base_dir / p)))

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.paths.warehouse)

    @property
    def published_path(self) -> Path:
        return self.resolve(self.paths.published)

    @property
    def exports_path(self) -> Path:
        return self.resolve(self.paths.exports)

    @property
    def samples_path(self) -> Path:
        return self.resolve(self.paths.samples)

    @property
    def sql_limits(self) -> SqlSettings:
        """[sql] with temp_directory, when set, resolved against the config file's folder."""
        folder = self.sql.temp_directory
        return self.sql.model_copy(update={"temp_directory": folder and self.resolve(folder)})

    def source(self, name: str) -> Source:
        """The configured source called name."""
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ReviewpipeError(f"no source named {name!r} in the configuration (configured: {known})")


def sample_sources(samples: Path) -> list[Source]:
    """The sources of the embedded default: the titles and yearly review files `reviewpipe sample` writes."""
    return [
        Source(name="sample_titles", kind="titles", path=str(samples / "titles.csv")),
        Source(name="sample_reviews", kind="reviews", path=str(samples / "reviews_*.csv")),
    ]


def find_config(config: Path | str | None) -> Path | None:
    """The config file to read: the one given, else $REVIEWPIPE_CONFIG, else ./reviewpipe.toml if present."""
    if config is None:
        config = os.environ.get("REVIEWPIPE_CONFIG") or None
    if config is not None:
        path = Path(config).expanduser().resolve()
        if not path.is_file():
            raise ReviewpipeError(f"config file {path} does not exist; pass an existing file to --config")
        return path
    default = Path.cwd() / DEFAULT_CONFIG_NAME
    return default.resolve() if default.is_file() else None


def load_settings(config: Path | str | None = None) -> Settings:
    """Settings from the config file (see `find_config`) with REVIEWPIPE_* overrides applied."""
    path = find_config(config)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ReviewpipeError(f"{path}: not valid TOML ({exc}); fix the file and run again") from exc
        except UnicodeDecodeError as exc:
            raise ReviewpipeError(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from exc
        data["config_file"] = path
    try:
        return Settings(**data)
    except ValidationError as exc:
        where = path or "the default configuration"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors()
        )
        raise ReviewpipeError(f"{where}: {problems}") from exc
