"""Adapter: from the store to an Emerging Hot Spot layer (space-time Gi* + Mann-Kendall).

Only validation, I/O and binning happen here; the statistics are in
:mod:`spatial.spacetime.emerging`.

**The space-time cube.** Cells: the study area's H3 grid
(:func:`geo_service.analyses.hotspots.study_area`,
the same policy as the hotspot layers: never dependent on the query's own incidents), empty
cells included. Time bins: whole local-calendar weeks (ISO 8601, Monday to Sunday), months or
quarters. Incidents are binned by the local date of ``occurred_from`` (the store keeps local
wall-clock time, so a burglary at 23:30 on Sunday belongs to that Sunday's week).

**The period.** ``start``/``end`` of the filter (local days); without them, the data window
of *all* stored incidents of the municipality (any category: like the study area, the period
must not outline the incidents being analysed). Only bins lying wholly inside the period are
analysed: a partial first or last bin would look like a drop in incidents and bend every
trend. Such bins are **dropped** and listed in the metadata (``dropped_partial_bins``), so
``--start 2026-01-15 --bin month`` starts with February. Bins with no incidents anywhere are
kept (zeros).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from geo_service import __version__
from geo_service.analyses.hotspots import StudyArea, study_area
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter, analysis_parameters
from geo_service.store import Store
from layers.geojson import cells_feature_collection
from spatial.errors import InvalidParameterError, TooManyCellsError
from spatial.grid.h3grid import cells_of_points, check_resolution, neighbours
from spatial.privacy.disclosure import CellKeyPerturbation, cell_keys
from spatial.spacetime.emerging import PATROON, PATTERNS, emerging_hotspots

BinUnit = Literal["week", "month", "quarter"]
BIN_UNITS: Final[tuple[str, ...]] = ("week", "month", "quarter")

#: The cube is (cells x bins); z, p and p_fdr take 8 bytes per entry each. 5 million entries is
#: ~250 MB at the peak: Den Haag at res 10 in weeks over 5 years is 1.8 million.
MAX_CUBE: Final = 5_000_000
#: Fewest whole bins the analysis accepts (the Mann-Kendall test needs at least 3 points).
MIN_BINS: Final = 3
#: Below this many bins ArcGIS refuses the analysis; here it runs, with a warning.
ADVISED_BINS: Final = 10

_MONDAY: Final = np.datetime64("1970-01-05", "D")  # ISO weeks start on Monday


@dataclass(frozen=True)
class EmergingParams:
    """Every parameter of an Emerging Hot Spot layer; validated on construction.

    Attributes
    ----------
    incidents
        Which incidents (category required; municipality; period of local days).
    res
        H3 resolution of the cells (8-11).
    time_bin
        ``"week"`` (ISO, Monday start), ``"month"`` or ``"quarter"``, on the local calendar.
    time_window_bins
        Previous bins in each bin's space-time neighbourhood (ArcGIS's neighbourhood time step).
    k_ring
        Spatial neighbourhood: grid distance 1-5.
    alpha
        Per-bin significance level (0.10 counts ArcGIS's 90 % confidence bins).
    trend_alpha
        Significance level of the Mann-Kendall trend.
    fdr
        Benjamini-Hochberg correction of the per-bin p-values over the whole cube.
    max_cells
        Largest study grid this request may compute.

    Raises
    ------
    InvalidParameterError, InvalidResolutionError
    """

    incidents: IncidentFilter
    res: int = 9
    time_bin: BinUnit = "month"
    time_window_bins: int = 1
    k_ring: int = 1
    alpha: float = 0.10
    trend_alpha: float = 0.05
    fdr: bool = True
    max_cells: int | None = 250_000
    #: Publish for viewers: the cube and the totals by the cell key method, the patterns from
    #: the published cube only; None = exact (analysts).
    disclosure: CellKeyPerturbation | None = None

    def __post_init__(self) -> None:
        if not self.incidents.category:
            raise InvalidParameterError("category is required / categorie is verplicht")
        check_resolution(self.res)
        if self.time_bin not in BIN_UNITS:
            raise InvalidParameterError(
                f"time_bin must be one of {BIN_UNITS}, got {self.time_bin!r}"
            )
        if not _is_int(self.time_window_bins) or not 0 <= self.time_window_bins <= 12:
            raise InvalidParameterError(
                f"time_window_bins must be an integer from 0 to 12, got {self.time_window_bins!r}"
            )
        if not _is_int(self.k_ring) or not 1 <= self.k_ring <= 5:
            raise InvalidParameterError(
                f"k_ring must be an integer from 1 to 5, got {self.k_ring!r}"
            )
        for name in ("alpha", "trend_alpha"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidParameterError(f"{name} must be a number, got {value!r}")
            if not 0 < value <= 0.5:
                raise InvalidParameterError(f"{name} must be in (0, 0.5], got {value!r}")
        if not isinstance(self.fdr, bool):
            raise InvalidParameterError(f"fdr must be true or false, got {self.fdr!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


# --------------------------------------------------------------------------- time bins


@dataclass(frozen=True)
class TimeBins:
    """Whole local-calendar bins of one unit, in time order.

    Attributes
    ----------
    unit
        ``"week"``, ``"month"`` or ``"quarter"``.
    first_ordinal
        Ordinal of the first bin (weeks since 1970-01-05, months or quarters since 1970-01).
    starts, ends
        First and last day (inclusive) of every bin.
    dropped
        Partial bins at the edges of the period, not analysed: ``(first day, last day)`` of
        the whole bin.
    """

    unit: BinUnit
    first_ordinal: int
    starts: npt.NDArray[np.datetime64]
    ends: npt.NDArray[np.datetime64]
    dropped: tuple[tuple[date, date], ...] = ()

    @property
    def n(self) -> int:
        """Number of bins."""
        return int(self.starts.size)

    @property
    def first_day(self) -> date:
        """First day of the first bin."""
        return _to_date(self.starts[0])

    @property
    def last_day(self) -> date:
        """Last day of the last bin."""
        return _to_date(self.ends[-1])

    def index_of(self, days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
        """Return the bin of each local day (``datetime64[D]``), -1 outside the bins."""
        idx = _ordinal(np.asarray(days, dtype="datetime64[D]"), self.unit) - self.first_ordinal
        return np.where((idx >= 0) & (idx < self.n), idx, -1).astype(np.int64)

    def labels(self) -> list[str]:
        """Return ``2026-W05``, ``2026-03`` or ``2026-Q1`` per bin."""
        starts = [_to_date(d) for d in self.starts]
        if self.unit == "week":
            return [f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in starts]
        if self.unit == "month":
            return [f"{d.year}-{d.month:02d}" for d in starts]
        return [f"{d.year}-Q{(d.month - 1) // 3 + 1}" for d in starts]

    def describe(self) -> list[dict[str, Any]]:
        """Return the bins as ``{"bin", "label", "start", "end"}`` (ISO dates, end inclusive)."""
        return [
            {"bin": i, "label": label, "start": str(s), "end": str(e)}
            for i, (label, s, e) in enumerate(
                zip(self.labels(), self.starts, self.ends, strict=True)
            )
        ]


def _to_date(value: np.datetime64) -> date:
    out: date = value.astype("datetime64[D]").item()
    return out


def _ordinal(days: npt.NDArray[np.datetime64], unit: str) -> npt.NDArray[np.int64]:
    if unit == "week":
        return np.asarray((days - _MONDAY).astype(np.int64) // 7, dtype=np.int64)
    months = days.astype("datetime64[M]").astype(np.int64)
    return np.asarray(months if unit == "month" else months // 3, dtype=np.int64)


def _bin_start(ordinal: npt.NDArray[np.int64], unit: str) -> npt.NDArray[np.datetime64]:
    if unit == "week":
        return np.asarray(_MONDAY + (ordinal * 7).astype("timedelta64[D]"))
    months = ordinal if unit == "month" else ordinal * 3
    return np.asarray(months.astype("datetime64[M]").astype("datetime64[D]"))


def calendar_bins(start: date, end: date, unit: BinUnit) -> TimeBins:
    """Whole calendar bins between two local days (inclusive); partial edge bins dropped.

    Parameters
    ----------
    start, end
        First and last local day of the period.
    unit
        ``"week"`` (ISO 8601: Monday to Sunday), ``"month"`` or ``"quarter"``.

    Returns
    -------
    TimeBins

    Raises
    ------
    InvalidParameterError
        Fewer than :data:`MIN_BINS` whole bins, an unknown unit.

    Examples
    --------
    >>> b = calendar_bins(date(2026, 1, 15), date(2026, 6, 30), "month")
    >>> b.labels()
    ['2026-02', '2026-03', '2026-04', '2026-05', '2026-06']
    >>> [(str(s), str(e)) for s, e in b.dropped]  # January is partial
    [('2026-01-01', '2026-01-31')]
    >>> w = calendar_bins(date(2026, 1, 1), date(2026, 1, 31), "week")  # Thursday .. Saturday
    >>> w.labels(), str(w.starts[0]), str(w.ends[-1])
    (['2026-W02', '2026-W03', '2026-W04'], '2026-01-05', '2026-01-25')
    """
    if unit not in BIN_UNITS:
        raise InvalidParameterError(f"unit must be one of {BIN_UNITS}, got {unit!r}")
    if start > end:
        raise InvalidParameterError(
            f"the period starts ({start}) after it ends ({end}) / begindatum na einddatum"
        )
    lo = np.datetime64(start, "D")
    hi = np.datetime64(end, "D")
    o_lo = int(_ordinal(np.asarray([lo]), unit)[0])
    o_hi = int(_ordinal(np.asarray([hi]), unit)[0])
    edges = _bin_start(np.arange(o_lo, o_hi + 2, dtype=np.int64), unit)
    whole_first = bool(edges[0] == lo)  # the period starts on the bin's first day
    whole_last = bool(edges[-1] - np.timedelta64(1, "D") == hi)  # ... ends on its last day
    first = o_lo if whole_first else o_lo + 1
    last = o_hi if whole_last else o_hi - 1
    partial = sorted({o for o, whole in ((o_lo, whole_first), (o_hi, whole_last)) if not whole})
    dropped = tuple(
        (_to_date(edges[o - o_lo]), _to_date(edges[o - o_lo + 1] - np.timedelta64(1, "D")))
        for o in partial
    )
    n = last - first + 1
    if n < MIN_BINS:
        raise InvalidParameterError(
            f"the period {start} .. {end} holds {max(n, 0)} whole {unit}(s); at least "
            f"{MIN_BINS} are needed / te korte periode: minimaal {MIN_BINS} hele perioden"
        )
    kept = edges[first - o_lo : last - o_lo + 2]
    return TimeBins(
        unit=unit,
        first_ordinal=first,
        starts=kept[:-1],
        ends=kept[1:] - np.timedelta64(1, "D"),
        dropped=dropped,
    )


def _whole_days(flt: IncidentFilter) -> tuple[date | None, date | None]:
    """First and last local day wholly inside the filter's period (None = open)."""
    start, end = flt.start, flt.end
    if isinstance(start, datetime):
        start = start.date() if start.time() == time.min else start.date() + timedelta(days=1)
    if isinstance(end, datetime):
        end = end.date() if end.time() == time.max else end.date() - timedelta(days=1)
    return start, end


# --------------------------------------------------------------------------- the layer


@dataclass(frozen=True)
class EmergingLayer:
    """Per-cell results of one Emerging Hot Spot analysis (a typed table) and its cube."""

    area: StudyArea
    bins: TimeBins
    counts: npt.NDArray[np.int64]
    properties: dict[str, npt.NDArray[Any]]
    metadata: dict[str, Any] = field(default_factory=dict)


def analysis_period(store: Store, flt: IncidentFilter) -> tuple[date, date, str]:
    """Return the period (local days) of an analysis and where it came from.

    The filter's days where given; else the data window of all stored incidents of the
    municipality (any category, so the period does not depend on the query's incidents).

    Raises
    ------
    NotFoundError
        No incidents stored (for that municipality) and no period given.
    """
    start, end = _whole_days(flt)
    source = "gevraagd / requested"
    if start is None or end is None:
        first, last = store.data_window(IncidentFilter(municipality=flt.municipality))
        if first is None or last is None:
            raise NotFoundError(
                "no incidents stored for this municipality / geen incidenten opgeslagen"
            )
        if start is None:
            start = first
        if end is None:
            end = last
        source = (
            "gegevensvenster van alle opgeslagen incidenten (elke categorie) / data window "
            "of all stored incidents (any category)"
        )
    return start, end, source


def compute_emerging(store: Store, params: EmergingParams) -> EmergingLayer:
    """Build the space-time cube from the store and run the Emerging Hot Spot Analysis.

    Raises
    ------
    NotFoundError, EmptyStudyAreaError, InvalidParameterError, TooManyCellsError
    """
    flt = params.incidents
    area = study_area(store, flt, params.res, max_cells=params.max_cells)
    grid = area.grid
    start, end, period_source = analysis_period(store, flt)
    bins = calendar_bins(start, end, params.time_bin)
    if grid.n * bins.n > MAX_CUBE:
        raise TooManyCellsError(
            f"the space-time cube would hold {grid.n:,} cells x {bins.n} bins, more than the "
            f"{MAX_CUBE:,} allowed; choose a coarser resolution, longer bins or a shorter "
            "period / te grote kubus: kies een grovere resolutie of langere perioden"
        )
    ck = params.disclosure
    pts = store.incident_points(
        flt.replace(start=bins.first_day, end=bins.last_day), record_keys=ck is not None
    )
    cell = grid.index_of(cells_of_points(pts["lon"].to_numpy(), pts["lat"].to_numpy(), grid.res))
    days = pts["occurred_from"].to_numpy().astype("datetime64[D]")
    tbin = bins.index_of(days)
    inside = (cell >= 0) & (tbin >= 0)
    counts = (
        np.bincount(cell[inside] * bins.n + tbin[inside], minlength=grid.n * bins.n)
        .reshape(grid.n, bins.n)
        .astype(np.int64)
    )
    total = counts.sum(axis=1)
    withheld_total: npt.NDArray[np.bool_] | None = None
    if ck is not None:
        # Viewers: each cell-bin and each cell's total published by the cell key method (the
        # same value any other output of the same records shows), the patterns computed
        # from the published cube (withheld = 0), never from the exact one.
        rk = pts["record_key"].to_numpy(dtype=np.uint64)[inside]
        bin_keys = cell_keys(rk, cell[inside] * bins.n + tbin[inside], grid.n * bins.n)
        shown, hidden = ck.perturb(counts.ravel(), bin_keys)
        counts = np.where(hidden, 0, shown).astype(np.int64).reshape(grid.n, bins.n)
        shown_total, withheld_total = ck.perturb(total, cell_keys(rk, cell[inside], grid.n))
        total = np.where(withheld_total, 0, shown_total).astype(np.int64)
    w = neighbours(grid, params.k_ring)
    result = emerging_hotspots(
        counts,
        w,
        time_window_bins=params.time_window_bins,
        alpha=params.alpha,
        trend_alpha=params.trend_alpha,
        fdr=params.fdr,
    )
    props: dict[str, npt.NDArray[Any]] = {
        "pattern": result.pattern,
        "patroon": result.patroon,
        "pattern_code": result.pattern_code.astype(np.int64),
        "tau": np.round(result.tau, 6),
        "trend_p": np.round(result.trend_p, 8),
        "z_last": np.round(result.z_last, 6),
        "n_hot_bins": result.n_hot_bins,
        "n_cold_bins": result.n_cold_bins,
        "count": total,
        # Incidents in the cell's neighbourhood (itself + k-ring) over the whole period: the
        # privacy model shows a pattern to viewers only where this reaches k.
        "n_neighbourhood": np.asarray(w @ total + total, dtype=np.int64),
    }
    if withheld_total is not None:
        props["count"] = np.ma.MaskedArray(total, mask=withheld_total)
        props["suppressed"] = withheld_total
    warnings = []
    if bins.n < ADVISED_BINS:
        warnings.append(
            f"{bins.n} time bins: the Mann-Kendall trend has little power below {ADVISED_BINS} "
            f"(ArcGIS requires {ADVISED_BINS}) / weinig perioden: trend weinig betrouwbaar"
        )
    codes, n_per = np.unique(result.pattern_code, return_counts=True)
    first = pts["occurred_from"].min() if not pts.empty else None
    last = pts["occurred_from"].max() if not pts.empty else None
    parameters = analysis_parameters(params)
    meta: dict[str, Any] = {
        "analysis": "emerging hot spot analysis (space-time Gi* + Mann-Kendall, ArcGIS Pro)",
        "parameters": parameters,
        "time_bins": {
            "unit": bins.unit,
            "calendar": "lokale kalender; week = ISO 8601 (maandag t/m zondag)",
            "n_bins": bins.n,
            "first_day": bins.first_day.isoformat(),
            "last_day": bins.last_day.isoformat(),
            "period_source": period_source,
            "dropped_partial_bins": [
                {"start": s.isoformat(), "end": e.isoformat()} for s, e in bins.dropped
            ],
            "bins": bins.describe(),
        },
        "data_window": flt.data_window(first, last),
        "time_convention": "lokale kloktijd van de plaats van het incident (tz per incident)",
        "n_incidents": len(pts),
        "n_incidents_outside_grid": int((cell < 0).sum()),
        "n_cells": grid.n,
        "study_area": area.note,
        "metric_crs": area.metric_crs,
        "h3_resolution": grid.res,
        "weights": (
            f"binary k-ring (k_ring={params.k_ring}), self included, over the bin and "
            f"{params.time_window_bins} previous bin(s) (space-time Gi*)"
        ),
        "patterns": [
            {"pattern_code": i, "pattern": p, "patroon": PATROON[p]} for i, p in enumerate(PATTERNS)
        ],
        "pattern_counts": {PATTERNS[int(c)]: int(k) for c, k in zip(codes, n_per, strict=True)},
        "warnings": warnings,
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
    }
    return EmergingLayer(area=area, bins=bins, counts=counts, properties=props, metadata=meta)


def emerging_geojson(store: Store, params: EmergingParams) -> dict[str, Any]:
    """Run the analysis and return an RFC 7946 FeatureCollection (one polygon per cell).

    Properties per cell: ``cell`` (H3 index), ``pattern`` (ArcGIS's English name),
    ``patroon`` (Dutch), ``pattern_code``, ``tau`` and ``trend_p`` (Mann-Kendall of the cell's
    z-series), ``z_last``, ``n_hot_bins``, ``n_cold_bins``, ``count`` (incidents over the whole
    period) and ``n_neighbourhood``; a top-level ``metadata`` object.
    """
    layer = compute_emerging(store, params)
    return cells_feature_collection(
        layer.area.hex_ids,
        layer.area.rings,
        layer.properties,
        layer.metadata,
        id_property="cell",
    )
