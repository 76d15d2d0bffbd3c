"""Importing area polygons (buurt, wijk, ..., with dwellings) and camera points.

**CBS wijk- en buurtkaart.** :func:`import_cbs` reads CBS's "Wijk- en buurtkaart" with the
"Kerncijfers wijken en buurten" (GeoPackage, RD New): one layer per level, in either of the two
layouts CBS has used (:data:`CBS_LAYOUTS`): up to 2021 codes in ``BU_CODE`` / ``WK_CODE`` /
``GM_CODE``, names in ``BU_NAAM`` / ``WK_NAAM`` / ``GM_NAAM``, dwellings in ``WONINGEN`` and
inhabitants in ``AANT_INW``; from 2022 on ``buurtcode`` / ``wijkcode`` / ``gemeentecode``,
``buurtnaam`` / ``wijknaam`` / ``gemeentenaam``, ``woningvoorraad`` and ``aantal_inwoners``. CBS
codes values it may not publish (secret: too few inhabitants) or does not know as large negative
numbers, e.g. ``-99997``, ``-99999997`` and ``-99999999``. A count of dwellings or inhabitants
is never negative, so every negative value in those fields is read as unknown (NULL), in any
area file, and the import report counts them per code: they never reach a rate as negative
dwellings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely

from geo_service.errors import InputFileError, UnknownColumnError
from geo_service.store import Store
from spatial.grid.crs import WGS84

_CODE_FIELDS = ("code", "statcode", "cbscode", "wijk_code", "buurt_code", "gm_code", "id")
_NAME_FIELDS = ("name", "naam", "statnaam", "wijk_name", "buurt_name", "wijknaam", "buurtnaam")
_LEVEL_CODE = {
    "buurt": ("bu_code", "buurtcode"),
    "wijk": ("wk_code", "wijkcode"),
    "gemeente": ("gm_code", "gemeentecode"),
}
_LEVEL_NAME = {
    "buurt": ("bu_naam", "buurtnaam"),
    "wijk": ("wk_naam", "wijknaam"),
    "gemeente": ("gm_naam", "gemeentenaam"),
}
_LEVELS = ("buurt", "wijk", "stadsdeel", "verzorgingsgebied", "gemeente", "designated")


@dataclass(frozen=True)
class CbsLayout:
    """Field names of one generation of CBS's wijk- en buurtkaart (matched case-insensitively).

    Attributes
    ----------
    label
        The years it covers, as the import report names it.
    levels
        Per level: code field, name field, and the next finer level's code field. A layer is
        the level's when it has the code field and not the finer one (a buurt row also
        carries its wijk and gemeente codes).
    dwellings, inhabitants, municipality
        Fields of the dwellings, the inhabitants and the gemeente code.
    """

    label: str
    levels: Mapping[str, tuple[str, str, str | None]]
    dwellings: str
    inhabitants: str
    municipality: str


#: The layouts ``--cbs`` knows, oldest first: up to 2021 CBS wrote upper-case abbreviations
#: (``BU_CODE``, ``WONINGEN``, ``AANT_INW``); from the 2022 edition on, lower-case descriptive
#: names (``buurtcode``, ``woningvoorraad``, ``aantal_inwoners``). The special codes are the
#: same in both.
CBS_LAYOUTS: Final = (
    CbsLayout(
        label="t/m 2021",
        levels={
            "buurt": ("BU_CODE", "BU_NAAM", None),
            "wijk": ("WK_CODE", "WK_NAAM", "BU_CODE"),
            "gemeente": ("GM_CODE", "GM_NAAM", "WK_CODE"),
        },
        dwellings="WONINGEN",
        inhabitants="AANT_INW",
        municipality="GM_CODE",
    ),
    CbsLayout(
        label="vanaf 2022",
        levels={
            "buurt": ("buurtcode", "buurtnaam", None),
            "wijk": ("wijkcode", "wijknaam", "buurtcode"),
            "gemeente": ("gemeentecode", "gemeentenaam", "wijkcode"),
        },
        dwellings="woningvoorraad",
        inhabitants="aantal_inwoners",
        municipality="gemeentecode",
    ),
)
#: The CBS levels (the same in every layout).
CBS_LEVELS: Final = ("buurt", "wijk", "gemeente")


@dataclass(frozen=True)
class AreaImportReport:
    """What an area import wrote and what it read as unknown.

    Attributes
    ----------
    level
        Area level written.
    layer
        GeoPackage layer read (None: the file's only or first layer, or a frame).
    n_areas
        Areas written (upserted by ``(level, code)``).
    dropped_empty
        Rows left out for an empty or missing geometry.
    unknown_dwellings, unknown_inhabitants
        Areas whose dwellings / inhabitants are unknown after the import (missing, not a
        number, or a negative special code).
    special_codes
        Negative special codes read as unknown, ``{"WONINGEN=-99997": 2, ...}`` (field=code).
    """

    level: str
    layer: str | None
    n_areas: int
    dropped_empty: int
    unknown_dwellings: int
    unknown_inhabitants: int
    special_codes: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """Return the report as a JSON-ready dict."""
        return {
            "level": self.level,
            "layer": self.layer,
            "areas": self.n_areas,
            "dropped_empty_geometry": self.dropped_empty,
            "unknown_dwellings": self.unknown_dwellings,
            "unknown_inhabitants": self.unknown_inhabitants,
            "special_codes": dict(self.special_codes),
        }


def count_field(values: pd.Series, name: str, codes: dict[str, int]) -> npt.NDArray[np.float64]:
    """Read a count column: numbers, negative values (CBS special codes) as NaN.

    The negative values found are tallied into ``codes`` as ``"<name>=<value>"``.

    Examples
    --------
    >>> codes: dict[str, int] = {}
    >>> count_field(pd.Series([1200, -99997, None, "x", -99997]), "WONINGEN", codes).tolist()
    [1200.0, nan, nan, nan, nan]
    >>> codes
    {'WONINGEN=-99997': 2}
    """
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    negative = num < 0
    for value, n in zip(*np.unique(num[negative], return_counts=True), strict=True):
        key = f"{name}={int(value) if float(value).is_integer() else value}"
        codes[key] = codes.get(key, 0) + int(n)
    return np.where(negative, np.nan, num)


def _pick(
    gdf: pd.DataFrame, given: str | None, candidates: tuple[str, ...], what: str
) -> str | None:
    if given:
        if given not in gdf.columns:
            raise UnknownColumnError(
                f"field {given!r} ({what}) not in the file; "
                f"it has: {', '.join(map(str, gdf.columns))}"
            )
        return given
    lower = {str(c).lower(): str(c) for c in gdf.columns}
    for c in candidates:
        if c in lower:
            return lower[c]
    return None


def _read_geo(source: Path | str | gpd.GeoDataFrame, layer: str | None = None) -> gpd.GeoDataFrame:
    if isinstance(source, gpd.GeoDataFrame):
        gdf = source
    else:
        p = Path(source)
        if not p.is_file():
            raise InputFileError(f"file not found / bestand niet gevonden: {p}")
        try:
            gdf = gpd.read_file(p, layer=layer)
        except Exception as exc:
            raise InputFileError(f"cannot read {p.name}: {type(exc).__name__}: {exc}") from exc
    if gdf.crs is None:
        raise InputFileError("the file has no CRS / bestand heeft geen coördinatenstelsel")
    return gdf.to_crs(WGS84)


def import_areas(
    store: Store,
    source: Path | str | gpd.GeoDataFrame,
    *,
    level: str,
    code_field: str | None = None,
    name_field: str | None = None,
    dwellings_field: str | None = None,
    inhabitants_field: str | None = None,
    municipality: str | None = None,
    municipality_field: str | None = None,
    dwellings_estimated: bool = False,
    source_note: str | None = None,
) -> int:
    """Import area polygons (upsert by ``(level, code)``); returns the number of areas written.

    See :func:`import_areas_report` (the same import, with its report).

    Raises
    ------
    InputFileError
        Unreadable file, unknown level or fields, no code field.
    """
    return import_areas_report(
        store,
        source,
        level=level,
        code_field=code_field,
        name_field=name_field,
        dwellings_field=dwellings_field,
        inhabitants_field=inhabitants_field,
        municipality=municipality,
        municipality_field=municipality_field,
        dwellings_estimated=dwellings_estimated,
        source_note=source_note,
    ).n_areas


def import_areas_report(
    store: Store,
    source: Path | str | gpd.GeoDataFrame,
    *,
    level: str,
    code_field: str | None = None,
    name_field: str | None = None,
    dwellings_field: str | None = None,
    inhabitants_field: str | None = None,
    municipality: str | None = None,
    municipality_field: str | None = None,
    dwellings_estimated: bool = False,
    source_note: str | None = None,
    layer: str | None = None,
) -> AreaImportReport:
    """Import area polygons (upsert by ``(level, code)``) and report what was unknown.

    Fields not given are looked up by usual names (``code``/``statcode``/``bu_code``...,
    ``woningen``, ``aant_inw``...). Negative dwellings or inhabitants (CBS special codes) are
    stored as NULL and counted in the report (module notes).

    Raises
    ------
    InputFileError
        Unreadable file or layer, unknown level or fields, no code field.
    """
    if level not in _LEVELS:
        raise InputFileError(f"unknown level {level!r}; use one of {', '.join(_LEVELS)}")
    gdf = _read_geo(source, layer)
    code_col = _pick(gdf, code_field, _LEVEL_CODE.get(level, ()) + _CODE_FIELDS, "code")
    if code_col is None:
        raise UnknownColumnError(
            f"no code field found; pass --code-field (fields: {', '.join(map(str, gdf.columns))})"
        )
    name_col = _pick(gdf, name_field, _LEVEL_NAME.get(level, ()) + _NAME_FIELDS, "name")
    dw_col = _pick(
        gdf, dwellings_field, ("dwellings", "woningen", "aant_won", "woningvoorraad"), "dwellings"
    )
    inh_col = _pick(
        gdf,
        inhabitants_field,
        ("inhabitants", "aant_inw", "inwoners", "aantal_inwoners"),
        "inhabitants",
    )
    gm_col = _pick(
        gdf, municipality_field, ("municipality", "gm_code", "gemeentecode"), "municipality"
    )
    geoms = gdf.geometry.make_valid(method="structure", keep_collapsed=False)
    keep = ~(geoms.isna() | geoms.is_empty).to_numpy()
    codes: dict[str, int] = {}
    n = len(gdf)
    dwellings = count_field(gdf[dw_col], dw_col, codes) if dw_col else np.full(n, np.nan)
    inhabitants = count_field(gdf[inh_col], inh_col, codes) if inh_col else np.full(n, np.nan)
    frame = pd.DataFrame(
        {
            "code": gdf[code_col].astype(str).to_numpy(),
            "name": gdf[name_col].astype(str).to_numpy() if name_col else None,
            "level": level,
            "municipality": municipality
            if municipality
            else (gdf[gm_col].astype(str).to_numpy() if gm_col else None),
            "dwellings": dwellings,
            "dwellings_estimated": bool(dwellings_estimated),
            "inhabitants": inhabitants,
            "source": source_note
            or (str(source) if not isinstance(source, gpd.GeoDataFrame) else None),
            "wkb": shapely.to_wkb(geoms.to_numpy()),
        }
    )[keep]
    if level == "gemeente":
        # A gemeente is its own municipality.
        frame["municipality"] = frame["municipality"].fillna(frame["code"])
    written = store.upsert_areas(frame)
    return AreaImportReport(
        level=level,
        layer=layer,
        n_areas=written,
        dropped_empty=int((~keep).sum()),
        unknown_dwellings=int(np.isnan(dwellings[keep]).sum()),
        unknown_inhabitants=int(np.isnan(inhabitants[keep]).sum()),
        special_codes=codes,
    )


def cbs_scan(path: Path | str) -> dict[str, tuple[str, CbsLayout]]:
    """Find the layer of each level in a CBS wijk- en buurtkaart GeoPackage, and its layout.

    Field names are compared case-insensitively; each layer is tried against every layout of
    :data:`CBS_LAYOUTS` (a file may even mix them). The first matching layer of a level wins.

    Raises
    ------
    InputFileError
        Unreadable file, or no layer in a CBS layout.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"file not found / bestand niet gevonden: {p}")
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(p)]
        fields = {
            name: {str(f).lower() for f in pyogrio.read_info(p, layer=name)["fields"]}
            for name in names
        }
    except Exception as exc:
        raise InputFileError(f"cannot read {p.name}: {type(exc).__name__}: {exc}") from exc
    found: dict[str, tuple[str, CbsLayout]] = {}
    for layout in CBS_LAYOUTS:
        for level, (code, _, finer) in layout.levels.items():
            for name in names:
                has = fields[name]
                if code.lower() in has and (finer is None or finer.lower() not in has):
                    found.setdefault(level, (name, layout))
    if not found:
        raise InputFileError(
            f"{p.name} is not in a CBS wijk- en buurtkaart layout (no layer with BU_CODE, "
            "WK_CODE or GM_CODE, nor buurtcode, wijkcode or gemeentecode) / geen "
            "CBS-wijk- en buurtkaart"
        )
    return found


