"""Metrics: pure Polars functions from staged frames to the frames that get published.

No I/O and no globals: every function takes frames (lazy or eager) and parameters, and returns a new
lazy frame. The grain of each result is in its docstring. By domain:

- `units`: exact sums (values in whole units) and the means and deviations made of them;
- `helpfulness`: helpful ratio, Wilson bound, vote sums, the most helpful reviews, who votes;
- `ratings`: scales, rating classes, the rating histogram and distribution, their shape;
- `comparable`: weighted and Bayesian ratings, confidence intervals, the share recommended;
- `correlation`: Spearman's rank correlation, exact;
- `agreement`: sentiment labels, words against stars, the mismatched reviews;
- `per_review`: each review's metrics (helpfulness, labels, score, mismatch flag);
- `partials`: partial aggregates of a partition of the reviews and their exact merge;
- `titles`: merged titles, per-title figures, the title summary, the monthly trends, the languages;
- `frames`: `metric_frames`, the assembly of every published metric frame that production runs.

This package exports each module's public names: `from reviewpipe import metrics; metrics.X`.
"""

from reviewpipe.metrics.agreement import (
    AGREEMENT_INPUTS,
    MISMATCH_COLUMNS,
    rating_sentiment_mismatch,
    rating_sentiment_mismatches,
    sentiment_agreement,
    sentiment_label,
    with_read_order,
)
from reviewpipe.metrics.comparable import (
    comparable_ratings,
    weighted_rating,
    weighted_rating_parameters,
    wilson_interval,
)
from reviewpipe.metrics.correlation import spearman
from reviewpipe.metrics.frames import metric_frames
from reviewpipe.metrics.helpfulness import (
    helpful_ratio,
    helpfulness,
    known_vote_sums,
    top_helpful_reviews,
    vote_sums,
    wilson_lower_bound,
)
from reviewpipe.metrics.partials import (
    language_sums,
    merge_partials,
    partial_aggregates,
    partial_sums,
)
from reviewpipe.metrics.per_review import REVIEW_METRIC_COLUMNS, with_review_metrics
from reviewpipe.metrics.ratings import (
    SCALE_COLUMNS,
    THUMBS_SCALE,
    default_rating_min,
    distribution_from_histogram,
    rating_class,
    rating_class_of,
    rating_histogram,
    rating_kind,
    rating_shape,
    title_scales,
    with_scale_points,
)
from reviewpipe.metrics.titles import (
    TITLE_STATS_COLUMNS,
    merged_titles,
    monthly_trends_from_partials,
    title_languages,
    title_stats,
    title_summary_from_stats,
)
from reviewpipe.metrics.units import (
    COMPOUND_UNIT,
    SCORE_UNIT,
    in_units,
    mean_from_units,
    std_from_units,
)

__all__ = [
    "AGREEMENT_INPUTS", "COMPOUND_UNIT", "MISMATCH_COLUMNS", "REVIEW_METRIC_COLUMNS",
    "SCALE_COLUMNS", "SCORE_UNIT", "THUMBS_SCALE", "TITLE_STATS_COLUMNS", "comparable_ratings",
    "default_rating_min", "distribution_from_histogram", "helpful_ratio", "helpfulness", "in_units",
    "known_vote_sums", "language_sums", "mean_from_units", "merge_partials", "merged_titles",
    "metric_frames", "monthly_trends_from_partials", "partial_aggregates", "partial_sums",
    "rating_class", "rating_class_of", "rating_histogram", "rating_kind",
    "rating_sentiment_mismatch", "rating_sentiment_mismatches", "rating_shape",
    "sentiment_agreement", "sentiment_label", "spearman", "std_from_units", "title_languages",
    "title_scales", "title_stats", "title_summary_from_stats", "top_helpful_reviews", "vote_sums",
    "weighted_rating", "weighted_rating_parameters", "wilson_interval", "wilson_lower_bound",
    "with_read_order", "with_review_metrics", "with_scale_points",
]
