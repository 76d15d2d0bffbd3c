"""Forecast origins on the day clock and the month clock (pure; no store).

* **Day clock.** ``t`` is days since 1970-01-01 on the local wall clock. Origins are local
  midnights ``start, start + h, ...`` while the whole test period ``[t0, t0 + h)`` lies
  inside the test window (a tail shorter than ``h`` is not tested).
* **Month clock.** When data give only the month of each incident (every timestamp is the
  1st at 00:00: data.police.uk and other monthly files), month ``m`` starts at day ``30 m``
  of a month clock, horizons are whole months and origins are month starts.

Default test window: the :data:`DEFAULT_TEST_MONTHS` months up to the last incident, starting
no earlier than one horizon after the first (every origin has history).
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from spatial.errors import InvalidParameterError

__all__ = [
    "DAYS_PER_MONTH_CLOCK",
    "DEFAULT_TEST_MONTHS",
    "Origins",
    "day_clock",
    "day_origins",
    "is_month_resolution",
    "month_index",
    "month_origins",
]

#: Days of one month on the month clock.
DAYS_PER_MONTH_CLOCK: Final = 30.0
#: Default test window: the last 18 months of data.
DEFAULT_TEST_MONTHS: Final = 18
_EPOCH: Final = np.datetime64("1970-01-01T00:00:00", "ns")
_ONE_DAY: Final = np.timedelta64(1, "D")


def is_month_resolution(occurred: pd.Series) -> bool:
    """Return whether every timestamp is the 1st of a month at 00:00 (data that give months).

    Examples
    --------
    >>> is_month_resolution(pd.Series(pd.to_datetime(["2018-10-01", "2018-11-01"])))
    True
    >>> is_month_resolution(pd.Series(pd.to_datetime(["2018-10-01 00:00", "2018-11-01 09:30"])))
    False
    """
    if occurred.empty:
        return False
    ts = pd.DatetimeIndex(occurred)
    return bool(((ts.day == 1) & (ts == ts.normalize())).all())


def day_clock(occurred: pd.Series) -> npt.NDArray[np.float64]:
    """Days since 1970-01-01 on the local wall clock (the store's timestamps as they are).

    Examples
    --------
    >>> day_clock(pd.Series(pd.to_datetime(["1970-01-02 12:00"]))).tolist()
    [1.5]
    """
    ns = occurred.to_numpy(dtype="datetime64[ns]")
    return np.asarray((ns - _EPOCH) / _ONE_DAY, dtype=np.float64)


def month_index(occurred: pd.Series) -> npt.NDArray[np.int64]:
    """Months since 1970-01 (January 1970 is 0).

    Examples
    --------
    >>> month_index(pd.Series(pd.to_datetime(["1970-01-31", "2018-10-01"]))).tolist()
    [0, 585]
    """
    ts = pd.DatetimeIndex(occurred)
    return np.asarray((ts.year - 1970) * 12 + ts.month - 1, dtype=np.int64)


def _month_start(m: int) -> date:
    return date(1970 + m // 12, m % 12 + 1, 1)


def _month_of(d: date) -> int:
    return (d.year - 1970) * 12 + d.month - 1


def _add_months(d: date, months: int) -> date:
    m = _month_of(d) + months
    first = _month_start(m)
    return first.replace(day=min(d.day, calendar.monthrange(first.year, first.month)[1]))


@dataclass(frozen=True)
class Origins:
    """The forecast origins of a backtest on one clock.

    Attributes
    ----------
    t_days
        Origin times on the clock (days since 1970-01-01, or month-clock days).
    dates
        The local day each origin starts (midnight; the 1st of a month on the month clock).
    test_start, test_end
        First and last local day that some test period covers.
    horizon_days
        Length of each test period on the clock.
    source
        Where the test window came from (requested, or the default rule).
    """

    t_days: npt.NDArray[np.float64]
    dates: tuple[date, ...]
    test_start: date
    test_end: date
    horizon_days: float
    source: str


def day_origins(
    first: date, last: date, horizon_days: float, start: date | None, end: date | None
) -> Origins:
    """Origins every ``horizon_days`` on the day clock whose test period lies in the window.

    Parameters
    ----------
    first, last
        First and last local day with an incident of the category.
    horizon_days
        Length of each test period.
    start, end
        Test window (inclusive local days); default the 18 months up to ``last``, starting
        no earlier than one horizon after ``first``.

    Raises
    ------
    InvalidParameterError
        When no whole test period fits.

    Examples
    --------
    >>> o = day_origins(date(2020, 1, 1), date(2021, 12, 31), 14.0, date(2021, 1, 1), None)
    >>> len(o.dates), str(o.dates[0]), str(o.dates[-1]), str(o.test_end)  # 30-31 Dec untested
    (26, '2021-01-01', '2021-12-17', '2021-12-30')
    """
    end_day = end if end is not None else last
    if start is not None:
        begin, source = start, "gevraagd / requested"
    else:
        stop = end_day + timedelta(days=1)
        earliest = first + timedelta(days=math.ceil(horizon_days))
        begin = max(_add_months(stop, -DEFAULT_TEST_MONTHS), earliest)
        source = (
            f"standaard: de laatste {DEFAULT_TEST_MONTHS} maanden met gegevens / default: the "
            f"last {DEFAULT_TEST_MONTHS} months of data"
        )
    t_begin = float((np.datetime64(begin, "D") - np.datetime64("1970-01-01", "D")).astype(int))
    t_stop = t_begin + float((end_day - begin).days + 1)
    n = math.floor((t_stop - t_begin) / horizon_days + 1e-9)
    if n < 1:
        raise InvalidParameterError(
            f"the test window {begin} .. {end_day} holds no whole horizon of {horizon_days:g} "
            "days / testperiode korter dan de horizon"
        )
    t0 = t_begin + horizon_days * np.arange(n, dtype=np.float64)
    dates = tuple(begin + timedelta(days=float(t - t_begin)) for t in t0)
    last_test = begin + timedelta(days=math.ceil(float(t0[-1] - t_begin + horizon_days)) - 1)
    return Origins(t0, dates, begin, last_test, horizon_days, source)


def month_origins(
    first_month: int, last_month: int, horizon_days: float, start: date | None, end: date | None
) -> Origins:
    """Origins at month starts on the month clock (month ``m`` starts at day ``30 m``).

    Parameters
    ----------
    first_month, last_month
        First and last month with an incident (months since 1970-01).
    horizon_days
        Whole months of 30 clock days.
    start, end
        Test window (local days); only whole months inside it are tested. Default: the 18
        months up to the last month of data, from the second month of data on.

    Raises
    ------
    InvalidParameterError
        A horizon that is not whole months, or no whole test period.

    Examples
    --------
    data.police.uk 2018-10 .. 2019-02: every month with a month of history is an origin.

    >>> o = month_origins(585, 589, 30.0, None, None)
    >>> [str(d) for d in o.dates], o.t_days.tolist()[0], str(o.test_end)
    (['2018-11-01', '2018-12-01', '2019-01-01', '2019-02-01'], 17580.0, '2019-02-28')
    """
    k = horizon_days / DAYS_PER_MONTH_CLOCK
    if abs(k - round(k)) > 1e-9 or round(k) < 1:
        raise InvalidParameterError(
            "these data give only the month of each incident: the horizon must be whole "
            f"months (--horizon-days 30, 60, ...), got {horizon_days:g} / gegevens per maand: "
            "kies een horizon van hele maanden"
        )
    step = round(k)
    if start is not None:
        m_lo = _month_of(start) + (0 if start.day == 1 else 1)
        source = "gevraagd / requested"
    else:
        m_lo = first_month + step
        source = (
            f"standaard: de laatste {DEFAULT_TEST_MONTHS} maanden met gegevens / default: the "
            f"last {DEFAULT_TEST_MONTHS} months of data"
        )
    if end is not None:
        month_end = calendar.monthrange(end.year, end.month)[1]
        m_hi = _month_of(end) - (0 if end.day == month_end else 1)
    else:
        m_hi = last_month
    if start is None:
        m_lo = max(m_lo, m_hi - DEFAULT_TEST_MONTHS + 1)
    n = (m_hi - m_lo + 1) // step
    if n < 1:
        raise InvalidParameterError(
            f"the test window holds no whole horizon of {step} month(s) / testperiode korter "
            "dan de horizon"
        )
    months = m_lo + step * np.arange(n, dtype=np.int64)
    dates = tuple(_month_start(int(m)) for m in months)
    last_m = int(months[-1]) + step - 1
    test_end = _month_start(last_m).replace(
        day=calendar.monthrange(1970 + last_m // 12, last_m % 12 + 1)[1]
    )
    t0 = DAYS_PER_MONTH_CLOCK * months.astype(np.float64)
    return Origins(t0, dates, dates[0], test_end, horizon_days, source)