def cbs_layers(path: Path | str) -> dict[str, str]:
    """Return the layer of each level in a CBS wijk- en buurtkaart (see :func:`cbs_scan`).

    Raises
    ------
    InputFileError
        Unreadable file, or no layer in a CBS layout.
    """
    return {level: layer for level, (layer, _) in cbs_scan(path).items()}


def import_cbs(
    store: Store,
    path: Path | str,
    *,
    levels: tuple[str, ...] = ("gemeente", "wijk", "buurt"),
    municipality: str | None = None,
) -> tuple[AreaImportReport, ...]:
    """Import the buurten, wijken and gemeenten of a CBS wijk- en buurtkaart (module notes).

    Parameters
    ----------
    path
        The GeoPackage (one layer per level; the layers are found by their fields).
    levels
        Levels to import (those the file holds).
    municipality
        Import only this gemeente's areas (``GM_CODE``), e.g. ``GM0518``; None: all.

    Returns
    -------
    One report per level imported, in the order of ``levels``.

    Raises
    ------
    InputFileError
        Not a CBS layout, a level the file lacks, no area of ``municipality``.
    """
    layers = cbs_scan(path)
    unknown = [lv for lv in levels if lv not in CBS_LEVELS]
    if unknown:
        raise InputFileError(f"CBS levels are buurt, wijk and gemeente, got {', '.join(unknown)}")
    missing = [lv for lv in levels if lv not in layers]
    if missing:
        raise InputFileError(
            f"{Path(path).name} has no layer for {', '.join(missing)} / niveau ontbreekt"
        )
    reports = []
    for level in levels:
        layer, layout = layers[level]
        code, name, _ = layout.levels[level]
        gdf = _read_geo(path, layer)
        cols = {str(c).lower(): str(c) for c in gdf.columns}
        gm_field = cols.get(layout.municipality.lower())
        if municipality is not None:
            if gm_field is None:
                raise InputFileError(
                    f"{Path(path).name}, laag {layer}: geen veld {layout.municipality} om op "
                    f"gemeente {municipality} te selecteren / no municipality field"
                )
            gdf = gdf[gdf[gm_field].astype(str) == municipality]
            if gdf.empty:
                raise InputFileError(
                    f"no {level} of {municipality} in {Path(path).name} / geen gebieden van "
                    f"{municipality}"
                )
        report = import_areas_report(
            store,
            gdf,
            level=level,
            code_field=cols[code.lower()],
            name_field=cols.get(name.lower()),
            dwellings_field=cols.get(layout.dwellings.lower()),
            inhabitants_field=cols.get(layout.inhabitants.lower()),
            municipality_field=gm_field,
            source_note=(
                f"CBS wijk- en buurtkaart ({Path(path).name}, laag {layer}, "
                f"indeling {layout.label})"
            ),
        )
        reports.append(
            AreaImportReport(
                level=report.level,
                layer=layer,
                n_areas=report.n_areas,
                dropped_empty=report.dropped_empty,
                unknown_dwellings=report.unknown_dwellings,
                unknown_inhabitants=report.unknown_inhabitants,
                special_codes=report.special_codes,
            )
        )
    return tuple(reports)


