"""The files of the targeting analyses: candidate camera sites and past IHA actions.

Reading and checking them is ingestion: a bad file is refused with one line before the store
is opened, and nothing is half-stored.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo_service.errors import InputFileError
from geo_service.store import Store
from spatial.grid.crs import WGS84
from spatial.grid.geometry import polygonal

__all__ = ["import_iha_actions", "polygonal_array", "read_actions", "read_candidates"]


def _existing(path: Path | str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"file not found / bestand niet gevonden: {p.name}")
    return p


def read_candidates(path: Path | str) -> tuple[tuple[float, float], ...]:
    """Read candidate sites (lon, lat) from a GeoJSON/GeoPackage of points, or a CSV.

    A CSV needs ``lon`` and ``lat`` columns (WGS84); a vector file may be in any CRS.

    Raises
    ------
    InputFileError
    """
    p = _existing(path)
    try:
        if p.suffix.lower() == ".csv":
            df = pd.read_csv(p, sep=None, engine="python")
            cols = {c.lower(): c for c in df.columns}
            if not {"lon", "lat"} <= set(cols):
                raise InputFileError(
                    "a candidate CSV needs lon and lat columns / kolommen lon, lat"
                )
            lon = pd.to_numeric(df[cols["lon"]], errors="coerce").to_numpy(float)
            lat = pd.to_numeric(df[cols["lat"]], errors="coerce").to_numpy(float)
        else:
            gdf = read_actions(p)
            if gdf.crs is None:
                raise InputFileError("the candidate file has no CRS / geen coördinatenstelsel")
            gdf = gdf.to_crs(WGS84)
            if not bool((gdf.geometry.geom_type == "Point").all()):
                raise InputFileError("candidate files must hold points / alleen punten")
            lon, lat = shapely.get_x(gdf.geometry.values), shapely.get_y(gdf.geometry.values)
    except InputFileError:
        raise
    except Exception as exc:  # any reader error is the file's, said in one line
        raise InputFileError(f"cannot read {p.name}: {type(exc).__name__}") from exc
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise InputFileError(f"no valid points in {p.name} / geen geldige punten")
    return tuple(zip(lon[ok].tolist(), lat[ok].tolist(), strict=True))


def read_actions(path: Path | str) -> gpd.GeoDataFrame:
    """Read a vector file (past actions, candidate sites; GeoJSON, GeoPackage), keeping its CRS.

    Raises
    ------
    InputFileError
    """
    p = _existing(path)
    try:
        gdf = gpd.read_file(p)
    except Exception as exc:  # any reader error is the file's, said in one line
        raise InputFileError(f"cannot read {p.name}: {type(exc).__name__}") from exc
    gdf.attrs["source"] = p.name
    return gdf


def import_iha_actions(
    store: Store,
    source: Path | str | gpd.GeoDataFrame,
    *,
    date_field: str | None = None,
    action_date: date | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    municipality: str | None = None,
) -> int:
    """Import past IHA actions (polygons with a date); returns the number stored.

    Each action needs a date: ``date_field`` (a column; ``datum``/``date`` are found by
    themselves) or one ``action_date`` for all. Without a code field the code is
    ``IHA-<date>-<row>``.

    Raises
    ------
    InputFileError
        Unreadable file, no polygons, no or invalid dates.
    """
    gdf = source if isinstance(source, gpd.GeoDataFrame) else read_actions(source)
    source_name = gdf.attrs.get("source")
    if gdf.crs is None:
        raise InputFileError("the file has no CRS / bestand heeft geen coördinatenstelsel")
    gdf = gdf.to_crs(WGS84)
    geoms = polygonal_array(gdf.geometry.to_numpy())
    if not len(gdf) or shapely.is_empty(geoms).all():
        raise InputFileError("no polygons in the file / geen vlakken in het bestand")
    lower = {str(c).lower(): str(c) for c in gdf.columns}
    col = date_field or next(
        (lower[c] for c in ("datum", "date", "action_date") if c in lower), None
    )
    if action_date is not None:
        dates = pd.Series([pd.Timestamp(action_date)] * len(gdf))
    elif col is not None and col in gdf.columns:
        dates = _parse_dates(gdf[col])
    else:
        raise InputFileError(
            "no date for the actions: pass --date-field or --date / geen datum: gebruik "
            "--date-field of --date"
        )
    if dates.isna().any():
        raise InputFileError(
            f"{int(dates.isna().sum())} action(s) without a valid date / actie(s) zonder datum"
        )
    day = [d.date().isoformat() for d in dates]
    codes = (
        gdf[code_field].astype(str).to_list()
        if code_field
        else [f"IHA-{d}-{i + 1}" for i, d in enumerate(day)]
    )
    frame = pd.DataFrame(
        {
            "code": codes,
            "name": gdf[name_field].astype(str).to_list() if name_field else None,
            "municipality": municipality,
            "action_date": [datetime.fromisoformat(d).date() for d in day],
            "source": source_name,
            "wkb": shapely.to_wkb(geoms),
        }
    )[~shapely.is_empty(geoms)]
    return store.upsert_iha_actions(frame)


def _parse_dates(values: pd.Series) -> pd.Series:
    """Parse action dates: ISO 8601 (``2025-09-01``) as such, others day first (``1-9-2025``).

    ``pd.to_datetime(..., dayfirst=True)`` alone reads ``2025-09-01`` as 9 January, so ISO
    dates are parsed first and only the rest day first.

    Examples
    --------
    >>> _parse_dates(pd.Series(["2025-09-01", "1-9-2025", "x"])).dt.strftime("%Y-%m-%d").tolist()
    ['2025-09-01', '2025-09-01', nan]
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.Series(pd.to_datetime(values))
    text = values.astype(str)
    iso = pd.to_datetime(text, errors="coerce", format="ISO8601")
    rest = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
    return iso.fillna(rest)


def polygonal_array(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Return the polygonal part of each geometry (made valid); empty where there is none."""
    valid = shapely.make_valid(geoms)
    return np.asarray([polygonal(g) for g in valid], dtype=object)
