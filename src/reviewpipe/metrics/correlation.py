"""Spearman's rank correlation per group, exact and the same in every run."""

from __future__ import annotations

import polars as pl


def spearman(frame: pl.LazyFrame, keys: list[str], x: str, y: str, name: str) -> pl.LazyFrame:
    """Spearman's rank correlation of x and y per group of keys, over rows where both are known.

    grain: one row per group with at least one pair; `name` is null with fewer than 3 pairs or a
    constant side. Ranks are averaged on ties and summed as whole numbers (twice the rank, summed in
    128 bits), so the result is exact and the same in every run. y is ranked row by row; x from the
    count of each of its values, so x is best the side with fewer distinct values (a rating).
    """
    wide = pl.Int128
    b, m = pl.col("_b"), pl.col("_m")
    pairs = frame.filter(pl.col(x).is_not_null() & pl.col(y).is_not_null()).select(
        *keys, x, _b=(pl.col(y).rank("average").over(keys) * 2).cast(pl.Int64)
    )
    # per value of x: its rows, and their sums of y's ranks
    by_value = pairs.group_by(*keys, x).agg(
        _m=pl.len().cast(pl.Int64), _sby=b.cast(wide).sum(), _sbby=(b * b).cast(wide).sum()
    )
    # twice the average rank of a value of x: twice the rows before it, plus its rows, plus 1
    a = pl.col("_a")
    sums = (
        by_value.sort(*keys, x)
        .with_columns(_a=(2 * (m.cum_sum().over(keys) - m) + m + 1).cast(wide))
        .group_by(keys)
        .agg(
            _n=m.sum().cast(pl.Float64),
            _sa=(a * m).sum().cast(pl.Float64),
            _sb=pl.col("_sby").sum().cast(pl.Float64),
            _saa=(a * a * m).sum().cast(pl.Float64),
            _sbb=pl.col("_sbby").sum().cast(pl.Float64),
            _sab=(a * pl.col("_sby")).sum().cast(pl.Float64),
        )
    )
    n = pl.col("_n")
    cov = pl.col("_sab") / n - (pl.col("_sa") / n) * (pl.col("_sb") / n)
    var_a = pl.col("_saa") / n - (pl.col("_sa") / n) ** 2
    var_b = pl.col("_sbb") / n - (pl.col("_sb") / n) ** 2
    return sums.select(
        *keys,
        pl.when((n >= 3) & (var_a > 0) & (var_b > 0))
        .then((cov / (var_a * var_b).sqrt()).clip(-1.0, 1.0))
        .alias(name),
    )