def import_cameras(
    store: Store,
    source: Path | str | gpd.GeoDataFrame,
    *,
    kind: str,
    id_field: str | None = None,
    name_field: str | None = None,
    municipality: str | None = None,
    source_note: str | None = None,
) -> int:
    """Import camera points (upsert by id); returns the number written.

    Cameras without an id field get ``<kind>-<lon>-<lat>`` (stable for the same location).
    """
    if kind not in ("fixed", "flexible"):
        raise InputFileError(f"camera kind must be fixed or flexible, got {kind!r}")
    gdf = _read_geo(source)
    if not bool((gdf.geometry.geom_type == "Point").all()):
        raise InputFileError("camera files must hold points / alleen punten")
    lon = shapely.get_x(gdf.geometry.values)
    lat = shapely.get_y(gdf.geometry.values)
    id_col = _pick(gdf, id_field, ("camera_id", "id", "code"), "id")
    name_col = _pick(gdf, name_field, ("name", "naam", "locatie"), "name")
    ids = (
        gdf[id_col].astype(str).to_numpy()
        if id_col
        else np.char.add(
            f"{kind}-", np.char.add(np.round(lon, 6).astype(str), np.round(lat, 6).astype(str))
        )
    )
    frame = pd.DataFrame(
        {
            "camera_id": ids,
            "kind": kind,
            "name": gdf[name_col].astype(str).to_numpy() if name_col else None,
            "lon": lon,
            "lat": lat,
            "municipality": municipality
            if municipality
            else (gdf["municipality"].astype(str).to_numpy() if "municipality" in gdf else None),
            "active_from": pd.to_datetime(gdf["active_from"]).dt.date.to_numpy()
            if "active_from" in gdf
            else None,
            "active_to": pd.to_datetime(gdf["active_to"]).dt.date.to_numpy()
            if "active_to" in gdf
            else None,
            "source": source_note
            or (str(source) if not isinstance(source, gpd.GeoDataFrame) else None),
        }
    )
    if re.search(r"\S", "".join(frame["camera_id"].astype(str))) is None:
        raise InputFileError("camera ids are empty")
    return store.upsert_cameras(frame)
