"""Exact sums: values counted in whole multiples of a unit, and the means and deviations made of them.

Means and deviations are summed as whole multiples of these units, exactly, so they come out the
same in every run whatever order Polars' threads add them in (float sums would differ in the last
bit between re-runs). VADER rounds compound to 4 decimals; ratings are points of their scale,
whole multiples of RATING_UNIT (1e-3: settings.Source allows no finer rating_step or rating_min).
"""

from __future__ import annotations

import polars as pl

COMPOUND_UNIT = 1e-4
SCORE_UNIT = 1e-6  # sentence means are not rounded by VADER; 6 decimals are kept


def in_units(x: pl.Expr, unit: float) -> pl.Expr:
    """x as a whole number (Int64) of units, rounded to the nearest."""
    # times the whole number of units in 1, not divided by the unit: Polars divides by a number
    # either exactly or by multiplying by its inverse, depending on the plan, so a value within
    # rounding error of half a unit (a sentence mean, the double -0.32463749999999997) came out
    # -324637 units in one plan and -324638 in another (a Dask run's partitions, a local run)
    return (x * round(1 / unit)).round(0).cast(pl.Int64)


def mean_from_units(units: str, n: str, unit: float) -> pl.Expr:
    """The mean of n values whose sum is the column `units` (in units); null when n is 0."""
    return pl.when(pl.col(n) > 0).then(pl.col(units) / pl.col(n) * unit).otherwise(None)


def std_from_units(units: str, units_sq: str, n: str, unit: float) -> pl.Expr:
    """The sample standard deviation (n - 1) of n values from their sum and sum of squares in units;
    null for fewer than 2 values."""
    count, s1 = pl.col(n), pl.col(units).cast(pl.Float64)
    var = ((pl.col(units_sq).cast(pl.Float64) - s1 * s1 / count) / (count - 1)).clip(lower_bound=0.0)
    return pl.when(count > 1).then(var.sqrt() * unit).otherwise(None)


def with_share(frame: pl.LazyFrame, count: str, keys: list[str], name: str) -> pl.LazyFrame:
    """frame, in its order, with `name` = count / the sum of count over the rows of its group (keys).

    The sum is joined back and divided row by row rather than taken with `.over(keys)`: over a frame
    of one group Polars makes that sum a scalar and multiplies by its inverse (3 of 5 came out
    0.6000000000000001), so a delta run's share of its one title differed in the last bit from the
    whole build's."""
    totals = frame.group_by(keys).agg(pl.col(count).sum().alias("_group_total"))
    return (
        frame.join(totals, on=keys, how="left", maintain_order="left", nulls_equal=True)
        .with_columns((pl.col(count) / pl.col("_group_total")).alias(name))
        .drop("_group_total")
    )
