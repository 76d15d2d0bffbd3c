"""The demo data set: Den Haag (GM0518) and Westland (GM1783).

What is real and what is synthetic is set out in ``data/README.md``; in short:

* REAL: the wijk polygons (2018), the coarse Den Haag buurt polygons (2014) and the per-buurt
  monthly counts of registered woninginbraak in Den Haag 2011-2017 (police open data).
* SYNTHETIC: every incident point and time, all jeugdoverlast, all Westland incidents, burglaries
  in the 7 Den Haag wijken missing from the police data, the cameras, and the dwelling estimates.

Woninginbraak in Den Haag keeps the real count of every buurt and month: the real months are
shifted forward by whole years so that the last real month (the same calendar month as the
demo's last month) lands on the demo's last month; seasonality and the spatial distribution are
therefore the police's own. Points are scattered around the buurt's label point and kept inside
its wijk polygon.

PLANTED PATTERNS (synthetic, for the space-time analyses; ``DemoData.planted`` sums them up):

* **Intensifying jeugdoverlast** at the pole of inaccessibility of Kijkduin en Ockenburgh
  (WK051815): 12 a month rising slowly to 16 over four years, then to 40 in the last 12 months
  (scatter sd 100 m). Emerging Hot Spot Analysis: ``intensifying hot spot``.
* **Fading jeugdoverlast** in Zuiderpark (WK051835): 30 a month, then down to 15 over the last
  30 months, still above the city's level. ``diminishing hot spot`` (ArcGIS's name for a hot
  spot still hot in the last bin but calming; one that stopped is ``historical``).
* **Near-repeat burglary chains in Westland**: 10 % of its burglaries get 1 + Poisson(0.3)
  followers 20-150 m away and 1-13 days later, inside the same wijk (extra burglaries:
  Westland's rate becomes ~3.4 instead of 3 per 1,000 dwellings a year).
* **Near repeats among Den Haag's real counts**: in 35 % of the buurt-months with two or more
  burglaries the second one is moved 20-150 m from the first and 1-13 days after it, within the
  same month and wijk, so every real count per buurt and month is unchanged.

Everything is drawn from ``numpy.random.Generator`` s seeded by ``seed`` (one for the data set,
one for the planted patterns): the same seed and end month give the same data set.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from tqdm import tqdm

from geo_service.errors import StaleDemoError
from geo_service.store import Store
from spatial.grid.crs import RD_NEW, WGS84

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "nl"
DEN_HAAG = "GM0518"
WESTLAND = "GM1783"
MUNICIPALITY_NAMES = {DEN_HAAG: "'s-Gravenhage", WESTLAND: "Westland"}
DEMO_YEARS = 5
DEMO_SOURCE = "demo (gedeeltelijk synthetisch, zie data/README.md)"

#: Wijken of the city centre where the fixed cameras hang.
CENTRE_WIJKEN = ("WK051828", "WK051827", "WK051822", "WK051837", "WK051829", "WK051830")

#: Westland has no police counts here: a burglary rate per 1,000 dwellings per year, chosen in the
#: range of Dutch municipalities of its kind (CBS StatLine reports ~2-5 around 2020). Synthetic.
WESTLAND_RATE_PER_1000 = 3.0
#: Westland dwellings (approximate, CBS 2020: ~45,000); spread over its wijken by area. Estimate.
WESTLAND_DWELLINGS = 45_000.0


@dataclass(frozen=True)
class DemoData:
    """The generated demo data, ready for ingestion."""

    incidents: pd.DataFrame
    areas: dict[str, gpd.GeoDataFrame]
    cameras: dict[str, gpd.GeoDataFrame]
    first_month: date
    last_month: date
    year_shift: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    planted: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` did."""

    incidents_in: int
    incidents_stored: int
    quarantined: int
    areas: int
    cameras: int
    first_month: str
    last_month: str
    as_of: str
    year_shift: int
    seconds: float

    def to_json(self) -> str:
        """Return the summary as one JSON line."""
        return json.dumps(self.__dict__)


