"""Demo areas for targeting: police *verzorgingsgebieden* as unions of wijken. SYNTHETIC.

The Driehoek reads burglary priorities per police *verzorgingsgebied* (the area a basisteam
serves). Their real boundaries are not public in a usable form, so the demo makes
look-alikes: the wijken of each municipality grouped by Ward's hierarchical clustering of
their centroids (RD New) into compact groups -- six in Den Haag, two in Westland -- each
the union of its wijken, with the sum of their (estimated) dwellings. Names and codes say
they are synthetic (``VG051801``, "Schildersbuurt e.o. (synthetisch)").

Kept apart from :mod:`geo_service.demo.dataset` so that the demo's incident generator and these
areas
can change independently; :func:`geo_service.demo.dataset.build_demo` calls
:func:`import_demo_areas` once.
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.cluster.hierarchy import fcluster, linkage

from geo_service.store import Store
from spatial.grid.crs import RD_NEW, WGS84

#: Number of synthetic verzorgingsgebieden per municipality (others: one per 8 wijken).
GROUPS: Final = {"GM0518": 6, "GM1783": 2}
SOURCE: Final = (
    "demo: SYNTHETISCHE verzorgingsgebieden (wijken gegroepeerd op ligging; geen echte "
    "politiegrenzen)"
)


def verzorgingsgebieden(wijken: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Group wijken into synthetic verzorgingsgebieden (union of polygons, sum of dwellings).

    Parameters
    ----------
    wijken
        Wijken with ``code``, ``name``, ``municipality``, ``dwellings`` and a geometry.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code, name, municipality, dwellings, dwellings_estimated, wijken`` (the wijk codes,
        comma-separated) and the union geometry, EPSG:4326; deterministic for given wijken.
    """
    rd = wijken.to_crs(RD_NEW).reset_index(drop=True)
    rows = []
    for muni, group in rd.groupby("municipality", sort=True):  # two municipalities
        xy = shapely.get_coordinates(shapely.centroid(group.geometry.to_numpy()))
        k = GROUPS.get(str(muni), max(1, round(len(group) / 8)))
        labels = (
            fcluster(linkage(xy, method="ward"), t=k, criterion="maxclust")
            if len(group) > k
            else np.arange(1, len(group) + 1)
        )
        # Number groups west to east, so codes are stable and readable on a map.
        order = pd.Series(xy[:, 0]).groupby(labels).mean().sort_values().index
        for n, label in enumerate(order, start=1):
            members = group[labels == label]
            largest = members.loc[members["dwellings"].fillna(0).idxmax(), "name"]
            rows.append(
                {
                    "code": f"VG{str(muni)[2:]}{n:02d}",
                    "name": f"{largest} e.o. (synthetisch)",
                    "municipality": str(muni),
                    "dwellings": float(members["dwellings"].sum(min_count=1)),
                    "dwellings_estimated": True,
                    "wijken": ",".join(members["code"].astype(str)),
                    "geometry": shapely.union_all(members.geometry.to_numpy(), grid_size=0.01),
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=RD_NEW).to_crs(WGS84)


def import_demo_areas(store: Store, wijken: gpd.GeoDataFrame) -> int:
    """Import the synthetic verzorgingsgebieden of the demo's wijken; returns the number."""
    from geo_service.ingest import import_areas

    return import_areas(
        store,
        verzorgingsgebieden(wijken),
        level="verzorgingsgebied",
        code_field="code",
        name_field="name",
        dwellings_field="dwellings",
        municipality_field="municipality",
        dwellings_estimated=True,
        source_note=SOURCE,
    )


#: Den Haag's eight stadsdelen by the CBS wijk codes (2018) of their wijken; the grouping of
#: the municipality (the same grouping orders the wijken in
#: ``data/nl/wijken_denhaag_westland_2018.geojson``). The stadsdelen are not stored as polygons:
#: a report reads them as these unions of wijken, "afgeleid uit de wijkcodes".
DEN_HAAG_STADSDELEN: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "SD051801": ("Loosduinen", ("14", "15", "16", "17", "18")),
    "SD051802": ("Escamp", ("31", "32", "33", "34", "35", "36", "40")),
    "SD051803": ("Segbroek", ("12", "13", "19", "20", "21")),
    "SD051804": ("Scheveningen", ("01", "02", "03", "06", "07", "08", "09", "10", "11")),
    "SD051805": ("Centrum", ("05", "22", "23", "27", "28", "29", "30", "37")),
    "SD051806": ("Laak", ("38", "39")),
    "SD051807": ("Haagse Hout", ("04", "24", "25", "26")),
    "SD051808": ("Leidschenveen-Ypenburg", ("41", "42", "43", "44")),
}
STADSDEEL_SOURCE: Final = "stadsdelen afgeleid uit de wijkcodes (indeling gemeente Den Haag)"


def stadsdeel_of_wijk(municipality: str) -> dict[str, tuple[str, str]]:
    """Map each wijk code to its ``(stadsdeel code, name)``; empty for other municipalities.

    Examples
    --------
    >>> stadsdeel_of_wijk("GM0518")["WK051828"]
    ('SD051805', 'Centrum')
    >>> len(set(stadsdeel_of_wijk("GM0518").values())), stadsdeel_of_wijk("GM1783")
    (8, {})
    """
    if municipality != "GM0518":
        return {}
    return {
        f"WK0518{w}": (code, name)
        for code, (name, wijken) in DEN_HAAG_STADSDELEN.items()
        for w in wijken
    }
