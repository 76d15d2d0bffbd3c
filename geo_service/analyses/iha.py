"""Adapter: proposals for integrated enforcement actions (``geo-service iha``).

Only validation, I/O and the Dutch wording happen here; the index, the action areas and the
selection are :func:`spatial.targeting.iha.propose_iha_areas`, the per-category Gi* z-scores come
from
:func:`geo_service.analyses.hotspots.compute_hotspots` (analytic Gi*, on the study area of
:func:`geo_service.analyses.hotspots.study_area`, so the analysis works on any ingested data, also
without area polygons: the study area is then the incidents' footprint).

* **Window.** ``start``/``end``, by default the 365 days up to the last stored incident of
  the categories.
* **Past actions.** Actions imported with ``geo-service iha import`` (polygons with a date)
  dated in the ``recent_months`` before the end penalise the cells they cover
  (cell by centroid).
* **Designated areas.** Cells (by centroid) in an area of level ``designated`` get the bonus.
* **Wijken.** Each proposal lists the wijken its cells lie in (by centroid), largest share
  first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely

from geo_service import __version__
from geo_service.analyses.hotspots import HotspotParams, compute_hotspots
from geo_service.analyses.targeting import (
    equity_metadata,
    geometry_json,
    incidents_text,
    kind_totals,
    nl,
    recent_window,
)
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from spatial.errors import InvalidParameterError
from spatial.grid.geometry import polygonal
from spatial.grid.h3grid import H3Grid
from spatial.targeting.iha import IHAProposals, disk_rings, propose_iha_areas
from spatial.targeting.priorities import points_in_areas

#: Categories of an IHA when none are given (those of them that are stored).
DEFAULT_CATEGORIES: Final = ("woninginbraak", "jeugdoverlast")


@dataclass(frozen=True)
class IHAParams:
    """Every parameter of a set of IHA proposals; validated on construction.

    Attributes
    ----------
    incidents
        Municipality and period; ``category`` must be empty (use ``categories``).
    categories
        Categories of the index (default: woninginbraak and jeugdoverlast where stored,
        else all stored; and every category of residents' reports, kind ``melding``: IHA's
        often follow residents' signals). Each category keeps its own counts; the index
        weighs them, no count adds meldingen to police registrations.
    weights
        One weight per category (default all 1).
    count
        Number of proposals.
    res
        H3 resolution (8-11).
    min_km2, max_km2
        Size of an action area.
    gap_m
        Least distance between two proposals.
    z_hot
        Composite index of a hot cell.
    recent_months
        Actions in the last this many months before the end are penalised.
    penalty, bonus
        Score factor for a recent action (``1 - penalty x share``) and for designated areas
        (``1 + bonus x share``).
    refine
        Reshape each chosen disk into the contiguous area of the same number of cells that
        holds more incidents and no lower index (:func:`spatial.targeting.reshape.refine_area`);
        False keeps the disks.

    Raises
    ------
    InvalidParameterError
    """

    incidents: IncidentFilter = field(default_factory=IncidentFilter)
    categories: tuple[str, ...] = ()
    weights: tuple[float, ...] | None = None
    count: int = 10
    res: int = 10
    min_km2: float = 0.2
    max_km2: float = 1.5
    gap_m: float = 250.0
    z_hot: float = 1.96
    recent_months: int = 12
    penalty: float = 0.5
    bonus: float = 0.25
    refine: bool = True

    def __post_init__(self) -> None:
        if self.incidents.category:
            raise InvalidParameterError("use categories, not incidents.category")
        if self.weights is not None and len(self.weights) != len(self.categories):
            raise InvalidParameterError(
                f"give one weight per category ({len(self.categories)}), got {self.weights!r}"
            )
        if self.weights is not None and (
            any(not np.isfinite(w) or w < 0 for w in self.weights) or sum(self.weights) <= 0
        ):
            raise InvalidParameterError(f"weights must be >= 0, not all 0, got {self.weights!r}")
        if isinstance(self.count, bool) or not 1 <= self.count <= 100:
            raise InvalidParameterError(f"count must be from 1 to 100, got {self.count!r}")
        if not 1 <= self.recent_months <= 120:
            raise InvalidParameterError(
                f"recent_months must be from 1 to 120, got {self.recent_months!r}"
            )
        if not 0 <= self.gap_m <= 5000:
            raise InvalidParameterError(f"gap_m must be from 0 to 5000, got {self.gap_m!r}")
        if not disk_rings(self.res, self.min_km2, self.max_km2):
            raise InvalidParameterError(
                f"no action area of {self.min_km2}-{self.max_km2} km2 fits H3 resolution "
                f"{self.res} / kies een andere resolutie of grootte"
            )


@dataclass(frozen=True)
class IHAResult:
    """IHA proposals with everything the GeoJSON and the pages show."""

    proposals: IHAProposals
    grid: H3Grid
    categories: list[str]
    weights: list[float]
    polygons: list[Any]
    wijken: list[list[tuple[str, str]]]
    reserve_wijken: list[tuple[str, str]]
    centres_lonlat: npt.NDArray[np.float64]
    reasons: list[str]
    metadata: dict[str, Any]


def _categories(store: Store, params: IHAParams) -> list[str]:
    cats = store.resolve_categories(params.categories, prefer=DEFAULT_CATEGORIES, every=True)
    if params.categories:
        return cats
    signals = [c for c, kind in store.category_kinds().items() if kind == "melding"]
    return cats + [c for c in signals if c not in cats]


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def _in_any(polys: npt.NDArray[np.object_], lon: npt.ArrayLike, lat: npt.ArrayLike) -> Any:
    if len(polys) == 0:
        return np.zeros(np.asarray(lon).shape, dtype=bool)
    return points_in_areas(lon, lat, polys) >= 0


def compute_iha(store: Store, params: IHAParams) -> IHAResult:
    """Propose IHA action areas from the store.

    Raises
    ------
    NotFoundError
        Unknown categories, no incidents.
    EmptyStudyAreaError, InvalidParameterError, TooManyCellsError
    """
    cats = _categories(store, params)
    kinds = store.category_kinds()
    weights = list(params.weights) if params.weights is not None else [1.0] * len(cats)
    flt = params.incidents
    start, end = recent_window(store, flt, cats)
    layers = [
        compute_hotspots(
            store,
            HotspotParams(
                incidents=flt.replace(category=c, start=start, end=end),
                res=params.res,
                permutations=0,
                max_cells=None,
            ),
        )
        for c in cats  # one Gi* per category (two or three)
    ]
    grid = layers[0].grid
    z = np.vstack([np.asarray(lay.properties["gi_z"], dtype=np.float64) for lay in layers])
    counts = np.vstack([np.asarray(lay.properties["count"], dtype=np.float64) for lay in layers])
    lon, lat = grid.centroids()
    since = _months_before(end, params.recent_months)
    past = store.iha_actions_frame(flt.municipality, since=since, until=end)
    designated = store.areas_frame(level="designated", municipality=flt.municipality)
    recent = _in_any(shapely.make_valid(past.geometry.to_numpy()), lon, lat)
    in_designated = _in_any(shapely.make_valid(designated.geometry.to_numpy()), lon, lat)
    props = propose_iha_areas(
        grid,
        z,
        counts,
        weights=weights,
        count=params.count,
        min_km2=params.min_km2,
        max_km2=params.max_km2,
        gap_m=params.gap_m,
        z_hot=params.z_hot,
        recent=recent,
        designated=in_designated,
        penalty=params.penalty,
        bonus=params.bonus,
        refine=params.refine,
    )
    hexes = grid.polygons()
    polygons = [polygonal(shapely.union_all(hexes[c], grid_size=1e-7)) for c in props.cells]
    wijken_gdf = store.areas_frame(level="wijk", municipality=flt.municipality)
    wijk_idx = points_in_areas(lon, lat, wijken_gdf.geometry.to_numpy())
    codes = wijken_gdf["code"].astype(str).to_numpy()
    names = wijken_gdf["name"].astype(str).to_numpy()

    def touched(cells: npt.NDArray[np.int64]) -> list[tuple[str, str]]:
        idx = wijk_idx[cells]
        idx = idx[idx >= 0]
        if idx.size == 0:
            return []
        uniq, n = np.unique(idx, return_counts=True)
        order = uniq[np.argsort(-n, kind="stable")]
        return [(str(codes[i]), str(names[i])) for i in order]

    wijken = [touched(c) for c in props.cells]
    effort = np.zeros(len(wijken_gdf))
    for cells in props.cells:  # ten proposals: each one unit, split by its cells' wijken
        idx = wijk_idx[cells]
        effort += np.bincount(idx[idx >= 0], minlength=len(wijken_gdf)) / max(len(cells), 1)
    cell_total = counts.sum(axis=0)
    inside = wijk_idx >= 0
    equity = equity_metadata(
        wijken_gdf,
        effort,
        np.bincount(wijk_idx[inside], weights=cell_total[inside], minlength=len(wijken_gdf)),
        ("IHA-gebied", "IHA-gebieden"),
    )
    reserve = props.reserve
    reserve_wijken = touched(np.asarray(reserve["cells"])) if reserve else []
    centres = np.column_stack([lon[props.centre], lat[props.centre]])
    reasons = [
        _reason(props, i, cats, wijken, reserve_wijken, centres, params)
        for i in range(len(props.cells))
    ]
    metadata = {
        "parameters": {
            "categories": cats,
            "weights": dict(zip(cats, weights, strict=True)),
            "count": params.count,
            "municipality": flt.municipality,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "h3_resolution": params.res,
            "min_km2": params.min_km2,
            "max_km2": params.max_km2,
            "gap_m": params.gap_m,
            "z_hot": params.z_hot,
            "recent_months": params.recent_months,
            "penalty": params.penalty,
            "bonus": params.bonus,
            "refine": params.refine,
        },
        "index": (
            "samengestelde index per zeshoek: Z = som_k w_k z_k / wortel(som_k w_k^2) "
            "(Stouffer), z_k = Gi*-z van soort k; score van een gebied = som van Z over de "
            "zeshoeken x (1 - aftrek x aandeel recente IHA) x (1 + bonus x aandeel aangewezen)"
        ),
        "n_hot_cells": int(props.hot.sum()),
        "n_candidates": props.n_candidates,
        "n_proposals": len(props.cells),
        "past_actions_considered": len(past),
        "designated_areas": len(designated),
        "reserve": None
        if reserve is None
        else {
            "score": round(float(reserve["score"]), 3),  # type: ignore[arg-type]
            "wijken": ", ".join(n for _, n in reserve_wijken),
        },
        "equity": equity,
        "study_area": layers[0].metadata.get("study_area"),
        "n_cells": grid.n,
        "time_convention": "lokale kloktijd van de plaats van het incident",
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
        "category_kinds": {c: kinds.get(c, "politie") for c in cats},
    }
    return IHAResult(
        proposals=props,
        grid=grid,
        categories=cats,
        weights=weights,
        polygons=polygons,
        wijken=wijken,
        reserve_wijken=reserve_wijken,
        centres_lonlat=centres,
        reasons=reasons,
        metadata=metadata,
    )


def _place(wijken: list[tuple[str, str]], lonlat: npt.NDArray[np.float64]) -> str:
    if wijken:
        return "rond " + wijken[0][1]
    return f"bij {nl(float(lonlat[1]), 5)} N, {nl(float(lonlat[0]), 5)} O"


def _reason(
    props: IHAProposals,
    i: int,
    cats: list[str],
    wijken: list[list[tuple[str, str]]],
    reserve_wijken: list[tuple[str, str]],
    centres: npt.NDArray[np.float64],
    params: IHAParams,
) -> str:
    """Dutch: why proposal ``i`` beat the candidate chosen after it (or the reserve)."""
    me = f"Voorstel {i + 1} ({_place(wijken[i], centres[i])}, score {nl(props.score[i], 1)})"
    if i + 1 < len(props.cells):
        other_name = f"voorstel {i + 2} ({_place(wijken[i + 1], centres[i + 1])}"
        o_score, o_counts = props.score[i + 1], props.counts[:, i + 1]
        o_contrib, o_recent = props.contribution[:, i + 1], props.recent_share[i + 1]
        o_designated = props.designated_share[i + 1]
    elif props.reserve is not None:
        res = props.reserve
        other_name = "het beste niet gekozen gebied (" + (
            "rond " + reserve_wijken[0][1] if reserve_wijken else "elders"
        )
        o_score = float(res["score"])  # type: ignore[arg-type]
        o_counts = np.asarray(res["counts"], dtype=np.float64)
        o_contrib = np.asarray(res["contribution"], dtype=np.float64)
        o_recent = float(res["recent_share"])  # type: ignore[arg-type]
        o_designated = float(res["designated_share"])  # type: ignore[arg-type]
    else:
        return me + ": er is geen ander kandidaatgebied meer dat er niet mee overlapt."
    parts = [f"{me} gaat voor {other_name}, score {nl(o_score, 1)})"]
    diff = props.contribution[:, i] - o_contrib
    k = int(np.argmax(diff))
    if diff[k] > 0:
        parts.append(
            f"vooral door meer {incidents_text(2, cats[k]).split(' ', 1)[1]}: "
            f"{nl(props.counts[k, i])} tegen {nl(o_counts[k])}"
        )
    others = [
        f"{incidents_text(2, c).split(' ', 1)[1]} {nl(props.counts[j, i])} tegen {nl(o_counts[j])}"
        for j, c in enumerate(cats)
        if j != k
    ]
    if others:
        parts.append("; ".join(others))
    if o_recent > 0:
        parts.append(
            f"in {nl(o_recent * 100)}% van het andere gebied was in de afgelopen "
            f"{params.recent_months} maanden al een IHA (aftrek)"
        )
    if props.recent_share[i] > 0:
        parts.append(
            f"ondanks een IHA in de afgelopen {params.recent_months} maanden in "
            f"{nl(props.recent_share[i] * 100)}% van dit gebied (aftrek)"
        )
    if props.designated_share[i] > o_designated:
        parts.append(f"ligt voor {nl(props.designated_share[i] * 100)}% in aangewezen gebied")
    return parts[0] + ": " + "; ".join(parts[1:]) + "." if len(parts) > 1 else parts[0] + "."


def iha_geojson(result: IHAResult) -> dict[str, Any]:
    """Return the proposals as an RFC 7946 FeatureCollection (polygons) with ``metadata``."""
    p = result.proposals
    features = []
    hex_ids = result.grid.cells
    for i, poly in enumerate(result.polygons):
        counts = {c: int(p.counts[k, i]) for k, c in enumerate(result.categories)}
        contrib = {
            c: round(float(p.contribution[k, i]), 2) for k, c in enumerate(result.categories)
        }
        features.append(
            {
                "type": "Feature",
                "id": f"IHA-{i + 1:02d}",
                "geometry": geometry_json(poly),
                "properties": {
                    "rank": i + 1,
                    "score": round(float(p.score[i]), 2),
                    "raw_score": round(float(p.raw_score[i]), 2),
                    "area_km2": round(float(p.area_km2[i]), 3),
                    "n_cells": len(p.cells[i]),
                    "rings": int(p.rings[i]),
                    "centre_h3": format(int(hex_ids[p.centre[i]]), "x"),
                    "centre_lon": round(float(result.centres_lonlat[i, 0]), 6),
                    "centre_lat": round(float(result.centres_lonlat[i, 1]), 6),
                    **{f"incidents_{c}": n for c, n in counts.items()},
                    # per kind: meldingen are never added to police registrations
                    **kind_totals(counts, result.metadata.get("category_kinds", {})),
                    **{f"contribution_{c}": v for c, v in contrib.items()},
                    "recent_iha_share": round(float(p.recent_share[i]), 3),
                    "designated_share": round(float(p.designated_share[i]), 3),
                    "wijken": ", ".join(n for _, n in result.wijken[i]),
                    "wijk_codes": ",".join(c for c, _ in result.wijken[i]),
                    "reason": result.reasons[i],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "metadata": result.metadata}
