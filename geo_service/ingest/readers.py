"""Reading incident files: CSV (sniffed separator, encodings), GeoJSON, GeoPackage, (Geo)Parquet."""

from __future__ import annotations

import gzip
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo_service.errors import InputFileError
from spatial.crs import RD_NEW, WGS84, normalise_crs, transform


def read_incident_file(path: Path | str) -> pd.DataFrame:
    """Read an incident file into a DataFrame of strings (CSV) or values (spatial formats).

    CSV (also ``.csv.gz``) is read as text with the separator sniffed (``,`` or ``;``), so
    quarantined rows can be kept verbatim. GeoJSON, GeoPackage and (Geo)Parquet with point
    geometries get ``lon``/``lat`` (or ``x``/``y`` in RD New) columns from the geometry.

    Raises
    ------
    InputFileError
        If the file does not exist or cannot be read as one of these formats.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"file not found / bestand niet gevonden: {p}")
    name = p.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            return _read_csv(p)
        if name.endswith((".parquet", ".geoparquet")):
            try:
                return _points_to_columns(gpd.read_parquet(p))
            except (ValueError, KeyError):
                return pd.read_parquet(p)
        if name.endswith((".geojson", ".json", ".gpkg", ".shp", ".fgb")):
            return _points_to_columns(gpd.read_file(p))
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(
            f"cannot read {p.name} / bestand niet leesbaar: {type(exc).__name__}: {exc}"
        ) from exc
    raise InputFileError(
        f"unknown file type {p.name!r}: use CSV, GeoJSON, GeoPackage or (Geo)Parquet"
    )


def _read_csv(path: Path) -> pd.DataFrame:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.readline()
    if not head.strip():
        raise InputFileError(f"{path.name} is empty / bestand is leeg")
    sep = (
        ";"
        if head.count(";") > head.count(",")
        else ("\t" if head.count("\t") > head.count(",") else ",")
    )
    try:
        return pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            engine="pyarrow" if sep != "\t" else "c",
        )
    except (UnicodeDecodeError, ValueError):
        pass
    # pyarrow is strict about ragged rows and encodings: the C parser names the bad line,
    # and files from older Windows systems are often cp1252.
    try:
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="cp1252")


def _points_to_columns(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    if gdf.crs is None:
        raise InputFileError("the file has no CRS / bestand heeft geen coördinatenstelsel")
    geom = gdf.geometry
    if not bool((geom.is_empty | geom.isna() | (geom.geom_type == "Point")).all()):
        raise InputFileError("incident files must hold point geometries / alleen punten")
    out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    px = shapely.get_x(geom.values)
    py = shapely.get_y(geom.values)
    code = normalise_crs(gdf.crs.to_string())
    if code == RD_NEW:
        out["x"], out["y"] = px, py
    else:
        if code != WGS84:
            px, py = transform(px, py, code, WGS84)
        out["lon"], out["lat"] = px, py
    out.attrs["crs"] = RD_NEW if code == RD_NEW else WGS84
    return out
