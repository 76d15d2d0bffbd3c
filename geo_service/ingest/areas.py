"""Importing area polygons (buurt, wijk, ..., with dwellings) and camera points."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.errors import InputFileError, UnknownColumnError
from geo_service.store import Store
from spatial.grid.crs import WGS84

_CODE_FIELDS = ("code", "statcode", "cbscode", "wijk_code", "buurt_code", "gm_code", "id")
_NAME_FIELDS = ("name", "naam", "statnaam", "wijk_name", "buurt_name", "wijknaam", "buurtnaam")
_LEVELS = ("buurt", "wijk", "stadsdeel", "verzorgingsgebied", "gemeente", "designated")


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


def _read_geo(source: Path | str | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if isinstance(source, gpd.GeoDataFrame):
        gdf = source
    else:
        p = Path(source)
        if not p.is_file():
            raise InputFileError(f"file not found / bestand niet gevonden: {p}")
        try:
            gdf = gpd.read_file(p)
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

    Raises
    ------
    InputFileError
        Unreadable file, unknown level or fields, no code field.
    """
    if level not in _LEVELS:
        raise InputFileError(f"unknown level {level!r}; use one of {', '.join(_LEVELS)}")
    gdf = _read_geo(source)
    code_col = _pick(gdf, code_field, _CODE_FIELDS, "code")
    if code_col is None:
        raise UnknownColumnError(
            f"no code field found; pass --code-field (fields: {', '.join(map(str, gdf.columns))})"
        )
    name_col = _pick(gdf, name_field, _NAME_FIELDS, "name")
    dw_col = _pick(gdf, dwellings_field, ("dwellings", "woningen", "aant_won"), "dwellings")
    inh_col = _pick(gdf, inhabitants_field, ("inhabitants", "aant_inw", "inwoners"), "inhabitants")
    gm_col = _pick(
        gdf, municipality_field, ("municipality", "gm_code", "gemeentecode"), "municipality"
    )
    geoms = gdf.geometry.make_valid(method="structure", keep_collapsed=False)
    keep = ~(geoms.isna() | geoms.is_empty).to_numpy()
    frame = pd.DataFrame(
        {
            "code": gdf[code_col].astype(str).to_numpy(),
            "name": gdf[name_col].astype(str).to_numpy() if name_col else None,
            "level": level,
            "municipality": municipality
            if municipality
            else (gdf[gm_col].astype(str).to_numpy() if gm_col else None),
            "dwellings": pd.to_numeric(gdf[dw_col], errors="coerce").to_numpy()
            if dw_col
            else np.nan,
            "dwellings_estimated": bool(dwellings_estimated),
            "inhabitants": pd.to_numeric(gdf[inh_col], errors="coerce").to_numpy()
            if inh_col
            else np.nan,
            "source": source_note
            or (str(source) if not isinstance(source, gpd.GeoDataFrame) else None),
            "wkb": shapely.to_wkb(geoms.to_numpy()),
        }
    )[keep]
    if level == "gemeente":
        # A gemeente is its own municipality.
        frame["municipality"] = frame["municipality"].fillna(frame["code"])
    return store.upsert_areas(frame)


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
