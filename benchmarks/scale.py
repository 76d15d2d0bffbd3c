"""Scale: a synthetic national store of 10 million incidents, and one city's query on it.

Builds, through the store's own ``write_batch`` (what ``geo-service ingest`` calls for a
frame), in batches of ``--batch`` rows:

1. a **national store** of ``--rows`` synthetic incidents over ten years (2016-2025), all of
   the Netherlands (EPSG:28992, inside a coarse hand-drawn outline of the land): most of them
   in city clusters weighted by population (27 real cities at approximate positions and
   populations, the largest split into neighbourhood sub-clusters, plus ``--towns``
   synthetic towns with made-up codes ``GM9xxx`` and log-uniform populations), Gaussian
   spreads of 0.5-3 km, and a thin uniform rural background (``--background``, labelled with
   the nearest cluster's municipality). Categories woninginbraak, fietsendiefstal and
   jeugdoverlast. Everything is generated vectorised with numpy, one batch at a time;
2. a **city store** holding only Den Haag's (GM0518) incidents: the same rows, filtered
   batch by batch.

Then it times, median of ``--repeat`` runs each (the study-grid memo cleared before each):

* the **ingest rate**: rows/s of each national batch, median over batches;
* the **city query**: Den Haag, one year (2024), woninginbraak, res 10 Gi*
  (``compute_hotspots``, ``--permutations``) on the national store vs on the city store, and
  their ratio (the issue asks <= 1.5: the national store must prune by area and period, not
  scan);
* the **national query** (``--national``, one run): all woninginbraak of 2024, res 9 Gi*
  without a cell cap, timed before Den Haag's wijken are imported, so its study area is the
  footprint of all stored incidents (the service's rule when no areas are stored).

Both stores get Den Haag's 44 CBS wijken (2018, in ``data/nl``), so the city query's study
area is the municipality's polygon on both, as in the service.

The data are synthetic (no real incident is in them); only the city positions and
populations are roughly real. Usage:
``nice .venv/bin/python benchmarks/scale.py [--rows 10000000] [--batch 1000000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_engines import write

from geo_service.analyses.hotspots import HotspotParams, compute_hotspots
from geo_service.filters import IncidentFilter
from geo_service.ingest.areas import import_areas
from geo_service.store import Store
from geo_service.store.core import Memo
from spatial.grid.crs import RD_NEW, WGS84, transform

#: The city of the city query.
CITY = "GM0518"

#: Den Haag's 44 wijken (CBS 2018, in the repository): both stores hold them, so the city
#: query's study area is the municipality's polygon, as in the service.
CITY_WIJKEN = (
    Path(__file__).resolve().parents[1] / "data" / "nl" / "wijken_denhaag_westland_2018.geojson"
)

#: A coarse outline of the Dutch land (RD New, metres), clockwise from Cadzand; the
#: IJsselmeer and the Wadden are not cut out. Only so that synthetic towns fall on land.
NL_OUTLINE = (
    (13_000, 375_000),
    (30_000, 388_000),
    (60_000, 430_000),
    (67_000, 445_000),
    (80_000, 462_000),
    (99_000, 497_000),
    (108_000, 530_000),
    (113_000, 553_000),
    (140_000, 560_000),
    (157_000, 576_000),
    (185_000, 595_000),
    (208_000, 603_000),
    (249_000, 608_000),
    (262_000, 595_000),
    (275_000, 573_000),
    (266_000, 540_000),
    (254_000, 526_000),
    (265_000, 490_000),
    (262_000, 473_000),
    (243_000, 440_000),
    (213_000, 432_000),
    (192_000, 425_000),
    (191_000, 410_000),
    (212_000, 378_000),
    (200_000, 355_000),
    (196_000, 320_000),
    (197_000, 308_000),
    (175_000, 312_000),
    (182_000, 345_000),
    (170_000, 360_000),
    (160_000, 375_000),
    (120_000, 385_000),
    (80_000, 380_000),
    (48_000, 370_000),
)

#: Real cities: CBS code, approximate centre (RD New) and inhabitants (rounded, ~2023).
CITIES: tuple[tuple[str, float, float, int], ...] = (
    ("GM0363", 121_500, 487_000, 920_000),  # Amsterdam
    ("GM0599", 92_500, 437_500, 660_000),  # Rotterdam
    ("GM0518", 81_000, 455_000, 560_000),  # Den Haag
    ("GM0344", 136_000, 456_000, 370_000),  # Utrecht
    ("GM0772", 161_000, 383_000, 240_000),  # Eindhoven
    ("GM0014", 233_500, 582_000, 240_000),  # Groningen
    ("GM0855", 133_000, 397_500, 225_000),  # Tilburg
    ("GM0034", 142_000, 486_000, 220_000),  # Almere
    ("GM0758", 112_500, 400_000, 185_000),  # Breda
    ("GM0268", 187_500, 428_500, 180_000),  # Nijmegen
    ("GM0200", 194_500, 469_000, 165_000),  # Apeldoorn
    ("GM0392", 104_000, 488_500, 165_000),  # Haarlem
    ("GM0202", 190_500, 444_000, 165_000),  # Arnhem
    ("GM0153", 258_000, 471_500, 160_000),  # Enschede
    ("GM0307", 155_000, 463_000, 160_000),  # Amersfoort
    ("GM0479", 116_000, 496_000, 160_000),  # Zaanstad
    ("GM0796", 149_500, 411_000, 160_000),  # 's-Hertogenbosch
    ("GM0193", 203_000, 502_500, 130_000),  # Zwolle
    ("GM0637", 93_500, 451_500, 125_000),  # Zoetermeer
    ("GM0546", 93_500, 464_000, 125_000),  # Leiden
    ("GM0080", 182_500, 579_500, 125_000),  # Leeuwarden
    ("GM0935", 176_500, 318_000, 120_000),  # Maastricht
    ("GM0505", 105_500, 424_500, 120_000),  # Dordrecht
    ("GM1783", 75_000, 445_000, 112_000),  # Westland
    ("GM0503", 85_000, 447_000, 105_000),  # Delft
    ("GM1916", 86_500, 456_500, 77_000),  # Leidschendam-Voorburg
    ("GM0603", 83_000, 451_000, 57_000),  # Rijswijk
)

#: Inhabitants of the Netherlands (~2023); the synthetic towns hold what the cities do not.
INHABITANTS = 17_900_000

#: Inhabitants per neighbourhood sub-cluster of a large city.
PER_SUBCLUSTER = 40_000

CATEGORIES = ("woninginbraak", "fietsendiefstal", "jeugdoverlast")
CATEGORY_SHARES = (0.5, 0.3, 0.2)
FIRST_DAY = pd.Timestamp("2016-01-01")
YEARS = 10


@dataclass(frozen=True)
class Clusters:
    """The Gaussian clusters incidents are drawn from.

    Attributes
    ----------
    x, y
        Cluster centres (RD New, m).
    sigma
        Standard deviation of each cluster (m), 500-3,000.
    weight
        Probability of each cluster (sums to 1): the inhabitants it stands for.
    municipality
        The municipality code of each cluster.
    """

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    sigma: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]
    municipality: npt.NDArray[np.str_]


def outline() -> shapely.Polygon:
    """Return :data:`NL_OUTLINE` as a polygon."""
    return shapely.Polygon(NL_OUTLINE)


def _uniform_on_land(
    rng: np.random.Generator, n: int, land: shapely.Polygon
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Draw ``n`` points uniformly inside ``land`` (rejection from its bounding box)."""
    x0, y0, x1, y1 = land.bounds
    xs: list[npt.NDArray[np.float64]] = []
    ys: list[npt.NDArray[np.float64]] = []
    got = 0
    while got < n:
        cx = rng.uniform(x0, x1, 2 * (n - got) + 16)
        cy = rng.uniform(y0, y1, cx.size)
        inside = shapely.contains_xy(land, cx, cy)
        xs.append(cx[inside])
        ys.append(cy[inside])
        got += int(inside.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def clusters(towns: int = 300, seed: int = 20) -> Clusters:
    """Return the clusters: the real cities (large ones split into sub-clusters) and towns.

    A city of ``p`` inhabitants becomes ``max(1, p // 40,000)`` sub-clusters around its centre
    (offsets N(0, 0.6 km * sqrt(k))), each of spread 0.5-1.5 km; a town one cluster of spread
    ``clip(0.5 km * sqrt(p / 20,000), 0.5, 3) km``. Weights are proportional to inhabitants.
    """
    rng = np.random.default_rng(seed)
    land = outline()
    xs, ys, sig, wts, munis = [], [], [], [], []
    for code, cx, cy, pop in CITIES:
        k = max(1, pop // PER_SUBCLUSTER)
        spread = 600.0 * np.sqrt(k) if k > 1 else 0.0
        xs.append(cx + rng.normal(0, spread, k) if k > 1 else np.array([cx]))
        ys.append(cy + rng.normal(0, spread, k) if k > 1 else np.array([cy]))
        sig.append(rng.uniform(500, 1_500, k))
        wts.append(np.full(k, pop / k))
        munis.append(np.full(k, code))
    rest = INHABITANTS - sum(c[3] for c in CITIES)
    pops = np.exp(rng.uniform(np.log(5_000), np.log(100_000), towns))
    pops *= rest / pops.sum()
    tx, ty = _uniform_on_land(rng, towns, land)
    xs.append(tx)
    ys.append(ty)
    sig.append(np.clip(500.0 * np.sqrt(pops / 20_000), 500.0, 3_000.0))
    wts.append(pops)
    munis.append(np.array([f"GM{9000 + i:04d}" for i in range(towns)]))
    weight = np.concatenate(wts)
    return Clusters(
        x=np.concatenate(xs).astype(np.float64),
        y=np.concatenate(ys).astype(np.float64),
        sigma=np.concatenate(sig),
        weight=weight / weight.sum(),
        municipality=np.concatenate(munis),
    )


def national_frame(
    rows: int, start: int, cl: Clusters, *, background: float = 0.08, seed: int = 1
) -> pd.DataFrame:
    """Return ``rows`` synthetic incidents (ids ``N<start>`` on) in the store's columns.

    A share ``background`` is uniform on the land, the rest drawn from the clusters by weight.
    Every incident gets the municipality of its cluster, a background one that of the nearest
    cluster centre. Times are uniform over the ten years, to the minute.
    """
    rng = np.random.default_rng(seed + start)
    n_bg = int(rng.binomial(rows, background))
    n_cl = rows - n_bg
    which = rng.choice(cl.weight.size, n_cl, p=cl.weight)
    x = np.empty(rows)
    y = np.empty(rows)
    x[:n_cl] = cl.x[which] + rng.normal(0.0, 1.0, n_cl) * cl.sigma[which]
    y[:n_cl] = cl.y[which] + rng.normal(0.0, 1.0, n_cl) * cl.sigma[which]
    x[n_cl:], y[n_cl:] = _uniform_on_land(rng, n_bg, outline())
    muni_idx = np.empty(rows, dtype=np.int64)
    muni_idx[:n_cl] = which
    muni_idx[n_cl:] = cKDTree(np.column_stack([cl.x, cl.y])).query(
        np.column_stack([x[n_cl:], y[n_cl:]])
    )[1]
    lon, lat = transform(x, y, RD_NEW, WGS84)
    minutes = rng.integers(0, YEARS * 365 * 24 * 60, rows)
    ids = pd.Series(np.arange(start, start + rows)).astype(str)
    return pd.DataFrame(
        {
            "incident_id": ("N" + ids).to_numpy(),
            "category": np.asarray(CATEGORIES)[
                rng.choice(len(CATEGORIES), rows, p=CATEGORY_SHARES)
            ],
            "subtype": None,
            "occurred_from": FIRST_DAY + pd.to_timedelta(minutes, unit="min"),
            "occurred_to": pd.NaT,
            "reported_at": pd.NaT,
            "lon": lon,
            "lat": lat,
            "x": x,
            "y": y,
            "metric_crs": "EPSG:28992",
            "tz": "Europe/Amsterdam",
            "municipality": cl.municipality[muni_idx],
            "wijk_code": None,
            "buurt_code": None,
        }
    )


def city_params(permutations: int) -> HotspotParams:
    """Return the city query: Den Haag, woninginbraak, 2024, res 10 Gi*."""
    return HotspotParams(
        incidents=IncidentFilter(
            category="woninginbraak",
            municipality=CITY,
            start=date(2024, 1, 1),
            end=date(2024, 12, 31),
        ),
        res=10,
        permutations=permutations,
    )


def national_params(permutations: int) -> HotspotParams:
    """Return the national query: all woninginbraak of 2024, res 9 Gi*, no cell cap."""
    return HotspotParams(
        incidents=IncidentFilter(
            category="woninginbraak", start=date(2024, 1, 1), end=date(2024, 12, 31)
        ),
        res=9,
        permutations=permutations,
        max_cells=None,
    )


def timed_layer(store: Store, params: HotspotParams) -> tuple[float, int]:
    """Compute one hotspot layer afresh (memo cleared); return seconds and its cell count."""
    store.memo = Memo()  # the study grid is memoised per data version: count the reads
    t0 = time.perf_counter()
    layer = compute_hotspots(store, params)
    return time.perf_counter() - t0, layer.grid.n


def import_city_areas(*stores: Store) -> None:
    """Import Den Haag's wijken (:data:`CITY_WIJKEN`) into each store."""
    wijken = gpd.read_file(CITY_WIJKEN)
    for store in stores:
        import_areas(
            store,
            wijken[wijken["gm_code"] == CITY],
            level="wijk",
            code_field="wijk_code",
            name_field="wijk_name",
            municipality_field="gm_code",
            source_note="CBS wijken 2018",
        )


def build(
    national: Store, city: Store, rows: int, batch: int, cl: Clusters, background: float
) -> tuple[list[float], int]:
    """Write ``rows`` incidents into ``national`` and their Den Haag rows into ``city``.

    Returns the national batches' rates (rows/s of ``write_batch`` alone, generation not
    counted) and the number of Den Haag rows.
    """
    rates: list[float] = []
    city_rows = 0
    for b, start in enumerate(range(0, rows, batch)):
        frame = national_frame(min(batch, rows - start), start, cl, background=background)
        t0 = time.perf_counter()
        write(national, frame, f"n{b}")
        rates.append(len(frame) / (time.perf_counter() - t0))
        own = frame[frame["municipality"] == CITY]
        write(city, own.reset_index(drop=True), f"c{b}")
        city_rows += len(own)
        print(
            f"  batch {b + 1}: {len(frame):,} rows at {rates[-1]:,.0f} rows/s "
            f"({len(own):,} of {CITY})",
            flush=True,
        )
    return rates, city_rows


def main(argv: list[str] | None = None) -> None:
    """Build both stores, time ingest and the queries, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--batch", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--permutations", type=int, default=99)
    ap.add_argument("--towns", type=int, default=300)
    ap.add_argument("--background", type=float, default=0.08)
    ap.add_argument("--national", action="store_true", help="also time the national res-9 Gi*")
    ap.add_argument("--dir", type=Path, default=None, help="folder for the stores (else a temp)")
    args = ap.parse_args(argv)
    cl = clusters(args.towns)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        national = Store.open(Path(tmp) / "national.duckdb")
        city = Store.open(Path(tmp) / "city.duckdb")
        print(
            f"== {args.rows:,} synthetic incidents, {cl.weight.size} clusters, batches of "
            f"{args.batch:,}",
            flush=True,
        )
        t0 = time.perf_counter()
        rates, city_rows = build(national, city, args.rows, args.batch, cl, args.background)
        print(f"  built both stores in {time.perf_counter() - t0:.1f} s", flush=True)
        files = national.con.execute(
            "SELECT count(*) FROM ducklake_list_files('lake', 'incidents')"
        ).fetchone()
        national_line = ""
        if args.national:  # before the areas: the study area is then the incidents' footprint
            seconds, n = timed_layer(national, national_params(args.permutations))
            national_line = (
                f"  national 2024 woninginbraak res 9 Gi* ({args.permutations} perm., one run, "
                f"footprint study area): {seconds:.1f} s, {n:,} cells"
            )
        import_city_areas(national, city)
        params = city_params(args.permutations)
        times: dict[str, list[float]] = {"national": [], "city": []}
        cells: dict[str, int] = {}
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            for name, store in (("national", national), ("city", city)):
                seconds, cells[name] = timed_layer(store, params)
                times[name].append(seconds)
        nat_t, city_t = statistics.median(times["national"]), statistics.median(times["city"])
        print(f"\nMedians of {args.repeat} (s); the 2-core machine is shared, compare ratios")
        print(
            f"  ingest (write_batch)   {statistics.median(rates):,.0f} rows/s median over "
            f"{len(rates)} batches (min {min(rates):,.0f}, max {max(rates):,.0f}); "
            f"{files[0] if files else '?'} data files"
        )
        print(
            f"  city query {CITY} 2024 res 10 Gi* ({args.permutations} perm.): "
            f"{args.rows:,}-row store {nat_t * 1e3:,.0f} ms ({cells['national']:,} cells), "
            f"{city_rows:,}-row {CITY} store {city_t * 1e3:,.0f} ms ({cells['city']:,} cells)"
        )
        print(f"  ratio national/city: x{nat_t / city_t:.2f} (target <= 1.5)", flush=True)
        if national_line:
            print(national_line)
        national.close()
        city.close()


if __name__ == "__main__":
    main()
