"""burst's days (reviewpipe.trust.subsets.burst_days) on hand-made dated reviews: a day is judged
against the title's whole-life rate and against the days around it, so that a release wave's peak
is not a burst and a campaign's day in a quiet fortnight is, on the same title."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from scipy import stats as sps

from reviewpipe.settings import Settings
from reviewpipe.trust.subsets import burst_days

START = dt.date(2012, 4, 20)
# a film's release fortnight, as IMDb's The Avengers has one: 20-80 reviews a day for 14 days, its
# opening days the largest (Poisson at the fortnight's mean would call them bursts: 80 against 34)
WAVE = [20, 25, 80, 68, 50, 40, 30, 25, 45, 63, 61, 30, 22, 20]


def _burst_days(counts: dict[dt.date, int], settings: Settings | None = None) -> dict[dt.date, tuple[int, float]]:
    con = duckdb.connect()
    con.execute("create temp table trust_reviews (title_id varchar, review_date date)")
    rows = [("film", day) for day, c in counts.items() for _ in range(c)]
    con.executemany("insert into trust_reviews values (?, ?)", rows)
    days = burst_days(con, settings or Settings())
    return {row["review_date"]: (row["day_reviews"], row["daily_rate"]) for row in days.iter_rows(named=True)}


def _film(extra: dict[dt.date, int]) -> dict[dt.date, int]:
    """The wave, then a review every third day for four years, plus `extra`."""
    counts = {START + dt.timedelta(days=i): c for i, c in enumerate(WAVE)}
    for i in range(20, 4 * 365, 3):
        counts[START + dt.timedelta(days=i)] = 1
    for day, c in extra.items():
        counts[day] = counts.get(day, 0) + c
    return counts


def test_a_release_waves_peak_is_not_a_burst() -> None:
    # the opening days stand out of the title's whole life (rate ~0.8 a day), not out of their
    # fortnight, whose counts vary far more than their mean
    assert _burst_days(_film({})) == {}


def test_a_campaign_day_in_a_quiet_fortnight_of_the_same_film_is_a_burst() -> None:
    bombing = START + dt.timedelta(days=700)
    burst = [START + dt.timedelta(days=1000), START + dt.timedelta(days=1001)]
    counts = _film({bombing: 47, burst[0]: 32, burst[1]: 32})
    found = _burst_days(counts)
    # both days of the two-day burst (the day next to a day is not its yardstick) and the bombing
    # day (with a background review when it falls on one); each judged against the larger of the whole-life
    # rate and its fortnight's mean, here the whole-life rate: the film's reviews over its days
    rate = sum(counts.values()) / ((max(counts) - min(counts)).days + 1)
    assert found == {day: (counts[day], pytest.approx(rate)) for day in (bombing, *burst)}
    assert counts[bombing] >= 47 and min(counts[day] for day in burst) >= 32


def test_a_day_is_judged_against_its_fortnight_when_that_is_busier() -> None:
    # a review every fifth day for two years, and a busy month of 12 a day (every day alike, as
    # Poisson has it) with one day of 40 in it: the yardstick is the fortnight's mean, 12, not the
    # whole-life rate (~0.7), and the fortnight varies no more than its mean (Poisson)
    counts = {START + dt.timedelta(days=i): 1 for i in range(0, 730, 5)}
    counts |= {START + dt.timedelta(days=i): 12 for i in range(300, 330)}
    peak = START + dt.timedelta(days=315)
    counts[peak] = 40
    found = _burst_days(counts)
    assert found == {peak: (40, pytest.approx(12.0))}
    assert sps.poisson.sf(39, 12.0) < Settings().trust.burst_p


def test_the_neighbourhood_is_a_setting() -> None:
    # with a neighbourhood of 3 days (the days 2 and 3 away), the wave's opening day stands out of
    # the quieter days around it
    settings = Settings(trust={"burst_neighbourhood_days": 3})
    assert _burst_days(_film({}), settings) != {}
