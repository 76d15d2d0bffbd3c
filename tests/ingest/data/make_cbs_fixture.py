"""Write two tiny CBS wijk- en buurtkaarten (made up), one per layout CBS has used.

``cbs_wijkenbuurten_fixture.gpkg``: the layout of CBS's "Wijk- en buurtkaart" with the
"Kerncijfers wijken en buurten" up to 2021 (upper-case fields: ``BU_CODE``, ``WONINGEN``,
``AANT_INW``), RD New (EPSG:28992), three layers. ``cbs_wijkenbuurten_2023_fixture.gpkg``: the
same areas and values in the layout from 2022 on (lower-case descriptive fields: ``buurtcode``,
``woningvoorraad``, ``aantal_inwoners``; layers ``buurten``, ``wijken``, ``gemeenten``). The
gemeente GM9999 "Proefstad" is fictional: 2 wijken of 2 buurten each, squares of 500 m near Den
Haag's RD coordinates. Special codes as CBS writes them: -99997 (secret: too few inhabitants)
and -99999997 (secret, the wider fields of later years).

Run from the repository root: ``python tests/ingest/data/make_cbs_fixture.py``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

OUT = Path(__file__).with_name("cbs_wijkenbuurten_fixture.gpkg")
OUT_2023 = Path(__file__).with_name("cbs_wijkenbuurten_2023_fixture.gpkg")
#: Upper-case field (up to 2021) -> lower-case field (from 2022).
RENAME_2022 = {
    "BU_CODE": "buurtcode",
    "BU_NAAM": "buurtnaam",
    "WK_CODE": "wijkcode",
    "WK_NAAM": "wijknaam",
    "GM_CODE": "gemeentecode",
    "GM_NAAM": "gemeentenaam",
    "WATER": "water",
    "AANT_INW": "aantal_inwoners",
    "WONINGEN": "woningvoorraad",
}
X0, Y0, S = 80_000.0, 454_000.0, 500.0


def main() -> None:
    """Write the three layers (buurten, wijken, gemeenten)."""
    buurten = gpd.GeoDataFrame(
        {
            "BU_CODE": ["BU99990101", "BU99990102", "BU99990201", "BU99990202"],
            "BU_NAAM": ["Oude Haven", "Molenwijk", "Klein Duin", "Polderrand"],
            "WK_CODE": ["WK999901", "WK999901", "WK999902", "WK999902"],
            "WK_NAAM": ["Centrum", "Centrum", "Duinzijde", "Duinzijde"],
            "GM_CODE": ["GM9999"] * 4,
            "GM_NAAM": ["Proefstad"] * 4,
            "WATER": ["NEE"] * 4,
            "AANT_INW": [2510, 15, -99999997, 905],
            "WONINGEN": [1205, -99997, 810, -99997],
        },
        geometry=[
            box(X0, Y0, X0 + S, Y0 + S),
            box(X0 + S, Y0, X0 + 2 * S, Y0 + S),
            box(X0, Y0 + S, X0 + S, Y0 + 2 * S),
            box(X0 + S, Y0 + S, X0 + 2 * S, Y0 + 2 * S),
        ],
        crs="EPSG:28992",
    )
    wijken = gpd.GeoDataFrame(
        {
            "WK_CODE": ["WK999901", "WK999902"],
            "WK_NAAM": ["Centrum", "Duinzijde"],
            "GM_CODE": ["GM9999"] * 2,
            "GM_NAAM": ["Proefstad"] * 2,
            "AANT_INW": [2525, 1120],
            "WONINGEN": [1213, -99997],
        },
        geometry=[box(X0, Y0, X0 + 2 * S, Y0 + S), box(X0, Y0 + S, X0 + 2 * S, Y0 + 2 * S)],
        crs="EPSG:28992",
    )
    gemeenten = gpd.GeoDataFrame(
        {
            "GM_CODE": ["GM9999"],
            "GM_NAAM": ["Proefstad"],
            "AANT_INW": [3645],
            "WONINGEN": [1842],
        },
        geometry=[box(X0, Y0, X0 + 2 * S, Y0 + 2 * S)],
        crs="EPSG:28992",
    )
    OUT.unlink(missing_ok=True)
    buurten.to_file(OUT, layer="buurt_2021", driver="GPKG")
    wijken.to_file(OUT, layer="wijk_2021", driver="GPKG")
    gemeenten.to_file(OUT, layer="gemeente_2021", driver="GPKG")
    OUT_2023.unlink(missing_ok=True)
    # From 2022 on the gemeente layer comes first in CBS's file; the import must not care.
    gemeenten.rename(columns=RENAME_2022).to_file(OUT_2023, layer="gemeenten", driver="GPKG")
    wijken.rename(columns=RENAME_2022).to_file(OUT_2023, layer="wijken", driver="GPKG")
    buurten.rename(columns=RENAME_2022).to_file(OUT_2023, layer="buurten", driver="GPKG")


if __name__ == "__main__":
    main()
