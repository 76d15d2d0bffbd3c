"""Adapter: the Knox test for near repeat on the store's incidents.

Only validation, I/O and projection happen here; the statistics are in
:mod:`spatial.spacetime.knox`. The alert zones built on it are in
:mod:`geo_service.analyses.alerts`.

* **Space.** Incidents are projected at analysis time from lon/lat to the study area's metric
  CRS (:func:`geo_service.analyses.hotspots.study_area`: RD New in the Netherlands, else the local
  UTM zone), so distances are metres in one CRS.
* **Time.** ``t`` is the local calendar date of ``occurred_from`` (the store keeps local
  wall-clock time), as whole days; the time gap of a pair is the absolute difference of the
  two dates in days, so two burglaries on the same date are 0 days apart and 23:50 / 00:10
  the next day are 1 day apart. Bands are half-open: ``[0, 7)`` days holds gaps 0-6.
* **Null.** By default (``null="stratified"``) the dates are permuted only within squares of
  ``stratum_m`` (1 km) of the metric CRS, so a district whose burglaries rise or fall over the
  period keeps its own dates in every permutation and its trend is not read as near repeat
  (:mod:`spatial.spacetime.knox`, restricted randomisation; Kulldorff and Hjalmars 1999 on the
  bias of the unrestricted null). Why 1 km squares: larger than the largest distance band
  (500 m), so most pairs that the table counts lie in one square, and about the size of a
  Dutch wijk, the scale at which trends differ; buurten (often < 500 m) would absorb the
  near repeats themselves into the strata's dates. ``null="unrestricted"`` is the classic
  Near Repeat Calculator null (Ratcliffe 2009) over all incidents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo_service import __version__
from geo_service.analyses.hotspots import study_area
from geo_service.filters import IncidentFilter, analysis_parameters
from geo_service.store import Store
from spatial.errors import InvalidParameterError
from spatial.grid.crs import WGS84, transform
from spatial.spacetime.knox import KnoxNull, KnoxResult, knox_test

#: Near Repeat Calculator defaults (Ratcliffe 2009): 100 m and 7-day bands.
DISTANCE_EDGES_M: Final = (0.0, 100.0, 200.0, 300.0, 400.0, 500.0)
TIME_EDGES_DAYS: Final = (0.0, 7.0, 14.0, 21.0, 28.0, 35.0, 42.0, 49.0, 56.0)
#: Largest distance edge: pairs grow with its square (5 km over a city is ~all pairs).
MAX_DISTANCE_M: Final = 5_000.0
#: The metric CRS comes from the study area at this (coarsest) resolution: cheap, and the
#: median cell centre hardly moves with the resolution.
CRS_RES: Final = 8
#: Default null of the product: dates permuted within squares of this side (module notes).
DEFAULT_NULL: Final[KnoxNull] = "stratified"
DEFAULT_STRATUM_M: Final = 1_000.0


def check_edges(name: str, edges: tuple[float, ...], upper: float | None) -> None:
    """Validate band edges: 2 to 51, finite, >= 0, increasing, at most ``upper``."""
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or e.size > 51:
        raise InvalidParameterError(f"{name} needs 2 to 51 edges, got {edges!r}")
    if not np.isfinite(e).all() or e[0] < 0 or not (np.diff(e) > 0).all():
        raise InvalidParameterError(
            f"{name} must be finite, >= 0 and strictly increasing, got {edges!r}"
        )
    if upper is not None and e[-1] > upper:
        raise InvalidParameterError(f"{name} may reach at most {upper:g}, got {edges!r}")


def check_knox_args(permutations: int, seed: int) -> None:
    """Validate the permutations (0-9999) and the seed (>= 0)."""
    if isinstance(permutations, bool) or not isinstance(permutations, int):
        raise InvalidParameterError(f"permutations must be an integer, got {permutations!r}")
    if not 0 <= permutations <= 9999:
        raise InvalidParameterError(f"permutations must be from 0 to 9999, got {permutations!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidParameterError(f"seed must be an integer >= 0, got {seed!r}")


def check_null(null: str, stratum_m: float) -> None:
    """Validate the Knox null (``stratified`` / ``unrestricted``) and the stratum side (m)."""
    if null not in get_args(KnoxNull):
        raise InvalidParameterError(
            f"null must be one of {', '.join(get_args(KnoxNull))}, got {null!r}"
        )
    if (
        isinstance(stratum_m, bool)
        or not isinstance(stratum_m, int | float)
        or not 100.0 <= stratum_m <= 20_000.0
    ):
        raise InvalidParameterError(f"stratum_m must be from 100 to 20000 m, got {stratum_m!r}")


@dataclass(frozen=True)
class NearRepeatParams:
    """Every parameter of a Knox near-repeat test; validated on construction.

    Attributes
    ----------
    incidents
        Which incidents (category required; municipality; period of local days).
    distance_edges_m
        Distance band edges in metres (half-open bands), at most 5 km.
    time_edges_days
        Time band edges in days (half-open bands).
    permutations
        Monte-Carlo permutations of the dates (0: observed counts and analytic expectation).
    seed
        Seed of the permutations.
    null
        ``"stratified"`` (default: dates permuted within squares of ``stratum_m``, robust to
        trends per district) or ``"unrestricted"`` (over all incidents).
    stratum_m
        Side of the squares of the stratified null, metres (100 to 20,000).

    Raises
    ------
    InvalidParameterError
    """

    incidents: IncidentFilter
    distance_edges_m: tuple[float, ...] = DISTANCE_EDGES_M
    time_edges_days: tuple[float, ...] = TIME_EDGES_DAYS
    permutations: int = 99
    seed: int = 0
    null: KnoxNull = DEFAULT_NULL
    stratum_m: float = DEFAULT_STRATUM_M

    def __post_init__(self) -> None:
        if not self.incidents.category:
            raise InvalidParameterError("category is required / categorie is verplicht")
        check_edges("distance_edges_m", self.distance_edges_m, MAX_DISTANCE_M)
        check_edges("time_edges_days", self.time_edges_days, 36_500.0)
        check_knox_args(self.permutations, self.seed)
        check_null(self.null, self.stratum_m)


@dataclass(frozen=True)
class NearRepeatResult:
    """A Knox table with the metadata that reproduces it."""

    knox: KnoxResult
    metadata: dict[str, Any] = field(default_factory=dict)


def metric_crs(store: Store, flt: IncidentFilter) -> str:
    """Return the metric CRS of the study area of ``flt`` (RD New in NL, else UTM).

    Raises
    ------
    NotFoundError, EmptyStudyAreaError
    """
    return study_area(store, flt, CRS_RES).metric_crs


def incident_days(frame: pd.DataFrame) -> npt.NDArray[np.int64]:
    """Local calendar date of ``occurred_from`` as days since 1970-01-01."""
    return np.asarray(
        frame["occurred_from"].to_numpy().astype("datetime64[D]").astype(np.int64), dtype=np.int64
    )


def squares(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], side_m: float
) -> npt.NDArray[np.int64]:
    """Label of the ``side_m`` square (anchored at the CRS origin) each point lies in."""
    ix = np.floor(x / side_m).astype(np.int64)
    iy = np.floor(y / side_m).astype(np.int64)
    _, label = np.unique(np.column_stack([ix, iy]), axis=0, return_inverse=True)
    return np.asarray(label, dtype=np.int64).ravel()


def knox_on(
    frame: pd.DataFrame,
    crs: str,
    distance_edges_m: tuple[float, ...],
    time_edges_days: tuple[float, ...],
    permutations: int,
    seed: int,
    null: KnoxNull = DEFAULT_NULL,
    stratum_m: float = DEFAULT_STRATUM_M,
) -> KnoxResult:
    """Run the Knox test on incident rows (``lon``, ``lat``, ``occurred_from``) in ``crs``."""
    x, y = transform(frame["lon"].to_numpy(), frame["lat"].to_numpy(), WGS84, crs)
    return knox_test(
        x,
        y,
        incident_days(frame),
        distance_edges_m,
        time_edges_days,
        permutations=permutations,
        rng=seed,
        strata=squares(x, y, stratum_m) if null == "stratified" else None,
    )


def null_description(knox: KnoxResult, stratum_m: float) -> str:
    """One Dutch / English line saying how the dates were permuted."""
    if knox.null == "stratified":
        return (
            f"data gepermuteerd binnen vakken van {stratum_m:g} m ({knox.n_strata} vakken): "
            "trend per wijk telt niet als near repeat / dates permuted within squares of "
            f"{stratum_m:g} m (restricted randomisation)"
        )
    return "data gepermuteerd over alle incidenten / dates permuted over all incidents"


def knox_bands(knox: KnoxResult) -> list[dict[str, Any]]:
    """Return the Knox table as one record per (distance band, time band), row-major.

    Keys: ``distance_from``, ``distance_to`` (m), ``days_from``, ``days_to`` (half-open),
    ``observed``, ``expected`` (mean over the permutations), ``expected_analytic``,
    ``ratio`` and ``p`` (None where undefined).
    """
    d = knox.distance_edges_m
    t = knox.time_edges_days
    n_t = t.size - 1
    cell = np.arange((d.size - 1) * n_t)
    a, b = cell // n_t, cell % n_t  # row-major: distance band, then time band

    def col(values: npt.NDArray[Any], decimals: int) -> list[Any]:
        v = np.round(np.asarray(values, dtype=np.float64).ravel(), decimals)
        return [None if not np.isfinite(x) else float(x) for x in v.tolist()]

    columns = {
        "distance_from": col(d[a], 3),
        "distance_to": col(d[a + 1], 3),
        "days_from": col(t[b], 3),
        "days_to": col(t[b + 1], 3),
        "observed": knox.observed.ravel().astype(int).tolist(),
        "expected": col(knox.expected, 4),
        "expected_analytic": col(knox.expected_analytic, 4),
        "ratio": col(knox.ratio, 4),
        "p": col(knox.p_value, 4),
    }
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def near_repeat(store: Store, params: NearRepeatParams) -> NearRepeatResult:
    """Run the Knox test on the store's incidents.

    Raises
    ------
    NotFoundError, EmptyStudyAreaError, InvalidParameterError
        Among others: fewer than 2 incidents match.
    """
    flt = params.incidents
    crs = metric_crs(store, flt)
    pts = store.incident_points(flt)
    knox = knox_on(
        pts,
        crs,
        params.distance_edges_m,
        params.time_edges_days,
        params.permutations,
        params.seed,
        params.null,
        params.stratum_m,
    )
    first = pts["occurred_from"].min()
    last = pts["occurred_from"].max()
    parameters = analysis_parameters(params)
    meta: dict[str, Any] = {
        "analysis": "Knox test for space-time interaction (near repeat), Monte-Carlo p",
        "parameters": parameters,
        "n_incidents": knox.n,
        "pairs_considered": knox.pairs_considered,
        "first_incident": first.date().isoformat(),
        "last_incident": last.date().isoformat(),
        "metric_crs": crs,
        "distance": f"euclidean metres in {crs}",
        "time": (
            "|verschil| in kalenderdagen van de lokale datum van occurred_from / absolute "
            "difference of local calendar dates"
        ),
        "bands": "half-open [from, to)",
        "p_value": "one-sided (1 + #sims >= observed) / (1 + permutations)",
        "null": knox.null,
        "n_strata": knox.n_strata,
        "null_description": null_description(knox, params.stratum_m),
        "time_convention": "lokale kloktijd van de plaats van het incident (tz per incident)",
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
    }
    return NearRepeatResult(knox=knox, metadata=meta)


def near_repeat_json(result: NearRepeatResult) -> dict[str, Any]:
    """Return ``{"metadata": ..., "bands": [...]}`` (see :func:`knox_bands`)."""
    return {"metadata": result.metadata, "bands": knox_bands(result.knox)}


def _nl(value: float, decimals: int = 2) -> str:
    """Dutch number: decimal comma, thousands dot."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _band_label(lo: float, hi: float, unit: str, integer: bool) -> str:
    if not np.isfinite(hi):
        return f">= {lo:g} {unit}"
    if integer:
        # Whole days in [lo, hi) are lo .. hi - 1.
        return f"{int(lo)}-{int(hi) - 1} {unit}" if hi - lo > 1 else f"{int(lo)} {unit}"
    return f"{lo:g}-<{hi:g} {unit}"


