"""IHA proposals against greedy disjoint discs of the same areas: incident density, in one run.

Issue 21: on a hidden real case the IHA proposals held 0.95x the incident density of greedy
disjoint discs of the same area; an optimiser of walkable contiguous areas should reach
>= 1.0x. For each case this script

1. computes the proposals (``compute_iha``, defaults: 10 areas of 0.2-1.5 km2, res 10) with
   the shape refinement on (``refine=True``, the default) and off (the disks alone);
2. counts the incidents of the proposals' categories and window inside each proposal
   polygon (points in polygons, metric CRS);
3. builds the reference: for each proposal in turn, the disc of the same area (circle of
   radius sqrt(A / pi)) that holds the most of the same incidents, centred on an incident,
   disjoint from the discs already chosen (greedy, as a planner with a pair of compasses
   would);
4. prints incidents per km2 of both and the ratio (same total area, so the ratio of counts).

Cases: the demo (``--demo DB``; built in a temporary folder when absent) and data.police.uk
Merseyside (``../shared/data/uk``; burglary + anti-social behaviour, real street-snapped
points, no areas: the study area is the incidents' footprint).

``.venv/bin/python benchmarks/iha.py [--demo DB] [--no-uk]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo_service.analyses.iha import IHAParams, compute_iha
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from spatial.grid.crs import WGS84, metric_crs_for, transform
from spatial.targeting.priorities import points_in_areas

ROOT = Path(__file__).resolve().parents[1]
UK = ROOT.parent / "shared" / "data" / "uk" / "street_full_merseyside.csv.gz"
UK_COLUMNS = {
    "incident_id": "Crime ID",
    "lon": "Longitude",
    "lat": "Latitude",
    "occurred_from": "Month",
    "category": "Crime type",
}
UK_MAP = {"Burglary": "woninginbraak", "Anti-social behaviour": "jeugdoverlast"}


def greedy_discs(xy: np.ndarray, areas_m2: list[float]) -> list[int]:
    """Incidents in greedy disjoint discs of the given areas (in order), centred on incidents."""
    tree = cKDTree(xy)
    chosen: list[tuple[np.ndarray, float]] = []
    counts = []
    for a in areas_m2:
        r = float(np.sqrt(a / np.pi))
        n = np.asarray(tree.query_ball_point(xy, r, return_length=True), dtype=np.int64)
        ok = np.ones(len(xy), dtype=bool)
        for c, rc in chosen:  # disjoint: centres at least r + rc apart
            ok &= np.hypot(*(xy - c).T) >= r + rc
        if not ok.any():
            counts.append(0)
            continue
        best = int(np.argmax(np.where(ok, n, -1)))
        chosen.append((xy[best], r))
        counts.append(int(n[best]))
    return counts


def measure(store: Store, params: IHAParams) -> dict[str, float]:
    """Density of the proposals and of the greedy discs of the same areas."""
    t0 = time.perf_counter()
    result = compute_iha(store, params)
    seconds = time.perf_counter() - t0
    meta = result.metadata["parameters"]
    flt = params.incidents.replace(start=None, end=None)
    pts = store.incident_points(flt)
    pts = pts[pts["category"].isin(result.categories)]
    pts = pts[
        (pts["occurred_from"] >= str(meta["start"])) & (pts["occurred_from"] < str(meta["end"]))
    ]
    lon, lat = pts["lon"].to_numpy(), pts["lat"].to_numpy()
    crs = metric_crs_for([float(np.median(lon))], [float(np.median(lat))])
    x, y = transform(lon, lat, WGS84, crs)
    polys = [
        shapely.transform(p, lambda c: np.column_stack(transform(c[:, 0], c[:, 1], WGS84, crs)))
        for p in result.polygons
    ]
    owner = points_in_areas(lon, lat, np.asarray(result.polygons, dtype=object))
    ours = int((owner >= 0).sum())
    areas = [float(p.area) for p in polys]
    discs = sum(greedy_discs(np.column_stack([x, y]), areas))
    km2 = sum(areas) / 1e6
    return {
        "proposals": len(polys),
        "km2": km2,
        "ours": ours / km2,
        "discs": discs / km2,
        "ratio": ours / discs if discs else float("nan"),
        "seconds": seconds,
    }


def _uk_store(folder: Path) -> Store:
    from geo_service.ingest import ingest_file

    store = Store.open(folder / "uk.duckdb")
    ingest_file(store, UK, columns=UK_COLUMNS, category_map=UK_MAP, only_mapped=True)
    return store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--demo", type=Path, help="a demo store (default: build one)")
    ap.add_argument("--no-uk", action="store_true", help="leave out Merseyside")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases: list[tuple[str, Store, IncidentFilter]] = []
        if args.demo:
            cases.append(
                ("demo (Den Haag)", Store.open(args.demo), IncidentFilter(municipality="GM0518"))
            )
        else:
            from geo_service.demo.dataset import build_demo

            store = Store.open(Path(tmp) / "demo.duckdb")
            build_demo(store, progress=False)
            cases.append(("demo (Den Haag)", store, IncidentFilter(municipality="GM0518")))
        if not args.no_uk and UK.is_file():
            cases.append(("Merseyside (data.police.uk)", _uk_store(Path(tmp)), IncidentFilter()))
        print(
            f"{'case':30} {'shape':8} {'n':>3} {'km2':>6} {'ours/km2':>9} "
            f"{'discs/km2':>10} {'ratio':>6} {'s':>6}"
        )
        for name, store, flt in cases:
            base = IHAParams(incidents=flt)
            for label, params in (("disks", replace(base, refine=False)), ("refined", base)):
                m = measure(store, params)
                print(
                    f"{name:30} {label:8} {m['proposals']:3.0f} {m['km2']:6.2f} {m['ours']:9.1f} "
                    f"{m['discs']:10.1f} {m['ratio']:6.3f} {m['seconds']:6.1f}"
                )
            store.close()


if __name__ == "__main__":
    main()