def last_full_month(today: date | None = None) -> date:
    """Return the first day of the last full month before ``today``.

    Examples
    --------
    >>> last_full_month(date(2026, 11, 22))
    datetime.date(2026, 10, 1)
    >>> last_full_month(date(2026, 1, 5))
    datetime.date(2025, 12, 1)
    """
    today = today or date.today()
    return date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month_date(idx: npt.NDArray[np.int64]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime({"year": idx // 12, "month": idx % 12 + 1, "day": 1}))


# --------------------------------------------------------------------------- areas


def load_areas() -> dict[str, gpd.GeoDataFrame]:
    """Load the real polygons and attach (estimated) dwellings; EPSG:4326."""
    wijken = gpd.read_file(DATA_DIR / "wijken_denhaag_westland_2018.geojson").to_crs(WGS84)
    wijken = wijken.rename(
        columns={"wijk_code": "code", "wijk_name": "name", "gm_code": "municipality"}
    )
    # The published polygons are rounded to 5 decimals, which leaves a few self-intersections.
    wijken["geometry"] = wijken.geometry.make_valid(method="structure", keep_collapsed=False)
    wijken["dwellings"] = _estimate_dwellings(wijken)
    wijken["dwellings_estimated"] = True
    gemeenten = wijken.dissolve(by="municipality", as_index=False, grid_size=1e-6)[
        ["municipality", "geometry"]
    ]
    gemeenten["code"] = gemeenten["municipality"]
    gemeenten["name"] = gemeenten["code"].map(MUNICIPALITY_NAMES)
    gemeenten["dwellings"] = (
        wijken.groupby("municipality")["dwellings"]
        .sum()
        .reindex(gemeenten["municipality"])
        .to_numpy()
    )
    gemeenten["dwellings_estimated"] = True
    buurten = gpd.read_file(DATA_DIR / "denhaag_buurten_2014_coarse.geojson").to_crs(WGS84)
    buurten = buurten.rename(columns={"statcode": "code", "statnaam": "name"})
    buurten["geometry"] = buurten.geometry.make_valid(method="structure", keep_collapsed=False)
    buurten["municipality"] = DEN_HAAG
    buurten["dwellings"] = np.nan
    buurten["dwellings_estimated"] = False
    cols = ["code", "name", "municipality", "dwellings", "dwellings_estimated", "geometry"]
    return {"gemeente": gemeenten[cols], "wijk": wijken[cols], "buurt": buurten[cols]}


def _estimate_dwellings(wijken: gpd.GeoDataFrame) -> npt.NDArray[np.float64]:
    """Estimate dwellings per wijk.

    Den Haag: Bernasco & Nieuwbeerta's (2005) dwelling counts (RESUNITS x 1000, 1996-2001) of 89
    neighbourhoods, summed per wijk by centroid; wijken without a centroid get the city's median
    dwelling density times their area. Westland: ``WESTLAND_DWELLINGS`` spread by area.
    """
    rd = wijken.to_crs(RD_NEW)
    area_km2 = rd.area.to_numpy() / 1e6
    nb = pd.read_csv(DATA_DIR / "denhaag_neighbourhoods_1996_2001_bernasco.csv")
    pts = gpd.GeoDataFrame(nb, geometry=gpd.points_from_xy(nb["X"], nb["Y"]), crs=RD_NEW)
    joined = gpd.sjoin(pts, rd[["code", "geometry"]], predicate="within")
    per_wijk = (
        (joined.groupby("code")["RESUNITS"].sum() * 1000.0).reindex(wijken["code"]).to_numpy()
    )
    dh = (wijken["municipality"] == DEN_HAAG).to_numpy()
    density = per_wijk / area_km2
    # Wijken without a Bernasco centroid include dunes, parks and business parks: a low
    # (first-quartile) density keeps them from being over-estimated.
    low_density = float(np.nanpercentile(density[dh], 25))
    out = np.where(np.isnan(per_wijk), low_density * area_km2, per_wijk)
    wl = ~dh
    out[wl] = WESTLAND_DWELLINGS * area_km2[wl] / area_km2[wl].sum()
    return np.round(out)


# --------------------------------------------------------------------------- points


def _scatter_in_polygons(
    rng: np.random.Generator,
    centre_x: npt.NDArray[np.float64],
    centre_y: npt.NDArray[np.float64],
    sd_m: npt.NDArray[np.float64] | float,
    polygon_idx: npt.NDArray[np.int64],
    polygons: npt.NDArray[np.object_],
    rounds: int = 30,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Gaussian scatter around centres, redrawn (vectorised) until inside the given polygon (RD)."""
    n = len(centre_x)
    sd = np.broadcast_to(np.asarray(sd_m, dtype=np.float64), (n,))
    x = np.empty(n)
    y = np.empty(n)
    todo = np.arange(n)
    for polygon in polygons:
        shapely.prepare(polygon)
    for _ in range(rounds):
        if todo.size == 0:
            break
        x[todo] = centre_x[todo] + rng.normal(0.0, sd[todo])
        y[todo] = centre_y[todo] + rng.normal(0.0, sd[todo])
        inside = np.zeros(todo.size, dtype=bool)
        for p in np.unique(polygon_idx[todo]):
            sel = polygon_idx[todo] == p
            inside[sel] = shapely.contains_xy(polygons[p], x[todo][sel], y[todo][sel])
        todo = todo[~inside]
    if todo.size:
        # Centres outside their polygon (label points on a border): use a point on the surface.
        reps = shapely.point_on_surface(polygons[polygon_idx[todo]])
        x[todo], y[todo] = shapely.get_x(reps), shapely.get_y(reps)
    return x, y


def _random_points_in(
    rng: np.random.Generator, polygons: npt.NDArray[np.object_], idx: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Uniform random points inside ``polygons[idx]`` (RD), by vectorised rejection."""
    bounds = shapely.bounds(polygons[idx])
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2
    sd = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) / 3
    return _scatter_in_polygons(rng, cx, cy, sd, idx, polygons)


def _times(
    rng: np.random.Generator,
    month_start: pd.DatetimeIndex,
    hour_weights: npt.NDArray[np.float64],
    weekend_boost: float,
) -> pd.DatetimeIndex:
    """Draw a day in each month (weekends weighted by ``weekend_boost``) and an hour."""
    n = len(month_start)
    days_in_month = month_start.days_in_month.to_numpy()
    # Draw a few candidate days and keep one by weekday weight: vectorised thinning.
    cand = rng.integers(0, 31, size=(n, 4)) % days_in_month[:, None]
    weekday = (month_start.day_of_week.to_numpy()[:, None] + cand) % 7
    w = np.where(weekday >= 5, weekend_boost, 1.0) * rng.random((n, 4))
    day = cand[np.arange(n), np.argmax(w, axis=1)]
    hour = rng.choice(24, size=n, p=hour_weights / hour_weights.sum())
    minute = rng.integers(0, 60, size=n)
    return (
        month_start
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(hour, unit="h")
        + pd.to_timedelta(minute, unit="min")
    )


_BURGLARY_HOURS = np.array(
    [2, 1.5, 1, 1, 1, 1, 1.5, 2, 3, 4, 4, 4, 4, 4, 4, 4.5, 5, 6, 7, 6, 4.5, 3.5, 3, 2.5], float
)
_YOUTH_HOURS = np.array(
    [
        4,
        2.5,
        1.5,
        0.8,
        0.3,
        0.2,
        0.2,
        0.3,
        0.5,
        0.6,
        0.8,
        1,
        1.5,
        2,
        2.5,
        3,
        4,
        5,
        6,
        8,
        10,
        11,
        10,
        7,
    ],
    float,
)


def _burglaries_den_haag(
    rng: np.random.Generator, wijken_rd: gpd.GeoDataFrame, first: int, last: int, shift: int
) -> pd.DataFrame:
    counts = pd.read_csv(DATA_DIR / "woninginbraak_buurt_month_2011_2017.csv.gz")
    counts["demo_month"] = (counts["year"] + shift) * 12 + counts["month"] - 1
    counts = counts[(counts["demo_month"] >= first) & (counts["demo_month"] <= last)]
    counts = counts[counts["count"] > 0]
    rep = np.repeat(np.arange(len(counts)), counts["count"].to_numpy())
    rows = counts.iloc[rep].reset_index(drop=True)
    pts = gpd.GeoSeries(gpd.points_from_xy(rows["longitude"], rows["latitude"]), crs=WGS84).to_crs(
        RD_NEW
    )
    lx, ly = pts.x.to_numpy(), pts.y.to_numpy()
    code_to_idx = {c: i for i, c in enumerate(wijken_rd["code"])}
    pidx = rows["wijk_code"].map(code_to_idx).to_numpy()
    known = ~pd.isna(pidx)
    rows, lx, ly = rows[known], lx[known], ly[known]
    pidx = pidx[known].astype(np.int64)
    x, y = _scatter_in_polygons(rng, lx, ly, 180.0, pidx, wijken_rd.geometry.to_numpy())
    frame = pd.DataFrame(
        {
            "x": x,
            "y": y,
            "month": rows["demo_month"].to_numpy(),
            # The real buurt-month a point counts for: near-repeat planting moves points only
            # within it, so the real counts per buurt and month stay exact.
            "buurt": rows["buurt_code"].to_numpy(dtype=object),
            "wijk": pidx,
        }
    )
    # Wijken absent from the police data: synthetic, at the city's median rate per dwelling.
    dh = wijken_rd[wijken_rd["municipality"] == DEN_HAAG]
    per_wijk = rows.groupby("wijk_code").size()
    rate = (per_wijk / dh.set_index("code")["dwellings"].reindex(per_wijk.index)).median()
    missing = dh[~dh["code"].isin(per_wijk.index)]
    season = frame.groupby(frame["month"] % 12).size().reindex(range(12), fill_value=0).to_numpy()
    extra = _synthetic_burglaries(
        rng,
        wijken_rd,
        missing.index.to_numpy(),
        rate * missing["dwellings"].to_numpy(),
        first,
        last,
        season,
    )
    return pd.concat([frame, extra], ignore_index=True)


def _synthetic_burglaries(
    rng: np.random.Generator,
    wijken_rd: gpd.GeoDataFrame,
    idx: npt.NDArray[np.int64],
    total_over_period: npt.NDArray[np.float64],
    first: int,
    last: int,
    season: npt.NDArray[np.integer],
) -> pd.DataFrame:
    """Poisson burglaries per wijk over the period with the given monthly seasonal profile."""
    months = np.arange(first, last + 1)
    profile = season[months % 12].astype(float) + 1.0
    profile /= profile.sum()
    lam = np.outer(total_over_period, profile)
    n = rng.poisson(lam)
    wijk_rep = np.repeat(np.repeat(idx, len(months)), n.ravel())
    month_rep = np.repeat(np.tile(months, len(idx)), n.ravel())
    x, y = _random_points_in(rng, wijken_rd.geometry.to_numpy(), wijk_rep)
    return pd.DataFrame({"x": x, "y": y, "month": month_rep, "wijk": wijk_rep})


def _youth_nuisance(
    rng: np.random.Generator, wijken_rd: gpd.GeoDataFrame, first: int, last: int
) -> pd.DataFrame:
    """Jeugdoverlast around synthetic hang-out spots that appear and disappear over the years."""
    polygons = wijken_rd.geometry.to_numpy()
    frames = []
    for gm, n_spots, base in ((DEN_HAAG, 36, 9.0), (WESTLAND, 8, 4.0)):
        w = wijken_rd[wijken_rd["municipality"] == gm]
        # Spots in denser wijken more often (more dwellings -> more youth).
        p = w["dwellings"].to_numpy(dtype=float)
        spot_wijk = rng.choice(w.index.to_numpy(), size=n_spots, p=p / p.sum())
        sx, sy = _random_points_in(rng, polygons, spot_wijk)
        months = np.arange(first, last + 1)
        # Each spot is active for a stretch of 1-4 years: the problem moves around.
        length = rng.integers(12, 49, size=n_spots)
        start = first + rng.integers(-24, last - first, size=n_spots)
        active = (months[None, :] >= start[:, None]) & (months[None, :] < (start + length)[:, None])
        summer = 1.0 + 0.45 * np.cos(2 * np.pi * ((months % 12) - 6) / 12)  # peak in July
        intensity = rng.gamma(2.0, base / 2.0, size=n_spots)
        lam = intensity[:, None] * summer[None, :] * active
        n = rng.poisson(lam)
        spot_rep = np.repeat(np.repeat(np.arange(n_spots), len(months)), n.ravel())
        month_rep = np.repeat(np.tile(months, n_spots), n.ravel())
        x, y = _scatter_in_polygons(
            rng, sx[spot_rep], sy[spot_rep], 70.0, spot_wijk[spot_rep], polygons
        )
        frames.append(pd.DataFrame({"x": x, "y": y, "month": month_rep}))
    return pd.concat(frames, ignore_index=True)


def _cameras(
    rng: np.random.Generator, wijken_rd: gpd.GeoDataFrame, youth: pd.DataFrame, last: int
) -> dict[str, gpd.GeoDataFrame]:
    polygons = wijken_rd.geometry.to_numpy()
    centre = wijken_rd.index[wijken_rd["code"].isin(CENTRE_WIJKEN)].to_numpy()
    weights = np.where(wijken_rd.loc[centre, "code"].eq("WK051828"), 3.0, 1.0)
    pick = rng.choice(centre, size=106, p=weights / weights.sum())
    fx, fy = _random_points_in(rng, polygons, pick)
    fixed = gpd.GeoDataFrame(
        {
            "camera_id": [f"VC-{i + 1:03d}" for i in range(106)],
            "name": [f"Vaste camera {i + 1}" for i in range(106)],
            "municipality": DEN_HAAG,
            "active_from": pd.Timestamp("2015-01-01"),
        },
        geometry=gpd.points_from_xy(fx, fy),
        crs=RD_NEW,
    ).to_crs(WGS84)
    # Flexible cameras: at the busiest jeugdoverlast places of the last year (rounded to 200 m).
    recent = youth[youth["month"] > last - 12]
    cell = (
        (recent["x"] // 200).astype(int).astype(str)
        + "_"
        + (recent["y"] // 200).astype(int).astype(str)
    )
    top = (
        recent.groupby(cell)[["x", "y"]]
        .agg(["mean", "size"])
        .sort_values(("x", "size"), ascending=False)
    )
    top = top.head(22)
    start = _month_date(np.asarray([last - 5 - i % 6 for i in range(len(top))], dtype=np.int64))
    flexible = gpd.GeoDataFrame(
        {
            "camera_id": [f"FC-{i + 1:02d}" for i in range(len(top))],
            "name": [f"Flexibele camera {i + 1}" for i in range(len(top))],
            "municipality": DEN_HAAG,
            "active_from": start,
        },
        geometry=gpd.points_from_xy(top[("x", "mean")], top[("y", "mean")]),
        crs=RD_NEW,
    ).to_crs(WGS84)
    return {"fixed": fixed, "flexible": flexible}


# --------------------------------------------------------------------------- planted patterns
# Synthetic space-time patterns that the emerging hot spot and near-repeat analyses must find
# (tests/analyses/test_emerging_adapter.py, tests/analyses/test_nearrepeat.py). They are drawn
# from their own generator (seeded by ``seed``), after everything else, so every other point,
# time and camera is the same with or without them (incident ids follow time order, so they
# shift).

#: Wijken of the planted jeugdoverlast spots; each spot sits at its wijk's pole of
#: inaccessibility (the inside point farthest from the border).
PLANTED_WIJKEN: dict[str, str] = {
    "intensifying": "WK051815",  # Kijkduin en Ockenburgh
    "fading": "WK051835",  # Zuiderpark
}
#: Jeugdoverlast per month at a planted spot, piecewise linear through (months before the
#: demo's last month, incidents per month). Intensifying: slowly from 12 to 16 a month over
#: four years, then to 40 over the last 12 months. Fading: 30 a month, then down to 15 over
#: the last 30 months -- still above the city's level: ArcGIS calls a hot spot that is no
#: longer hot in the final bin "historical", one still hot but calming "diminishing".
PLANT_PROFILES: dict[str, tuple[tuple[int, float], ...]] = {
    "intensifying": ((0, 40.0), (12, 16.0), (59, 12.0)),
    "fading": ((0, 15.0), (30, 30.0), (59, 30.0)),
}
#: Scatter (m) of planted jeugdoverlast around its spot: a park or a square, wider than the
#: random hang-out spots (70 m).
PLANT_SD_M = 100.0
#: Near-repeat followers: this far (m) and this many days after the burglary they follow.
NEAR_REPEAT_RADIUS_M = (20.0, 150.0)
NEAR_REPEAT_DAYS = (1, 13)
#: Westland: share of burglaries followed by near repeats; each has 1 + Poisson(0.3) followers.
WESTLAND_CHAIN_SHARE = 0.1
WESTLAND_EXTRA_FOLLOWERS = 0.3
#: Den Haag: share of buurt-months with two or more burglaries whose second burglary is moved
#: next to the first (same buurt-month, so the real counts stay exact).
DEN_HAAG_CHAIN_SHARE = 0.35


def _plant_rng(seed: int) -> np.random.Generator:
    """Return the planted patterns' own generator (independent of the main one)."""
    return np.random.default_rng([seed, 20260909])


def _spot_centres(wijken_rd: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """RD position of each planted spot: the pole of inaccessibility of its wijk."""
    from shapely.ops import polylabel

    out: dict[str, tuple[float, float]] = {}
    for name, code in PLANTED_WIJKEN.items():
        geom = wijken_rd.loc[wijken_rd["code"] == code, "geometry"].iloc[0]
        parts = shapely.get_parts(geom)
        largest = parts[np.argmax(shapely.area(parts))]
        p = polylabel(largest, tolerance=5.0)
        out[name] = (float(p.x), float(p.y))
    return out


def planted_spots(end_month: date | None = None) -> dict[str, dict[str, object]]:
    """Where and how the synthetic jeugdoverlast patterns are planted (lon/lat, WGS84).

    Returns
    -------
    dict
        ``{"intensifying": {"wijk", "lon", "lat", "levels"}, "fading": {...}}``.
    """
    del end_month  # the places do not depend on the period
    wijken_rd = load_areas()["wijk"].to_crs(RD_NEW).reset_index(drop=True)
    out: dict[str, dict[str, object]] = {}
    for name, (x, y) in _spot_centres(wijken_rd).items():
        lon, lat = gpd.points_from_xy([x], [y], crs=RD_NEW).to_crs(WGS84)[0].coords[0]
        out[name] = {
            "wijk": PLANTED_WIJKEN[name],
            "lon": lon,
            "lat": lat,
            "per_month_by_months_before_end": PLANT_PROFILES[name],
        }
    return out


def _planted_youth(
    rng: np.random.Generator, wijken_rd: gpd.GeoDataFrame, first: int, last: int
) -> pd.DataFrame:
    """Jeugdoverlast at the planted spots: one intensifying, one fading (module docstring)."""
    months = np.arange(first, last + 1)
    # Milder seasonality than the random spots: the pattern must show in every month.
    summer = 1.0 + 0.2 * np.cos(2 * np.pi * ((months % 12) - 6) / 12)
    code_to_idx = {c: i for i, c in enumerate(wijken_rd["code"])}
    polygons = wijken_rd.geometry.to_numpy()
    frames = []
    for name, (sx, sy) in _spot_centres(wijken_rd).items():
        knots = np.asarray(PLANT_PROFILES[name], dtype=np.float64)
        lam = np.interp(last - months, knots[:, 0], knots[:, 1]) * summer
        n = rng.poisson(lam)
        month_rep = np.repeat(months, n)
        widx = np.full(month_rep.size, code_to_idx[PLANTED_WIJKEN[name]], dtype=np.int64)
        x, y = _scatter_in_polygons(
            rng,
            np.full(month_rep.size, sx),
            np.full(month_rep.size, sy),
            PLANT_SD_M,
            widx,
            polygons,
        )
        frames.append(pd.DataFrame({"x": x, "y": y, "month": month_rep}))
    return pd.concat(frames, ignore_index=True)


def _offsets(
    rng: np.random.Generator, n: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Random near-repeat offsets: dx, dy uniform over the annulus, days uniform."""
    lo, hi = NEAR_REPEAT_RADIUS_M
    r = np.sqrt(rng.uniform(lo**2, hi**2, n))  # uniform over the annulus' area
    angle = rng.uniform(0, 2 * np.pi, n)
    days = rng.integers(NEAR_REPEAT_DAYS[0], NEAR_REPEAT_DAYS[1] + 1, n)
    return r * np.cos(angle), r * np.sin(angle), days.astype(np.int64)


def _inside_wijk(
    polygons: npt.NDArray[np.object_],
    wijk: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    ok = np.zeros(x.size, dtype=bool)
    for w in np.unique(wijk):
        sel = wijk == w
        ok[sel] = shapely.contains_xy(polygons[w], x[sel], y[sel])
    return ok


def _westland_followers(
    rng: np.random.Generator,
    burglary: pd.DataFrame,
    b_from: pd.DatetimeIndex,
    polygons: npt.NDArray[np.object_],
) -> pd.DataFrame:
    """Near-repeat followers of Westland burglaries: extra burglaries close by, days later.

    Returns rows ``x, y, occurred_from`` (followers falling outside their wijk are dropped).
    """
    wl = np.flatnonzero(burglary["westland"].to_numpy())
    heads = wl[rng.random(wl.size) < WESTLAND_CHAIN_SHARE]
    n_follow = 1 + rng.poisson(WESTLAND_EXTRA_FOLLOWERS, heads.size)
    origin = np.repeat(heads, n_follow)
    dx, dy, days = _offsets(rng, origin.size)
    x = burglary["x"].to_numpy()[origin] + dx
    y = burglary["y"].to_numpy()[origin] + dy
    wijk = burglary["wijk"].to_numpy()[origin].astype(np.int64)
    keep = _inside_wijk(polygons, wijk, x, y)
    # Own time of day: the follower is a new burglary, days after its origin.
    start = pd.DatetimeIndex(b_from[origin]).normalize() + pd.to_timedelta(days, unit="D")
    hour = rng.choice(24, size=origin.size, p=_BURGLARY_HOURS / _BURGLARY_HOURS.sum())
    minute = rng.integers(0, 60, size=origin.size)
    when = start + pd.to_timedelta(hour, unit="h") + pd.to_timedelta(minute, unit="min")
    return pd.DataFrame({"x": x[keep], "y": y[keep], "occurred_from": when[keep]})


def _den_haag_chains(
    rng: np.random.Generator,
    burglary: pd.DataFrame,
    b_from: pd.DatetimeIndex,
    polygons: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64], pd.Series]:
    """Near repeats among Den Haag's real burglaries, keeping every buurt-month count.

    In a share of the buurt-months with two or more burglaries, the second burglary is moved
    next to the first (20-150 m) and to 1-13 days after it, within the same month and wijk.

    Returns
    -------
    rows, x, y, new_from
        Which rows move, their new position and their new start time.
    """
    real = burglary["buurt"].notna().to_numpy()
    frame = pd.DataFrame({"row": np.flatnonzero(real), "buurt": burglary["buurt"].to_numpy()[real]})
    frame["month"] = burglary["month"].to_numpy()[real]
    frame["t"] = b_from[real]
    frame = frame.sort_values(["buurt", "month", "t", "row"], kind="stable")
    rank = frame.groupby(["buurt", "month"]).cumcount().to_numpy()
    size = frame.groupby(["buurt", "month"])["row"].transform("size").to_numpy()
    origin_rows = frame["row"].to_numpy()[(rank == 0) & (size >= 2)]
    second_rows = frame["row"].to_numpy()[(rank == 1) & (size >= 2)]
    pick = rng.random(origin_rows.size) < DEN_HAAG_CHAIN_SHARE
    origin, moved = origin_rows[pick], second_rows[pick]
    dx, dy, days = _offsets(rng, origin.size)
    x = burglary["x"].to_numpy()[origin] + dx
    y = burglary["y"].to_numpy()[origin] + dy
    o_from = pd.DatetimeIndex(b_from[origin])
    m_from = pd.DatetimeIndex(b_from[moved])
    # Same month: at most up to the month's last day.
    room = (o_from.days_in_month - o_from.day).to_numpy()
    days = np.minimum(days, room)
    new_from = (
        o_from.normalize()
        + pd.to_timedelta(days, unit="D")
        + (m_from - m_from.normalize())  # the moved burglary keeps its time of day
    )
    wijk = burglary["wijk"].to_numpy()[origin].astype(np.int64)
    keep = (days >= 1) & _inside_wijk(polygons, wijk, x, y)
    return moved[keep], x[keep], y[keep], pd.Series(new_from[keep])


def generate_demo(
    *, seed: int = 20261122, as_of: date | None = None, end_month: date | None = None
) -> DemoData:
    """Generate the demo data set (pure apart from reading ``data/``).

    Parameters
    ----------
    seed
        Seed of the one random generator used.
    as_of
        The demo's "today" (default: today): the data end with the last full month before it.
    end_month
        Last month of data, overriding ``as_of`` (its first day).

    Returns
    -------
    DemoData
    """
    rng = np.random.default_rng(seed)
    last_d = (end_month or last_full_month(as_of)).replace(day=1)
    last = _month_index(last_d)
    first = last - DEMO_YEARS * 12 + 1
    # Real data end in 2017-12: shift whole years so that the demo's last month is the same
    # calendar month of 2017 (seasonality stays aligned).
    shift = last_d.year - 2017
    areas = load_areas()
    wijken_rd = areas["wijk"].to_crs(RD_NEW).reset_index(drop=True)

    burg_dh = _burglaries_den_haag(rng, wijken_rd, first, last, shift)
    wl = wijken_rd.index[wijken_rd["municipality"] == WESTLAND].to_numpy()
    season = (
        burg_dh.groupby(burg_dh["month"] % 12).size().reindex(range(12), fill_value=0).to_numpy()
    )
    burg_wl = _synthetic_burglaries(
        rng,
        wijken_rd,
        wl,
        WESTLAND_RATE_PER_1000 / 1000 * DEMO_YEARS * wijken_rd.loc[wl, "dwellings"].to_numpy(),
        first,
        last,
        season,
    )
    burglary = pd.concat(
        [burg_dh.assign(westland=False), burg_wl.assign(westland=True)], ignore_index=True
    )
    youth = _youth_nuisance(rng, wijken_rd, first, last)

    b_from = _times(rng, _month_date(burglary["month"].to_numpy()), _BURGLARY_HOURS, 0.8)
    # Absence windows: mostly a few hours, sometimes a weekend or a holiday.
    hours = np.where(
        rng.random(len(burglary)) < 0.85,
        rng.gamma(2.0, 2.0, len(burglary)),
        rng.uniform(24, 24 * 9, len(burglary)),
    )
    b_to = b_from + pd.to_timedelta(np.round(hours * 60), unit="min")
    y_from = _times(rng, _month_date(youth["month"].to_numpy()), _YOUTH_HOURS, 2.2)

    incidents = pd.concat(
        [
            pd.DataFrame(
                {
                    "x": burglary["x"],
                    "y": burglary["y"],
                    "occurred_from": b_from,
                    "occurred_to": b_to,
                    "category": "woninginbraak",
                    "subtype": np.where(rng.random(len(burglary)) < 0.35, "poging", "voltooid"),
                }
            ),
            pd.DataFrame(
                {
                    "x": youth["x"],
                    "y": youth["y"],
                    "occurred_from": y_from,
                    "occurred_to": pd.NaT,
                    "category": "jeugdoverlast",
                    "subtype": None,
                }
            ),
        ],
        ignore_index=True,
    )
    planted = _plant(_plant_rng(seed), wijken_rd, burglary, b_from, first, last)
    # Den Haag near repeats: rows moved within their buurt-month (counts unchanged).
    moved = planted.moved_rows
    shift_by = planted.moved_from.to_numpy() - incidents.loc[moved, "occurred_from"].to_numpy()
    incidents.loc[moved, "x"] = planted.moved_x
    incidents.loc[moved, "y"] = planted.moved_y
    incidents.loc[moved, "occurred_from"] = planted.moved_from.to_numpy()
    incidents.loc[moved, "occurred_to"] = incidents.loc[moved, "occurred_to"].to_numpy() + shift_by
    incidents = pd.concat([incidents, *planted.extra], ignore_index=True)
    # Keep only the period (the absence window may not reach into the future).
    cutoff = _month_date(np.asarray([last + 1], dtype=np.int64))[0]
    incidents = incidents[incidents["occurred_from"] < cutoff].copy()
    incidents["occurred_to"] = incidents["occurred_to"].where(
        incidents["occurred_to"] < cutoff, cutoff - pd.Timedelta(minutes=1)
    )
    incidents = incidents.sort_values(["occurred_from", "category"], kind="stable").reset_index(
        drop=True
    )
    incidents.insert(0, "incident_id", [f"DEMO-{i:07d}" for i in range(len(incidents))])
    incidents["x"] = incidents["x"].round(1)
    incidents["y"] = incidents["y"].round(1)
    return DemoData(
        incidents=incidents,
        areas=areas,
        cameras=_cameras(rng, wijken_rd, youth, last),
        first_month=_month_date(np.asarray([first], dtype=np.int64))[0].date(),
        last_month=last_d,
        year_shift=shift,
        notes=(
            "Incident points, times, jeugdoverlast, Westland, cameras and dwellings are synthetic.",
            f"Den Haag woninginbraak counts per buurt and month are real (2011-2017), "
            f"shifted +{shift} years.",
            "Planted (synthetic): an intensifying and a fading jeugdoverlast spot in Den Haag, "
            "near-repeat burglary chains in Westland and Den Haag.",
        ),
        planted=planted.summary,
    )


@dataclass(frozen=True)
class _Planted:
    """The planted patterns: rows to move (Den Haag near repeats) and rows to add."""

    moved_rows: npt.NDArray[np.int64]
    moved_x: npt.NDArray[np.float64]
    moved_y: npt.NDArray[np.float64]
    moved_from: pd.Series
    extra: tuple[pd.DataFrame, ...]
    summary: dict[str, object]


def _plant(
    rng: np.random.Generator,
    wijken_rd: gpd.GeoDataFrame,
    burglary: pd.DataFrame,
    b_from: pd.DatetimeIndex,
    first: int,
    last: int,
) -> _Planted:
    """Draw every planted pattern from ``rng`` (see the module docstring)."""
    polygons = wijken_rd.geometry.to_numpy()
    youth = _planted_youth(rng, wijken_rd, first, last)
    y_from = _times(rng, _month_date(youth["month"].to_numpy()), _YOUTH_HOURS, 2.2)
    youth_rows = pd.DataFrame(
        {
            "x": youth["x"],
            "y": youth["y"],
            "occurred_from": y_from,
            "occurred_to": pd.NaT,
            "category": "jeugdoverlast",
            "subtype": None,
        }
    )
    follow = _westland_followers(rng, burglary, b_from, polygons)
    hours = rng.gamma(2.0, 2.0, len(follow))
    follow_rows = pd.DataFrame(
        {
            "x": follow["x"],
            "y": follow["y"],
            "occurred_from": follow["occurred_from"],
            "occurred_to": follow["occurred_from"]
            + pd.to_timedelta(np.round(hours * 60), unit="min"),
            "category": "woninginbraak",
            "subtype": np.where(rng.random(len(follow)) < 0.35, "poging", "voltooid"),
        }
    )
    moved, mx, my, m_from = _den_haag_chains(rng, burglary, b_from, polygons)
    return _Planted(
        moved_rows=moved,
        moved_x=mx,
        moved_y=my,
        moved_from=m_from,
        extra=(youth_rows, follow_rows),
        summary={
            "jeugdoverlast_spots": {
                name: {
                    "wijk": PLANTED_WIJKEN[name],
                    "per_month_by_months_before_end": PLANT_PROFILES[name],
                }
                for name in PLANTED_WIJKEN
            },
            "jeugdoverlast_planted": len(youth_rows),
            "westland_near_repeat_followers": len(follow_rows),
            "den_haag_near_repeats_moved": len(moved),
        },
    )


def demo_as_of(as_of: date | None = None, end_month: date | None = None) -> date:
    """Return the demo's clock: ``as_of``, else the day after ``end_month``, else today.

    Examples
    --------
    >>> demo_as_of(end_month=date(2026, 10, 1))
    datetime.date(2026, 11, 1)
    >>> demo_as_of(date(2028, 2, 29))
    datetime.date(2028, 2, 29)
    """
    if as_of is not None:
        return as_of
    if end_month is not None:
        return (pd.Timestamp(end_month) + pd.offsets.MonthBegin(1)).date()
    return date.today()


def build_demo(
    store: Store,
    *,
    seed: int = 20261122,
    as_of: date | None = None,
    end_month: date | None = None,
    progress: bool = True,
) -> DemoSummary:
    """Build the demo database through the normal ingestion path (idempotent).

    Areas come first, so ingestion assigns municipality, wijk and buurt to every point.

    Parameters
    ----------
    store
        The store to fill.
    seed
        Seed of the synthetic data.
    as_of
        The demo's "today" (default: today). Recorded as ``meta.demo_as_of``: the store's
        clock (:meth:`Store.today`) from then on, so pages built on the demo read the same
        on any later day.
    end_month
        Last month of data instead of the month before ``as_of`` (then ``as_of`` defaults to
        the first day after it).
    progress
        Show a progress bar.

    Raises
    ------
    StaleDemoError
        The store already holds a demo of another last month (building into it would mix two
        data sets); use a new file.
    """
    from time import perf_counter

    from geo_service.ingest import import_areas, import_cameras, ingest_frame

    t0 = perf_counter()
    clock = demo_as_of(as_of, end_month)
    data = generate_demo(seed=seed, as_of=clock, end_month=end_month)
    held = store.meta("demo_last_month")
    if held is not None and held != data.last_month.isoformat():
        raise StaleDemoError(
            f"the store holds the demo up to {held[:7]}, not {data.last_month.isoformat()[:7]}; "
            "use a new --db file (or `geo-service demo --refresh`) / de database bevat de demo "
            f"t/m {held[:7]}; gebruik een nieuw bestand of --refresh"
        )
    if store.count_incidents() == 0:
        # The demo's record keys (the viewer disclosure control) are reproducible from its
        # seed, so that the demo shows the same published values on every machine and every
        # build; a store of real data keeps the random secret made with its schema.
        store.set_meta("record_key_secret", hashlib.sha256(f"demo-{seed}".encode()).hexdigest())
    steps = tqdm(total=4, desc="demo", disable=not progress, unit="stap")
    steps.update()
    n_areas = 0
    for level in ("gemeente", "wijk", "buurt"):
        gdf = data.areas[level]
        n_areas += import_areas(
            store,
            gdf,
            level=level,
            code_field="code",
            name_field="name",
            dwellings_field="dwellings",
            municipality_field="municipality",
            dwellings_estimated=bool(gdf["dwellings_estimated"].any()),
            source_note=DEMO_SOURCE,
        )
    from geo_service.demo.areas import import_demo_areas  # targeting: synthetic verzorgingsgeb.

    n_areas += import_demo_areas(store, data.areas["wijk"])  # targeting (geo_service/demo/areas)
    steps.update()
    n_cams = sum(
        import_cameras(
            store,
            gdf,
            kind=kind,
            id_field="camera_id",
            name_field="name",
            source_note=DEMO_SOURCE + " (synthetische locaties)",
        )
        for kind, gdf in data.cameras.items()
    )
    steps.update()
    # Two batches: the police registrations, and the meldingen (jeugdoverlast is reported to
    # the municipality, not a crime) whose category is recorded as kind "melding".
    youth = (data.incidents["category"] == "jeugdoverlast").to_numpy()
    reports = [
        ingest_frame(
            store,
            data.incidents.loc[mask].reset_index(drop=True),
            file_name=f"demo-seed{seed}{suffix}",
            crs=RD_NEW,
            kind=kind,
            actor="demo",
            today=max(clock, (data.last_month + pd.offsets.MonthEnd(0)).date()),
        )
        for mask, suffix, kind in ((~youth, "", "politie"), (youth, "-meldingen", "melding"))
        if mask.any()
    ]
    with store.transaction():
        store.set_meta("demo_as_of", clock.isoformat())
        store.set_meta("demo_first_month", data.first_month.isoformat())
        store.set_meta("demo_last_month", data.last_month.isoformat())
        store.set_meta("demo_seed", str(seed))
    steps.update()
    steps.close()
    return DemoSummary(
        incidents_in=sum(r.rows_in for r in reports),
        incidents_stored=sum(r.stored for r in reports),
        quarantined=sum(r.quarantined for r in reports),
        areas=n_areas,
        cameras=n_cams,
        first_month=data.first_month.isoformat(),
        last_month=data.last_month.isoformat(),
        as_of=clock.isoformat(),
        year_shift=data.year_shift,
        seconds=round(perf_counter() - t0, 2),
    )