def near_repeat_table(result: NearRepeatResult, alpha: float = 0.05) -> str:
    """Return the Knox table as readable Dutch text: ratio matrix, significant cells marked.

    A cell is marked ``*`` where the ratio is above 1 and ``p < alpha``.
    """
    k = result.knox
    meta = result.metadata
    par = meta["parameters"]
    d, t = k.distance_edges_m, k.time_edges_days
    whole_days = bool(np.all(np.mod(t[np.isfinite(t)], 1) == 0))
    rows = [_band_label(d[i], d[i + 1], "m", integer=False) for i in range(d.size - 1)]
    cols = [_band_label(t[j], t[j + 1], "d", integer=whole_days) for j in range(t.size - 1)]
    with np.errstate(invalid="ignore"):
        sig = (k.ratio > 1) & (k.p_value < alpha)

    def cell(i: int, j: int) -> str:
        r = k.ratio[i, j]
        text = "-" if not np.isfinite(r) else _nl(float(r))
        return text + ("*" if sig[i, j] else " ")

    def matrix(title: str, fmt: Any) -> list[str]:
        width = max(8, *(len(c) + 1 for c in cols))
        first = max(len("afstand \\ tijd"), *(len(r) for r in rows)) + 2
        out = [title, "afstand \\ tijd".ljust(first) + "".join(c.rjust(width) for c in cols)]
        for i, label in enumerate(rows):
            out.append(
                label.ljust(first) + "".join(fmt(i, j).rjust(width) for j in range(len(cols)))
            )
        return out

    period = f"{par['start'] or meta['first_incident']} t/m {par['end'] or meta['last_incident']}"
    head = [
        "Near repeat (Knox-test)",
        f"categorie: {par['category']}   gemeente: {par['municipality'] or 'alle'}   "
        f"periode: {period}",
        f"incidenten: {_nl(k.n, 0)}   paren binnen {d[-1]:g} m: {_nl(k.pairs_considered, 0)}   "
        f"permutaties: {k.permutations} (seed {k.seed})   CRS: {meta['metric_crs']}",
        f"nulhypothese: {meta['null_description'].split(' / ')[0]}",
        "",
    ]
    body = matrix(
        "Knox-ratio (waargenomen / verwacht); * = ratio > 1 en p < "
        f"{_nl(alpha, 2)} (verhoogd risico)",
        cell,
    )
    obs = matrix("Waargenomen paren", lambda i, j: f"{_nl(int(k.observed[i, j]), 0)} ")
    foot = [
        "",
        "Banden zijn halfopen [van, tot); tijd = verschil in kalenderdagen (lokale datum).",
        f"p eenzijdig uit {k.permutations} permutaties van de data; kleinste mogelijke p = "
        f"{_nl(1 / (1 + k.permutations), 3) if k.permutations else '-'}.",
    ]
    return "\n".join([*head, *body, "", *obs, *foot])
