"""Adapter: the Veiligheidskaart, the yearly report per stadsdeel or wijk (``geo-service report``).

Den Haag sends the gemeenteraad a yearly *Veiligheidskaart*: the safety development per
stadsdeel over time. This adapter reads the store and returns, per area and category, the
counts and rates per 1,000 dwellings of the last whole years, the trend with its interval,
the rank among all areas this year and last, the five-year camera rule where fixed cameras
hang, and the Weighted Displacement Quotient of every imported IHA action and flexible
camera. The statistics are :mod:`spatial.targeting.evaluation`'s; only I/O, the assembly of
areas and the Dutch wording happen here.

* **Years.** Whole calendar years only (a partial year would fake a fall or a rise): the
  ``years`` whole years up to ``year`` (default the last whole year before the store's
  today) that the data cover from January on.
* **Areas.** ``wijk``: the stored wijken of the municipality. ``stadsdeel``: stored areas of
  level ``stadsdeel`` where there are any, else for Den Haag the eight stadsdelen derived
  from the wijk codes (:data:`geo_service.demo.areas.DEN_HAAG_STADSDELEN`, marked
  ``derived``). Counts per stadsdeel are the sums of its wijken; dwellings too.
* **Categories** are reported each on their own, police registrations first: residents'
  reports (categories of kind ``melding`` (:meth:`Store.category_kinds`), such as the demo's
  jeugdoverlast) are never added to police registrations (woninginbraak); ``kinds`` names
  each category's kind, so the page puts them in separate tables.
* **Privacy.** ``publish`` turns exact counts and their cell keys into published ones (the
  viewer edition passes :meth:`geo_service.web.policy.ViewerPolicy.counts`); everything
  below -- rates, trends, ranks, the camera rule, the WDQ -- is computed from the published
  counts, so a withheld count cannot be read back from a derived number. Without
  ``publish`` (the analyst edition) the counts are exact.
* **Camera rule** per area with fixed cameras (by location, active before the report's
  first year) and category: :func:`spatial.targeting.evaluation.camera_rule` on the yearly
  rates.
* **WDQ.** Target: the IHA polygon, or a disk of ``camera_radius_m`` around a flexible
  camera; buffer: the ring ``buffer_m`` wide around the target; control: the rest of the
  municipality. Before and after: the ``window_months`` before the action's date and from it
  on, cut to the same length where the data end sooner (at least 3 months, else "nog te
  kort").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo_service import __version__
from geo_service.analyses.targeting import covered_years, full_years
from geo_service.demo.areas import STADSDEEL_SOURCE, stadsdeel_of_wijk
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.store.incidents import CATEGORY_KINDS
from spatial.errors import InvalidParameterError
from spatial.grid.crs import RD_NEW, WGS84
from spatial.targeting.evaluation import (
    TOO_FEW,
    CameraRule,
    WDQResult,
    camera_rule,
    weighted_displacement,
    yearly_trend,
)

#: Turns exact counts and their cell keys into published counts (NaN where withheld) and
#: the withheld mask: :meth:`geo_service.web.policy.ViewerPolicy.counts`.
Publisher = Callable[
    [npt.ArrayLike, npt.ArrayLike | None], tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]
]
Level = Literal["stadsdeel", "wijk"]
LEVELS: Final = ("stadsdeel", "wijk")
#: Least months of a before/after window for a WDQ.
MIN_WINDOW_MONTHS: Final = 3


@dataclass(frozen=True)
class VeiligheidskaartParams:
    """What the report covers; validated on construction.

    Attributes
    ----------
    municipality
        CBS code (``GM0518``).
    year
        Report year (a whole year); default the last whole year before the store's today.
    level
        ``stadsdeel`` or ``wijk``.
    years
        Whole years shown (2-20); the data may cover fewer.
    rule_years
        Length of the camera rule's unbroken period (Den Haag: 5).
    window_months
        Before/after windows of the WDQ.
    buffer_m, camera_radius_m
        Buffer ring width and the target disk of a flexible camera.

    Raises
    ------
    InvalidParameterError
    """

    municipality: str = "GM0518"
    year: int | None = None
    level: Level = "stadsdeel"
    years: int = 6
    rule_years: int = 5
    window_months: int = 12
    buffer_m: float = 250.0
    camera_radius_m: float = 150.0

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise InvalidParameterError(
                f"level must be stadsdeel or wijk, got {self.level!r} / kies stadsdeel of wijk"
            )
        if isinstance(self.years, bool) or not 2 <= self.years <= 20:
            raise InvalidParameterError(f"years must be from 2 to 20, got {self.years!r}")
        if self.year is not None and not 1900 <= self.year <= 2200:
            raise InvalidParameterError(f"year must be from 1900 to 2200, got {self.year!r}")
        if not 1 <= self.rule_years <= 20:
            raise InvalidParameterError(f"rule_years must be 1-20, got {self.rule_years!r}")
        if not MIN_WINDOW_MONTHS <= self.window_months <= 36:
            raise InvalidParameterError(f"window_months must be 3-36, got {self.window_months!r}")
        if not 0 < self.buffer_m <= 2000 or not 0 < self.camera_radius_m <= 1000:
            raise InvalidParameterError("buffer_m must be 0-2000 and camera_radius_m 0-1000")


@dataclass(frozen=True)
class CameraStatus:
    """The five-year camera rule for one area and category.

    Attributes
    ----------
    fixed_cameras
        Fixed cameras in the area.
    run
        Consecutive yearly falls of the rate up to the report year.
    met, decided
        As :class:`spatial.targeting.evaluation.CameraRule`.
    text
        Dutch one-line reading.
    """

    fixed_cameras: int
    run: int
    met: bool
    decided: bool
    text: str


@dataclass(frozen=True)
class AreaCategory:
    """One area and category over the report's years (None where withheld or unknown).

    Attributes
    ----------
    category
        Category key.
    counts, rates
        Per year: incidents and incidents per 1,000 dwellings.
    rate_ratio, rr_low, rr_high, p_value
        Trend per year (:func:`spatial.targeting.evaluation.yearly_trend`), None where a
        year's count is withheld or the trend cannot be estimated.
    rank, rank_before
        Rank by rate among all areas (1 = highest) in the report year and the year before.
    n_ranked, n_ranked_before
        Number of areas ranked in those years.
    camera
        The camera rule where the area has fixed cameras, else None.
    """

    category: str
    counts: tuple[float | None, ...]
    rates: tuple[float | None, ...]
    rate_ratio: float | None
    rr_low: float | None
    rr_high: float | None
    p_value: float | None
    rank: int | None
    rank_before: int | None
    n_ranked: int
    n_ranked_before: int
    camera: CameraStatus | None


@dataclass(frozen=True)
class AreaReport:
    """One area of the report.

    Attributes
    ----------
    code, name
        Area code and name.
    dwellings
        Dwellings (estimated in the demo).
    wijken
        Wijk codes of a stadsdeel (the wijk itself for a wijk).
    fixed_cameras
        Fixed cameras in the area.
    rows
        One per category.
    """

    code: str
    name: str
    dwellings: float
    wijken: tuple[str, ...]
    fixed_cameras: int
    rows: tuple[AreaCategory, ...]


@dataclass(frozen=True)
class ActionEffect:
    """The WDQ of one IHA action or flexible camera for one category.

    Attributes
    ----------
    kind
        ``"iha"`` or ``"camera"``.
    code, name
        The action's code and a Dutch label.
    start
        The action's date (the first day of "after").
    months
        Length of each window; 0 when too short ("nog te kort").
    category
        Category key.
    result
        The WDQ; None when the windows are too short (``months`` 0) or, in the viewer
        edition, when one of the six counts is withheld (below *k*: too few to say anything).
    verdict
        Dutch one-line conclusion (the WDQ's, or why there is none).
    """

    kind: str
    code: str
    name: str
    start: date
    months: int
    category: str
    result: WDQResult | None
    verdict: str


@dataclass(frozen=True)
class VeiligheidskaartResult:
    """The whole report: areas, the years, the actions and what the figures rest on."""

    params: VeiligheidskaartParams
    years: tuple[int, ...]
    categories: tuple[str, ...]
    kinds: dict[str, str]
    areas: tuple[AreaReport, ...]
    effects: tuple[ActionEffect, ...]
    derived_areas: bool
    exact: bool
    notes: tuple[str, ...]
    area_source: str
    data_first: date | None
    data_last: date | None
    software: str
    data_version: str


def _months_shift(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def _report_years(store: Store, params: VeiligheidskaartParams) -> tuple[list[int], date, date]:
    first, last = store.data_window(IncidentFilter(municipality=params.municipality))
    if first is None or last is None:
        raise NotFoundError(
            f"no incidents stored for {params.municipality} / geen incidenten voor deze gemeente"
        )
    data_end = _months_shift(last.replace(day=1), 1) - timedelta(days=1)  # its month's end
    latest = full_years(min(store.today(), data_end), 1)[0]
    year = params.year if params.year is not None else latest
    if year > latest:
        raise NotFoundError(
            f"{year} is not a whole year in the data (last whole year {latest}) / {year} is "
            f"geen heel jaar in de gegevens; het laatste hele jaar is {latest}"
        )
    years = covered_years(list(range(year - params.years + 1, year + 1)), first)
    if len(years) < 2:
        raise NotFoundError(
            f"fewer than two whole years of data up to {year} / minder dan twee hele jaren "
            f"gegevens t/m {year}"
        )
    return years, first, last


def _areas(
    store: Store, params: VeiligheidskaartParams
) -> tuple[gpd.GeoDataFrame, list[tuple[str, ...]], bool, str]:
    """Return the areas of the level, their member wijken, whether derived, and the source."""
    wijken = store.areas_frame(level="wijk", municipality=params.municipality)
    if wijken.empty:
        raise NotFoundError(
            f"no wijken stored for {params.municipality} / geen wijken opgeslagen; importeer "
            "eerst de wijkgrenzen"
        )
    if params.level == "wijk":
        members: list[tuple[str, ...]] = [(str(c),) for c in wijken["code"]]
        return wijken, members, False, str(wijken["source"].iloc[0] or "")
    stored = store.areas_frame(level="stadsdeel", municipality=params.municipality)
    if len(stored):
        idx = shapely.STRtree(stored.geometry.to_numpy())
        points = shapely.point_on_surface(wijken.geometry.to_numpy())
        owner = np.full(len(wijken), -1)
        pairs = idx.query(points, predicate="within")
        owner[pairs[0]] = pairs[1]
        members = [
            tuple(str(c) for c in wijken["code"].to_numpy()[owner == i]) for i in range(len(stored))
        ]
        return stored, members, False, str(stored["source"].iloc[0] or "")
    mapping = stadsdeel_of_wijk(params.municipality)
    if not mapping:
        raise NotFoundError(
            f"no stadsdelen stored for {params.municipality} / geen stadsdelen bekend; kies "
            "niveau wijk of importeer stadsdelen"
        )
    sd = wijken.assign(
        sd_code=[mapping.get(str(c), ("", ""))[0] for c in wijken["code"]],
        sd_name=[mapping.get(str(c), ("", ""))[1] for c in wijken["code"]],
    )
    sd = sd[sd["sd_code"] != ""]
    rows = []
    members = []
    for code, group in sd.groupby("sd_code", sort=True):
        rows.append(
            {
                "code": str(code),
                "name": str(group["sd_name"].iloc[0]),
                "dwellings": float(group["dwellings"].sum(min_count=1)),
                "geometry": shapely.union_all(group.geometry.to_numpy(), grid_size=1e-7),
            }
        )
        members.append(tuple(str(c) for c in group["code"]))
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)
    return frame, members, True, STADSDEEL_SOURCE


def _ranks(rates: npt.NDArray[np.float64]) -> tuple[list[int | None], int]:
    """Rank 1 = highest rate among the finite rates (ties share the better rank)."""
    ok = np.isfinite(rates)
    out: list[int | None] = [None] * len(rates)
    vals = rates[ok]
    for i in np.flatnonzero(ok):
        out[i] = int((vals > rates[i]).sum()) + 1
    return out, int(ok.sum())


def _camera_text(rule: CameraRule, j: int, years: list[int]) -> str:
    need = rule.years
    run = int(rule.run[j])
    if rule.met[j]:
        return (
            f"{run} jaar op rij gedaald (t/m {years[-1]}): cameratoezicht heroverwegen "
            f"(regel: {need} jaar onafgebroken positieve trend)"
        )
    if not rule.decided[j]:
        return (
            f"{run} van {need} jaar op rij gedaald; de gegevens beginnen in {years[0]}, dus "
            "nog niet te beoordelen"
        )
    return f"{run} van {need} jaar op rij gedaald: regel niet vervuld, cameratoezicht blijft"


def _fixed_cameras(
    store: Store, params: VeiligheidskaartParams, areas: gpd.GeoDataFrame, first_year: int
) -> npt.NDArray[np.int64]:
    cams = store.cameras_frame(kind="fixed", municipality=params.municipality)
    if cams.empty:
        return np.zeros(len(areas), dtype=np.int64)
    since = pd.to_datetime(cams["active_from"], errors="coerce")
    early = since.isna() | (since <= pd.Timestamp(first_year, 1, 1))
    cams = cams[early.to_numpy()]
    tree = shapely.STRtree(areas.geometry.to_numpy())
    pairs = tree.query(cams.geometry.to_numpy(), predicate="intersects")
    owner = np.full(len(cams), -1)
    owner[pairs[0][::-1]] = pairs[1][::-1]  # first area on a shared border
    return np.bincount(owner[owner >= 0], minlength=len(areas)).astype(np.int64)


def _finite(x: float, ok: bool) -> float | None:
    return float(x) if ok and np.isfinite(x) else None


def _area_rows(
    counts: pd.DataFrame,
    members: list[tuple[str, ...]],
    dwellings: npt.NDArray[np.float64],
    years: list[int],
    categories: list[str],
    cameras: npt.NDArray[np.int64],
    params: VeiligheidskaartParams,
    publish: Publisher | None,
) -> list[list[AreaCategory]]:
    """Per area (outer) and category (inner): published counts, rates, trend, rank, rule."""
    n_areas, n_years = len(members), len(years)
    wijk_to_area = {w: i for i, ws in enumerate(members) for w in ws}
    year_idx = {y: t for t, y in enumerate(years)}
    out: list[list[AreaCategory]] = [[] for _ in range(n_areas)]
    for cat in categories:
        sub = counts[(counts["category"] == cat) & counts["year"].isin(years)]
        area = sub["wijk_code"].map(wijk_to_area)
        sub = sub[area.notna()]
        a = area[area.notna()].astype(int).to_numpy()
        t = sub["year"].map(year_idx).astype(int).to_numpy()
        exact = np.zeros((n_years, n_areas))
        np.add.at(exact, (t, a), sub["count"].to_numpy(dtype=np.float64))
        keys = np.zeros((n_years, n_areas), dtype=np.uint64)
        np.add.at(keys, (t, a), sub["cell_key"].to_numpy(dtype=np.uint64))
        keys %= np.uint64(2**32)
        if publish is None:
            shown = exact
        else:
            flat, hidden = publish(exact.ravel(), keys.ravel())
            shown = np.where(hidden.reshape(exact.shape), np.nan, flat.reshape(exact.shape))
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(dwellings > 0, shown / dwellings * 1000.0, np.nan)
        complete = np.isfinite(shown).all(axis=0) & (dwellings > 0)
        trend = yearly_trend(
            np.where(complete, np.nan_to_num(shown), 0).astype(np.int64),
            np.where(dwellings > 0, dwellings, 1.0),
        )
        rank_now, n_now = _ranks(rates[-1])
        rank_before, n_before = _ranks(rates[-2])
        rule = camera_rule(np.where(np.isfinite(rates), rates, np.nan), years=params.rule_years)
        for j in range(n_areas):
            out[j].append(
                AreaCategory(
                    category=cat,
                    counts=tuple(float(v) if np.isfinite(v) else None for v in shown[:, j]),
                    rates=tuple(float(v) if np.isfinite(v) else None for v in rates[:, j]),
                    rate_ratio=_finite(trend.rate_ratio[j], bool(complete[j])),
                    rr_low=_finite(trend.rr_low[j], bool(complete[j])),
                    rr_high=_finite(trend.rr_high[j], bool(complete[j])),
                    p_value=_finite(trend.p_value[j], bool(complete[j])),
                    rank=rank_now[j],
                    rank_before=rank_before[j],
                    n_ranked=n_now,
                    n_ranked_before=n_before,
                    camera=CameraStatus(
                        fixed_cameras=int(cameras[j]),
                        run=int(rule.run[j]),
                        met=bool(rule.met[j]),
                        decided=bool(rule.decided[j]),
                        text=_camera_text(rule, j, years),
                    )
                    if cameras[j] > 0
                    else None,
                )
            )
    return out


def _whole_months(a: date, b: date) -> int:
    """Return the largest m >= 0 with a + m months <= b (-1 when b is before a).

    Examples
    --------
    >>> _whole_months(date(2025, 9, 15), date(2025, 12, 1)), _whole_months(date(2025, 9, 1),
    ...     date(2025, 12, 1)), _whole_months(date(2025, 9, 1), date(2025, 8, 1))
    (2, 3, -1)
    """
    if b < a:
        return -1
    m = (b.year - a.year) * 12 + b.month - a.month
    while m > 0 and _months_shift(a, m) > b:
        m -= 1
    return m


def _effects(
    store: Store,
    params: VeiligheidskaartParams,
    categories: list[str],
    first: date,
    last: date,
    publish: Publisher | None,
) -> list[ActionEffect]:
    """Return the WDQ of every IHA action and flexible camera of the municipality."""
    actions: list[tuple[str, str, str, date, shapely.Geometry]] = []
    iha = store.iha_actions_frame(params.municipality)
    rd_iha = iha.to_crs(RD_NEW) if len(iha) else iha
    for row, geom in zip(iha.itertuples(), rd_iha.geometry, strict=True):
        label = f"IHA {row.name}" if isinstance(row.name, str) and row.name else f"IHA {row.code}"
        actions.append(("iha", str(row.code), label, pd.Timestamp(row.action_date).date(), geom))
    cams = store.cameras_frame(kind="flexible", municipality=params.municipality)
    rd_cams = cams.to_crs(RD_NEW) if len(cams) else cams
    for row, geom in zip(cams.itertuples(), rd_cams.geometry, strict=True):
        if pd.isna(row.active_from):
            continue
        actions.append(
            (
                "camera",
                str(row.camera_id),
                str(row.name or row.camera_id),
                pd.Timestamp(row.active_from).date(),
                geom.buffer(params.camera_radius_m),
            )
        )
    if not actions:
        return []
    muni = gpd.GeoSeries([store.municipality_geometry(params.municipality)], crs=WGS84)
    muni_rd = muni.to_crs(RD_NEW).iloc[0]
    end_excl = _months_shift(last.replace(day=1), 1)  # the day after the data's last month
    data_start = first.replace(day=1)  # the data's first month
    starts = [a[3] for a in actions]
    lo = _months_shift(min(starts), -params.window_months)
    out: list[ActionEffect] = []
    for cat in categories:
        pts = store.incident_points(
            IncidentFilter(category=cat, municipality=params.municipality, start=lo),
            record_keys=publish is not None,
        )
        x = pts["x"].to_numpy(dtype=np.float64)
        y = pts["y"].to_numpy(dtype=np.float64)
        when = pd.to_datetime(pts["occurred_from"]).dt.date.to_numpy()
        keys = pts["record_key"].to_numpy(dtype=np.uint64) if publish is not None else None
        for kind, code, name, start, target in actions:
            after_months = _whole_months(start, end_excl)
            before_months = _whole_months(data_start, start)
            months = min(params.window_months, after_months, before_months)
            if months < MIN_WINDOW_MONTHS:
                note = (
                    "te kort na de start (minder dan 3 maanden gegevens)"
                    if after_months < MIN_WINDOW_MONTHS
                    else "te weinig gegevens vóór de start (minder dan 3 maanden)"
                )
                out.append(ActionEffect(kind, code, name, start, 0, cat, None, note))
                continue
            before = (when >= _months_shift(start, -months)) & (when < start)
            after = (when >= start) & (when < _months_shift(start, months))
            in_a = shapely.contains_xy(target, x, y)
            ring = shapely.difference(target.buffer(params.buffer_m), target)
            in_b = shapely.contains_xy(ring, x, y) & ~in_a
            in_c = shapely.contains_xy(muni_rd, x, y) & ~in_a & ~in_b
            cells = [m & p for m in (in_a, in_b, in_c) for p in (before, after)]
            n = np.array([c.sum() for c in cells], dtype=np.float64)
            if publish is not None and keys is not None:
                k = np.array([int(keys[c].sum() % (2**32)) for c in cells], dtype=np.uint64)
                shown, hidden = publish(n, k)
                if hidden.any():  # a count below k: too few to say anything, and no WDQ
                    note = f"{TOO_FEW} (een aantal ligt onder de drempel)"
                    out.append(ActionEffect(kind, code, name, start, months, cat, None, note))
                    continue
                n = shown
            ab, aa, bb, ba, cb, ca = (int(v) for v in n)
            result = weighted_displacement(ab, aa, bb, ba, cb, ca)
            out.append(ActionEffect(kind, code, name, start, months, cat, result, result.verdict))
    return out


def compute_veiligheidskaart(
    store: Store, params: VeiligheidskaartParams, *, publish: Publisher | None = None
) -> VeiligheidskaartResult:
    """Build the Veiligheidskaart from the store.

    Parameters
    ----------
    store
        The store.
    params
        What the report covers.
    publish
        Publication of counts (the viewer edition); None for exact counts.

    Raises
    ------
    NotFoundError
        No incidents, no wijken, no stadsdelen for the municipality, a year not whole.
    """
    years, first, last = _report_years(store, params)
    # Police registrations first, then the meldingen; each category on its own row.
    stored_kinds = store.category_kinds()
    categories = sorted(
        store.resolve_categories((), every=True),
        key=lambda c: (CATEGORY_KINDS.index(stored_kinds.get(c, "politie")), c),
    )
    kinds = {c: stored_kinds.get(c, "politie") for c in categories}
    areas, members, derived, area_source = _areas(store, params)
    dwellings = areas["dwellings"].to_numpy(dtype=np.float64)
    dwellings = np.where(np.isfinite(dwellings), dwellings, 0.0)
    cameras = _fixed_cameras(store, params, areas, years[0])
    counts = store.yearly_wijk_counts(params.municipality)
    rows = _area_rows(counts, members, dwellings, years, categories, cameras, params, publish)
    reports = tuple(
        AreaReport(
            code=str(code),
            name=str(name),
            dwellings=float(dwellings[j]),
            wijken=members[j],
            fixed_cameras=int(cameras[j]),
            rows=tuple(rows[j]),
        )
        for j, (code, name) in enumerate(zip(areas["code"], areas["name"], strict=True))
    )
    notes = []
    if len(years) < params.years:
        notes.append(
            f"De gegevens beslaan {len(years)} hele jaren ({years[0]}-{years[-1]}), minder "
            f"dan de gevraagde {params.years}."
        )
    if len(years) - 1 < params.rule_years:
        notes.append(
            f"De cameraregel vraagt {params.rule_years} jaarlijkse dalingen op rij, dus "
            f"{params.rule_years + 1} hele jaren; die zijn er nog niet."
        )
    if derived:
        notes.append("Stadsdelen afgeleid uit de wijkcodes (indeling gemeente Den Haag).")
    return VeiligheidskaartResult(
        params=params,
        years=tuple(years),
        categories=tuple(categories),
        kinds=kinds,
        areas=reports,
        effects=tuple(_effects(store, params, categories, first, last, publish)),
        derived_areas=derived,
        exact=publish is None,
        notes=tuple(notes),
        area_source=area_source,
        data_first=first,
        data_last=last,
        software=f"geo-service {__version__}",
        data_version=str(store.data_version()),
    )
