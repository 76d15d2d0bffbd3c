"""The viewer privacy policy, enforced in one place for every viewer-facing output.

Every layer a viewer (or anonymous caller) reads passes through :meth:`ViewerPolicy.period`
before it is computed and through the disclosure control after (the hotspot adapter publishes
perturbed counts, :mod:`geo_service.web.privacy` filters the rest); the pages use the same
functions for their tables and charts. Analysts and admins get exact results (and their
requests are audited). README "Privacy model" sets out the design; in short:

* **Differencing** overlapping periods, and repeating a query: counts are published by the
  **cell key method** (:mod:`spatial.privacy.disclosure`): each count is perturbed by at most ``D``
  by an amount fixed by the records behind it, shown values below ``k`` are withheld, and
  periods come from a **fixed lattice** (:func:`lattice_period`): a calendar quarter, a
  calendar year, or all data, in whole quarters that the data cover completely. No two
  viewer periods overlap partially, so no month (or any time slice finer than a quarter) of
  a cell is ever the difference of two outputs, and every set of records is asked for in at
  most three periods (its quarter, its year, all data).
* **Fine resolution** (a res-11 ring around one incident): viewers may not ask for a resolution
  finer than ``viewer_max_res``; Gi* classes are computed from the published counts and shown
  only where the cell's neighbourhood holds at least ``k`` of them.
* **Footprint of the study area**: study areas never depend on the query's incidents
  (:func:`geo_service.analyses.hotspots.study_area`).
* **Derived values** (Gi* classes, densities, ranks, rates) are computed from the published
  counts, never from the exact ones, so they tell nothing the counts do not.

``viewer_disclosure = "rounding"`` restores the old rule (rounding to ``round_to`` on any
period of at least ``min_period_months`` whole months). It does not survive differencing and
exists to show, in the attack test, that the protection bites.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt

from geo_service.config import Settings
from geo_service.filters import IncidentFilter
from spatial.errors import InvalidParameterError
from spatial.privacy.disclosure import CellKeyPerturbation


class PrivacyLimitError(InvalidParameterError):
    """A viewer asked for more detail than the privacy policy allows (400)."""


@dataclass(frozen=True)
class ViewerPolicy:
    """The thresholds of the privacy model (from :class:`~geo_service.config.Settings`).

    Attributes
    ----------
    min_count
        ``k``: no count below it is shown; Gi* classes need ``k`` incidents in the neighbourhood.
    max_res
        Finest H3 resolution a viewer may request.
    disclosure
        ``"cellkey"`` (default) or ``"rounding"`` (the old rule; see the module docstring).
    max_noise
        ``D`` of the cell key method: a shown count is within ``D`` of the true one.
    min_period_months, round_to
        The ``"rounding"`` rule's shortest period and rounding step.
    """

    min_count: int = 5
    max_res: int = 10
    disclosure: Literal["cellkey", "rounding"] = "cellkey"
    max_noise: int = 2
    min_period_months: int = 3
    round_to: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> ViewerPolicy:
        """Build the policy from the service settings."""
        return cls(
            min_count=settings.min_count_k,
            max_res=settings.viewer_max_res,
            disclosure=settings.viewer_disclosure,
            max_noise=settings.viewer_noise,
            min_period_months=settings.viewer_min_period_months,
            round_to=settings.viewer_round_to,
        )

    @property
    def cell_key(self) -> CellKeyPerturbation | None:
        """The cell key method's parameters (None under the ``"rounding"`` rule)."""
        if self.disclosure != "cellkey":
            return None
        return CellKeyPerturbation(max_noise=self.max_noise, min_count=self.min_count)

    def count(self, value: float | None, key: int | None = None) -> int | None:
        """Return what a viewer sees of one count: None when withheld.

        ``key`` is the count's cell key (:mod:`spatial.privacy.disclosure`; required by the cell key
        method).

        Examples
        --------
        >>> p = ViewerPolicy(min_count=5, max_noise=2)
        >>> [p.count(n, key) for n, key in ((0, 0), (4, 0), (12, 0), (12, 2**31))]
        [None, None, 10, 12]
        >>> old = ViewerPolicy(min_count=5, round_to=5, disclosure="rounding")
        >>> [old.count(v) for v in (0, 4, 5, 7, 8, 12, 13)]
        [None, None, 5, 5, 10, 10, 15]
        """
        if value is None or not math.isfinite(value):
            return None
        shown, hidden = self.counts([value], None if key is None else [key])
        return None if hidden[0] else int(shown[0])

    def counts(
        self, values: npt.ArrayLike, keys: npt.ArrayLike | None = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Return what a viewer sees of an array of counts, and which of them are withheld.

        Parameters
        ----------
        values
            True counts, one per cell (integers or floats; NaN or masked for unknown).
        keys
            Their cell keys (:func:`spatial.privacy.disclosure.cell_keys`); required by the cell key
            method, ignored by the rounding rule.

        Returns
        -------
        shown : ndarray of float64
            The published counts, NaN where withheld.
        suppressed : ndarray of bool
            Where a count is withheld (unknown values are withheld too).

        Raises
        ------
        ValueError
            The cell key method without ``keys``: a count with no records behind it cannot be
            published safely, so a caller that forgot them fails loudly.

        Notes
        -----
        Cell key method: ``shown = n + p(n, key)``, withheld below ``k``
        (:meth:`spatial.privacy.disclosure.CellKeyPerturbation.perturb`). Rounding rule:
        ``shown = max(k, s * trunc(v / s + 0.5))`` with ``s = max(1, round_to)``, withheld
        below ``k``.

        Examples
        --------
        >>> p = ViewerPolicy(min_count=5, round_to=5, disclosure="rounding")
        >>> shown, hidden = p.counts([0, 4, 5, 7, 8, 12, 13, float("nan")])
        >>> shown.tolist()[1:7], hidden.tolist()
        ([nan, 5.0, 5.0, 10.0, 10.0, 15.0], [True, True, False, False, False, False, False, True])
        """
        v = np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)
        unknown = ~np.isfinite(v)
        ck = self.cell_key
        if ck is not None:
            if keys is None:
                raise ValueError("the cell key method needs the cell keys of the counts")
            k = np.ma.filled(np.ma.asarray(keys, dtype=np.float64), 0.0)
            n = np.where(unknown, 0, np.maximum(v, 0)).astype(np.int64)
            shown, withheld = ck.perturb(n, k.astype(np.uint64))
            suppressed = withheld | unknown
            return np.where(suppressed, np.nan, shown), suppressed
        suppressed = unknown | ~(v >= self.min_count)
        step = max(1, self.round_to)
        with np.errstate(invalid="ignore"):
            rounded = np.maximum(self.min_count, step * np.trunc(v / step + 0.5))
        return np.where(suppressed, np.nan, rounded), suppressed

    def check_res(self, res: int) -> None:
        """Refuse a resolution finer than :attr:`max_res`.

        Raises
        ------
        PrivacyLimitError
        """
        if res > self.max_res:
            raise PrivacyLimitError(
                f"resolution {res} is finer than the {self.max_res} allowed without an analyst "
                f"key / resolutie {res} is te fijn zonder analistensleutel (maximaal "
                f"{self.max_res})"
            )

    def period(
        self,
        flt: IncidentFilter,
        first: date | None = None,
        last: date | None = None,
        today: date | None = None,
    ) -> IncidentFilter:
        """Return the period a viewer's request is answered for.

        Cell key method: the lattice period that holds the request (:func:`lattice_period`),
        given the first and last day (or month) of data ``first``, ``last``. Rounding rule:
        whole months, widened to :attr:`min_period_months` (``today`` closes an open end).

        Examples
        --------
        >>> p = ViewerPolicy()
        >>> f = p.period(IncidentFilter(start=date(2026, 3, 21), end=date(2026, 3, 21)),
        ...              date(2021, 12, 1), date(2026, 11, 30))
        >>> f.start, f.end
        (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
        >>> old = ViewerPolicy(disclosure="rounding", min_period_months=3)
        >>> f = old.period(IncidentFilter(start=date(2026, 3, 21), end=date(2026, 3, 21)))
        >>> f.start, f.end
        (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
        """
        start = _as_date(flt.start)
        end = _as_date(flt.end)
        if self.disclosure == "cellkey":
            lo, hi, _ = lattice_period(start, end, first, last)
            return replace(flt, start=lo, end=hi)
        if start is not None:
            start = start.replace(day=1)
        if end is not None:
            end = end.replace(day=calendar.monthrange(end.year, end.month)[1])
        if start is not None:
            last_day = end or (today or date.today())
            months = (last_day.year - start.year) * 12 + last_day.month - start.month + 1
            if months < self.min_period_months:
                index = last_day.year * 12 + last_day.month - 1 - (self.min_period_months - 1)
                start = date(index // 12, index % 12 + 1, 1)
        return replace(flt, start=start, end=end)

    def describe(self) -> str:
        """Return the privacy line of a caption (Dutch)."""
        k = self.min_count
        if self.disclosure == "cellkey":
            return (
                f"Aantallen onder {k} tonen we als <{k}; de andere zijn licht verstoord (hooguit "
                f"{self.max_noise} ernaast, steeds dezelfde waarde voor dezelfde incidenten); "
                "periodes in hele kwartalen of jaren (privacy)."
            )
        return (
            f"Aantallen onder {k} tonen we als <{k}, de rest afgerond op {self.round_to}; "
            "periodes in hele maanden (privacy)."
        )


LatticeKind = Literal["kwartaal", "jaar", "alle gegevens"]


def quarter_start(d: date) -> date:
    """Return the first day of ``d``'s calendar quarter.

    Examples
    --------
    >>> quarter_start(date(2026, 11, 30))
    datetime.date(2026, 10, 1)
    """
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def quarter_end(d: date) -> date:
    """Return the last day of ``d``'s calendar quarter."""
    q = quarter_start(d)
    m = q.month + 2
    return date(q.year, m, calendar.monthrange(q.year, m)[1])


def last_complete_quarter_end(last: date) -> date:
    """Return the end of the last calendar quarter whose months all lie up to ``last``.

    The month of ``last`` counts as covered (data of a month are read as complete).

    Examples
    --------
    >>> last_complete_quarter_end(date(2026, 11, 30))
    datetime.date(2026, 9, 30)
    >>> last_complete_quarter_end(date(2026, 12, 1))
    datetime.date(2026, 12, 31)
    """
    end = quarter_end(last)
    if end.month != last.month:
        end = quarter_start(last) - timedelta(days=1)
    return end


def first_complete_quarter_start(first: date) -> date:
    """Return the start of the first calendar quarter whose months all lie from ``first`` on.

    The month of ``first`` counts as covered.

    Examples
    --------
    >>> first_complete_quarter_start(date(2021, 12, 1))
    datetime.date(2022, 1, 1)
    >>> first_complete_quarter_start(date(2021, 10, 9))
    datetime.date(2021, 10, 1)
    """
    start = quarter_start(first)
    if start.month != first.month:
        start = quarter_end(first) + timedelta(days=1)
    return start


def lattice_period(
    start: date | None, end: date | None, first: date | None, last: date | None
) -> tuple[date | None, date | None, LatticeKind]:
    """Snap a requested period to the viewer lattice: a quarter, a calendar year, or all data.

    Only quarters the data cover completely take part (``first`` and ``last`` are the first
    and last day or month of data): a request in the running quarter is answered with the last
    complete one, a request in a partial first quarter with the first complete one, a year
    with its complete quarters. A request within one quarter gets that quarter; within one
    calendar year that year; anything wider (or nothing asked) all data: the complete
    quarters from first to last.

    Parameters
    ----------
    start, end
        The requested period (None = open).
    first, last
        The first and last day of data (None = no data).

    Returns
    -------
    start, end : date or None
        The lattice period (None, None only when there are no data and nothing was asked).
    kind : {"kwartaal", "jaar", "alle gegevens"}

    Notes
    -----
    The periods form a tree (quarters in years in all data): no two overlap partially, so a
    difference of two viewer outputs is itself a union of whole quarters, already published
    with its own perturbation. The finest time slice a viewer can isolate is a quarter.

    Examples
    --------
    >>> first, last = date(2021, 12, 1), date(2026, 11, 30)
    >>> lattice_period(date(2026, 2, 3), date(2026, 2, 3), first, last)
    (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31), 'kwartaal')
    >>> lattice_period(date(2026, 2, 1), date(2026, 5, 31), first, last)
    (datetime.date(2026, 1, 1), datetime.date(2026, 9, 30), 'jaar')
    >>> lattice_period(date(2025, 11, 1), date(2026, 10, 31), first, last)
    (datetime.date(2022, 1, 1), datetime.date(2026, 9, 30), 'alle gegevens')
    >>> lattice_period(date(2026, 11, 1), None, first, last)
    (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30), 'kwartaal')
    >>> lattice_period(date(2021, 1, 1), date(2021, 12, 31), first, last)  # only Dec 2021
    (datetime.date(2022, 1, 1), datetime.date(2022, 3, 31), 'kwartaal')
    >>> lattice_period(date(2019, 1, 1), date(2019, 12, 31), first, last)  # before the data
    (datetime.date(2019, 1, 1), datetime.date(2019, 12, 31), 'jaar')
    """
    done = last_complete_quarter_end(last) if last is not None else None
    begun = first_complete_quarter_start(first) if first is not None else None
    if start is None and end is None:
        if begun is None or done is None or begun > done:
            return None, None, "alle gegevens"
        return begun, done, "alle gegevens"
    lo = start or begun or end
    hi = end or done or start
    assert lo is not None and hi is not None  # noqa: S101 -- one of start/end is set
    # The quarters the data cover only in part are never published: a request in the
    # running quarter gets the last complete one, a request in the first, partial quarter
    # the first complete one; wider requests are cut to the complete quarters.
    if done is not None and last is not None and lo > done:
        if quarter_start(lo) <= quarter_start(last):
            lo = hi = done
    elif done is not None and hi > done:
        hi = done
    if begun is not None and first is not None and hi < begun:
        if quarter_start(hi) >= quarter_start(first):
            lo = hi = begun
    elif begun is not None and lo < begun:
        lo = begun
    hi = max(hi, lo)
    if quarter_start(lo) == quarter_start(hi):
        return quarter_start(lo), quarter_end(lo), "kwartaal"
    if lo.year == hi.year:
        year_start, year_end = date(lo.year, 1, 1), date(lo.year, 12, 31)
        if begun is not None and begun.year == lo.year:
            year_start = max(year_start, begun)
        if done is not None and done.year == lo.year:
            year_end = min(year_end, done)
        return year_start, year_end, "jaar"
    if begun is None or done is None:
        return quarter_start(lo), quarter_end(hi), "alle gegevens"
    return begun, done, "alle gegevens"


def _as_date(value: date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def viewer_query_filter(
    policy: ViewerPolicy, flt: IncidentFilter, first: date | None, last: date | None
) -> IncidentFilter:
    """Return the filter a viewer's request is answered with (see :meth:`ViewerPolicy.period`)."""
    return policy.period(flt, first, last)
