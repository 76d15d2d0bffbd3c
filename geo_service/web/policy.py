"""The viewer privacy policy, enforced in one place for every viewer-facing output.

Every layer a viewer (or anonymous caller) reads passes through :func:`viewer_query` before it
is computed and through the layer's viewer filter (:mod:`geo_service.web.privacy`) after; the
pages use the same functions for their tables and charts. Analysts and admins get exact
results (and their requests are audited).

The attacks this answers, and how (README "Privacy model"):

* **Narrow windows** (a one-day map locates that day's incidents): periods are snapped to whole
  calendar months and widened to at least ``viewer_min_period_months``.
* **Fine resolution** (a res-11 ring around one incident): viewers may not ask for a resolution
  finer than ``viewer_max_res``; Gi* classes are shown only where the cell's neighbourhood holds
  at least ``k`` incidents.
* **Footprint of the study area**: study areas never depend on the query's incidents
  (:func:`geo_service.hotspots.study_area`).
* **Differencing** windows, boxes or categories: counts below ``k`` are withheld and the others
  are rounded to a multiple of ``viewer_round_to``, identically in every output, so the
  difference of two outputs is never an exact small count; exact first/last incident dates
  are never shown.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, replace
from datetime import date, datetime

import numpy as np
import numpy.typing as npt

from geo_service.config import Settings
from geo_service.filters import IncidentFilter
from spatial.errors import InvalidParameterError


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
    min_period_months
        Shortest period (whole months) a viewer's map or table covers.
    round_to
        Counts shown to viewers are rounded to a multiple of this.
    """

    min_count: int = 5
    max_res: int = 10
    min_period_months: int = 3
    round_to: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> ViewerPolicy:
        """Build the policy from the service settings."""
        return cls(
            min_count=settings.min_count_k,
            max_res=settings.viewer_max_res,
            min_period_months=settings.viewer_min_period_months,
            round_to=settings.viewer_round_to,
        )

    def count(self, value: float | None) -> int | None:
        """Return what a viewer sees of a count: None below ``k`` (or NaN/inf), else rounded.

        Examples
        --------
        >>> p = ViewerPolicy(min_count=5, round_to=5)
        >>> [p.count(v) for v in (0, 4, 5, 7, 8, 12, 13)]
        [None, None, 5, 5, 10, 10, 15]
        """
        if value is None or not math.isfinite(value) or value < self.min_count:
            return None
        step = max(1, self.round_to)
        return int(max(self.min_count, step * int(value / step + 0.5)))

    def counts(
        self, values: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Return what a viewer sees of an array of counts, and which of them are withheld.

        The rule of :meth:`count`, vectorised: ``shown[i]`` is NaN exactly where
        ``count(values[i])`` is None (below ``k``, NaN or infinite) and equals it elsewhere.

        Parameters
        ----------
        values
            Counts, one per cell (integers or floats; NaN or masked for unknown).

        Returns
        -------
        shown : ndarray of float64
            The rounded counts, NaN where withheld.
        suppressed : ndarray of bool
            Where a count is withheld.

        Notes
        -----
        ``shown = max(k, s * trunc(v / s + 0.5))`` with ``s = max(1, round_to)``: round half
        up to a multiple of ``s`` (``trunc`` is the scalar rule's ``int()``; counts are never
        negative), never below ``k``.

        Examples
        --------
        >>> p = ViewerPolicy(min_count=5, round_to=5)
        >>> shown, hidden = p.counts([0, 4, 5, 7, 8, 12, 13, float("nan")])
        >>> shown.tolist()[1:7], hidden.tolist()
        ([nan, 5.0, 5.0, 10.0, 10.0, 15.0], [True, True, False, False, False, False, False, True])
        """
        v = np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)
        suppressed = ~(np.isfinite(v) & (v >= self.min_count))
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

    def period(self, flt: IncidentFilter, today: date | None = None) -> IncidentFilter:
        """Snap the period to whole months and widen it to :attr:`min_period_months`.

        Examples
        --------
        >>> p = ViewerPolicy(min_period_months=3)
        >>> f = p.period(IncidentFilter(start=date(2026, 3, 21), end=date(2026, 3, 21)))
        >>> f.start, f.end
        (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
        """
        start = _as_date(flt.start)
        end = _as_date(flt.end)
        if start is not None:
            start = start.replace(day=1)
        if end is not None:
            end = end.replace(day=calendar.monthrange(end.year, end.month)[1])
        if start is not None:
            last = end or (today or date.today())
            months = (last.year - start.year) * 12 + last.month - start.month + 1
            if months < self.min_period_months:
                index = last.year * 12 + last.month - 1 - (self.min_period_months - 1)
                start = date(index // 12, index % 12 + 1, 1)
        return replace(flt, start=start, end=end)


def _as_date(value: date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def viewer_query_filter(policy: ViewerPolicy, flt: IncidentFilter) -> IncidentFilter:
    """Return the filter a viewer's request is answered with (see :meth:`ViewerPolicy.period`)."""
    return policy.period(flt)
