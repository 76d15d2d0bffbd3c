"""Ingestion of incident files that loses nothing.

Every row read is accounted for: ``rows_in = stored + duplicates + quarantined + skipped``.

* **stored**: new incidents written to the store;
* **duplicates**: rows whose ``incident_id`` is already stored (re-ingesting a file stores nothing);
* **quarantined**: rows rejected with a reason a person understands, kept verbatim in the
  ``quarantine`` table;
* **skipped**: rows left out on purpose (with ``only_mapped``, categories not in the category map).

A batch is atomic: it is written in one DuckDB transaction, so an error or Ctrl-C mid-way leaves
the store as it was.

Rows without an ``incident_id`` get a deterministic one: a 128-bit hash of the row's content plus
the occurrence number of that content within the file, so re-ingesting the same file stores
nothing and two identical rows (two incidents reported alike) are not merged into one.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from geo_service.errors import InputFileError, NotFoundError, UnknownColumnError
from geo_service.store import Store
from spatial.crs import RD_NEW, WGS84, detect_crs, metric_crs_for, normalise_crs, transform

CANONICAL_COLUMNS = (
    "incident_id",
    "occurred_from",
    "occurred_to",
    "reported_at",
    "lon",
    "lat",
    "x",
    "y",
    "category",
    "subtype",
)

#: Quarantine reasons: stable key -> what a person reads (Dutch).
REASONS: dict[str, str] = {
    "missing_coordinates": "Coördinaten ontbreken of zijn geen getal",
    "invalid_coordinates": "Coördinaten liggen buiten het bereik van het coördinatenstelsel",
    "swapped_lat_lon": "Lengte- en breedtegraad lijken verwisseld; controleer de bron",
    "missing_date": "Pleegdatum ontbreekt",
    "unparseable_date": "Pleegdatum is niet te lezen",
    "future_date": "Pleegdatum ligt in de toekomst",
    "end_before_start": "Einde van de pleegperiode ligt vóór het begin",
    "outside_municipality": "Punt ligt buiten de opgegeven gemeente",
    "unknown_category": "Categorie ontbreekt of is onbekend",
    "duplicate_id": "Incident-id komt meer dan eens voor in dit bestand",
}

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y",
    "%Y%m%d",
)


@dataclass(frozen=True)
class IngestReport:
    """Accounting of one ingested batch.

    ``rows_in = stored + duplicates + quarantined + skipped``, always.
    """

    batch_id: str
    rows_in: int
    stored: int
    duplicates: int
    quarantined: int
    skipped: int
    reasons: dict[str, int] = field(default_factory=dict)
    crs: str | None = None
    crs_note: str | None = None

    def to_json(self) -> str:
        """Return the report as ONE JSON line."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=False)


# --------------------------------------------------------------------------- reading files


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
    import gzip

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


# --------------------------------------------------------------------------- mapping


def parse_mapping(text: str | None) -> dict[str, str]:
    """Parse ``"a=b,c=d"`` into ``{"a": "b", "c": "d"}`` (``--columns``, ``--category-map``).

    Examples
    --------
    >>> parse_mapping("incident_id=Crime ID, lon=Longitude")
    {'incident_id': 'Crime ID', 'lon': 'Longitude'}
    """
    if not text:
        return {}
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputFileError(f"expected name=value, got {part.strip()!r}")
        out[key.strip()] = value.strip()
    return out


def _apply_columns(df: pd.DataFrame, columns: Mapping[str, str] | None) -> pd.DataFrame:
    """Return a frame with canonical column names (strings), without touching ``df``."""
    columns = dict(columns or {})
    unknown_targets = sorted(set(columns) - set(CANONICAL_COLUMNS))
    if unknown_targets:
        raise UnknownColumnError(
            f"unknown target column(s) {unknown_targets}; "
            f"canonical columns are {list(CANONICAL_COLUMNS)}"
        )
    lower = {str(c).lower(): c for c in df.columns}
    picked: dict[str, str] = {}
    for canon in CANONICAL_COLUMNS:
        if canon in columns:
            src = columns[canon]
            if src not in df.columns:
                raise UnknownColumnError(
                    f"column {src!r} (for {canon}) not in the file / kolom niet gevonden; "
                    f"the file has: {', '.join(map(str, df.columns))}"
                )
            picked[canon] = src
        elif canon in lower:
            picked[canon] = lower[canon]
    out = pd.DataFrame({canon: df[src] for canon, src in picked.items()}, index=df.index)
    has_lonlat = "lon" in out and "lat" in out
    has_xy = "x" in out and "y" in out
    if not (has_lonlat or has_xy):
        raise UnknownColumnError(
            "no coordinate columns: need lon+lat or x+y (map them with --columns); "
            f"the file has: {', '.join(map(str, df.columns))}"
        )
    if "occurred_from" not in out:
        raise UnknownColumnError(
            "no date column occurred_from (map it with --columns occurred_from=...); "
            f"the file has: {', '.join(map(str, df.columns))}"
        )
    return out


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().fillna("")


def _numbers(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    t = _text(s)
    out = pd.to_numeric(t, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    failed = np.flatnonzero(np.isnan(out) & (t != "").to_numpy())
    if failed.size:
        # Dutch decimal comma ("4,3012"), only where the plain parse failed.
        fixed = t.iloc[failed].str.replace(",", ".", regex=False)
        out[failed] = pd.to_numeric(fixed, errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    return out


def parse_dates(s: pd.Series) -> pd.Series:
    """Parse dates vectorised: ISO, months (``2018-10``), Dutch (``22-11-2026 14:30``).

    Formats are tried in the order in which they match a sample of the column, each only on the
    values still unparsed (Arrow's C++ ``strptime``). Timestamps with a UTC offset are converted
    to Dutch local time. Unparseable values become NaT.

    Examples
    --------
    >>> parse_dates(pd.Series(["2018-10", "22-11-2026 14:30", "x"])).tolist()
    [Timestamp('2018-10-01 00:00:00'), Timestamp('2026-11-22 14:30:00'), NaT]
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s)
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("Europe/Amsterdam").dt.tz_localize(None)
        return out.astype("datetime64[us]")
    text = pa.array(_text(s).to_numpy(dtype=object, na_value=""), type=pa.string())
    values = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]")
    todo = np.flatnonzero(pc.not_equal(text, "").to_numpy(zero_copy_only=False))
    sample = text.take(pa.array(todo[:500]))
    hits = [
        int(
            pc.sum(
                pc.is_valid(pc.strptime(sample, format=f, unit="us", error_is_null=True))
            ).as_py()
            or 0
        )
        for f in _DATE_FORMATS
    ]
    for i in np.argsort(hits, kind="stable")[::-1]:
        if todo.size == 0:
            break
        parsed = pc.strptime(
            text.take(pa.array(todo)), format=_DATE_FORMATS[i], unit="us", error_is_null=True
        )
        ok = parsed.is_valid().to_numpy(zero_copy_only=False)
        values[todo[ok]] = parsed.filter(parsed.is_valid()).to_numpy(zero_copy_only=False)
        todo = todo[~ok]
    if todo.size:
        rest = pd.Series(text.take(pa.array(todo)).to_pylist())
        iso = pd.to_datetime(rest, format="ISO8601", errors="coerce", utc=True)
        ok = iso.notna().to_numpy()
        values[todo[ok]] = (
            iso[ok]
            .dt.tz_convert("Europe/Amsterdam")
            .dt.tz_localize(None)
            .to_numpy("datetime64[us]")
        )
    return pd.Series(values, index=s.index)


def normalise_category(s: pd.Series) -> pd.Series:
    """Make lower-case category keys: ``"Anti-social behaviour"`` -> ``"anti_social_behaviour"``."""
    codes, uniques = pd.factorize(_text(s))
    keys = (
        pd.Series(uniques, dtype="string")
        .str.lower()
        .str.replace(r"[^0-9a-z\u00c0-\u024f]+", "_", regex=True)
        .str.strip("_")
    )
    # Work on the distinct values only: a file has few categories and many rows.
    return pd.Series(keys.to_numpy(dtype=object)[codes], index=s.index, dtype="string")


def _row_ids(raw: pd.DataFrame) -> pd.Series:
    """Deterministic ids from row content + occurrence number of that content in the file."""
    h1 = pd.util.hash_pandas_object(raw, index=False, hash_key="geoservice-id-k1")
    h2 = pd.util.hash_pandas_object(raw, index=False, hash_key="geoservice-id-k2")
    content = pd.Series(h1.to_numpy(np.uint64), index=raw.index).map("{:016x}".format) + pd.Series(
        h2.to_numpy(np.uint64), index=raw.index
    ).map("{:016x}".format)
    occurrence = content.groupby(content, sort=False).cumcount()
    return "h" + content + "-" + occurrence.astype(str)


# --------------------------------------------------------------------------- ingest


def ingest_file(
    store: Store,
    path: Path | str,
    *,
    category: str | None = None,
    municipality: str | None = None,
    crs: str | None = None,
    columns: Mapping[str, str] | None = None,
    category_map: Mapping[str, str] | None = None,
    only_mapped: bool = False,
    actor: str = "cli",
    today: date | None = None,
) -> IngestReport:
    """Read ``path`` and ingest it (see :func:`ingest_frame`); the batch records the file's sha256.

    Raises
    ------
    InputFileError
        Unreadable file, unknown columns.
    """
    p = Path(path)
    df = read_incident_file(p)
    digest = hashlib.sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return ingest_frame(
        store,
        df,
        file_name=p.name,
        sha256=digest.hexdigest(),
        category=category,
        municipality=municipality,
        crs=crs or df.attrs.get("crs"),
        columns=columns,
        category_map=category_map,
        only_mapped=only_mapped,
        actor=actor,
        today=today,
    )


def ingest_frame(
    store: Store,
    df: pd.DataFrame,
    *,
    file_name: str,
    sha256: str | None = None,
    category: str | None = None,
    municipality: str | None = None,
    crs: str | None = None,
    columns: Mapping[str, str] | None = None,
    category_map: Mapping[str, str] | None = None,
    only_mapped: bool = False,
    actor: str = "cli",
    today: date | None = None,
) -> IngestReport:
    """Validate a frame of incidents and store it as one atomic batch.

    Parameters
    ----------
    store
        The target store.
    df
        Incidents; columns named canonically (``incident_id, occurred_from, occurred_to,
        reported_at, lon, lat | x, y, category, subtype``) or mapped with ``columns``.
        Not modified.
    file_name, sha256
        Provenance recorded with the batch.
    category
        Category for every row when the frame has no category column; fills empty values
        when it has one.
    municipality
        CBS code (``GM0518``). Rows outside its stored polygon are quarantined. Without it,
        each point gets the municipality of the stored area it falls in (if any).
    crs
        ``EPSG:4326`` or ``EPSG:28992``; detected from the values when None.
    columns
        ``{canonical: source column}``.
    category_map
        ``{source value: category}``, e.g. ``{"Burglary": "woninginbraak"}``. Values not in the
        map keep their own (normalised) name, or are counted as ``skipped`` with ``only_mapped``.
    actor
        Who ingests (audit).
    today
        The date after which an occurrence is "in the future" (default: today).

    Returns
    -------
    IngestReport

    Raises
    ------
    UnknownColumnError
        A mapped column is not in the frame, or coordinates / date columns are missing.
    """
    today = today or date.today()
    rows_in = len(df)
    if rows_in == 0:
        raise InputFileError(f"{file_name} holds no rows / bestand bevat geen rijen")
    raw = df.reset_index(drop=True)
    canon = _apply_columns(raw, columns)
    n = len(canon)
    reason = np.full(n, "", dtype=object)

    skipped = np.zeros(n, dtype=bool)

    def flag(mask: np.ndarray, key: str) -> None:
        # First reason wins; rows skipped on purpose are not judged.
        reason[(reason == "") & mask & ~skipped] = key

    # Category, first: rows skipped on purpose are not judged further.
    cat_map = {str(k): str(v) for k, v in (category_map or {}).items()}
    if "category" in canon:
        src = _text(canon["category"])
        in_map = src.isin(list(cat_map)).to_numpy()
        cats = normalise_category(src)
        if in_map.any():
            cats = cats.where(~in_map, src.map(cat_map).astype("string"))
        if category:
            cats = cats.where(src != "", category)
    else:
        in_map = np.zeros(n, dtype=bool)
        cats = pd.Series(category or "", index=canon.index, dtype="string")
    cats = cats.astype("string").fillna("")
    if only_mapped and "category" in canon:
        skipped[:] = ~in_map & (_text(canon["category"]) != "").to_numpy()
    flag((cats == "").to_numpy() & ~skipped, "unknown_category")

    # Coordinates.
    if "lon" in canon and "lat" in canon:
        a, b = _numbers(canon["lon"]), _numbers(canon["lat"])
    else:
        a, b = _numbers(canon["x"]), _numbers(canon["y"])
    det = detect_crs(a, b, crs)
    if det.columns_swapped:
        a, b = b, a
    finite = np.isfinite(a) & np.isfinite(b)
    flag(~finite, "missing_coordinates")
    flag(det.swapped, "swapped_lat_lon")
    flag(~det.valid, "invalid_coordinates")
    if det.crs == RD_NEW:
        lon, lat = transform(a, b, RD_NEW, WGS84)
    else:
        lon, lat = a.copy(), b.copy()

    # Dates.
    occ_from = parse_dates(canon["occurred_from"])
    occ_to = parse_dates(canon["occurred_to"]) if "occurred_to" in canon else None
    rep = parse_dates(canon["reported_at"]) if "reported_at" in canon else None
    empty_from = (_text(canon["occurred_from"]) == "").to_numpy()
    flag(empty_from, "missing_date")
    flag(occ_from.isna().to_numpy(), "unparseable_date")
    horizon = pd.Timestamp(today + timedelta(days=1))
    flag((occ_from >= horizon).fillna(False).to_numpy(dtype=bool), "future_date")
    if occ_to is not None:
        has_to = (_text(canon["occurred_to"]) != "").to_numpy()
        flag(has_to & occ_to.isna().to_numpy(), "unparseable_date")
        flag((occ_to < occ_from).fillna(False).to_numpy(dtype=bool), "end_before_start")

    # Ids.
    if "incident_id" in canon:
        ids = _text(canon["incident_id"]).astype("string")
        missing_id = (ids == "").to_numpy()
    else:
        ids = pd.Series("", index=canon.index, dtype="string")
        missing_id = np.ones(n, dtype=bool)
    if missing_id.any():
        # Hash only the rows that need an id: occurrence numbers count within those rows.
        ids[missing_id] = _row_ids(raw.loc[missing_id]).to_numpy()
    candidate = (reason == "") & ~skipped
    dup_in_file = np.zeros(n, dtype=bool)
    dup_in_file[candidate] = ids[candidate].duplicated(keep="first").to_numpy()
    flag(dup_in_file & ~skipped, "duplicate_id")

    # Municipality and areas, for rows still valid.
    ok = (reason == "") & ~skipped
    areas = store.areas_for_points(lon[ok], lat[ok])
    gm = np.full(n, None, dtype=object)
    wijk = np.full(n, None, dtype=object)
    buurt = np.full(n, None, dtype=object)
    gm[ok], wijk[ok], buurt[ok] = areas["municipality"], areas["wijk_code"], areas["buurt_code"]
    if municipality:
        try:
            inside = store.points_in_municipality(municipality, lon[ok], lat[ok])
        except NotFoundError:
            inside = None  # no polygon for it: trust the caller's label
        outside = np.zeros(n, dtype=bool)
        if inside is not None:
            outside[ok] = ~inside
            flag(outside & ~skipped, "outside_municipality")
        gm[(reason == "") & ~skipped] = municipality

    ok = (reason == "") & ~skipped
    metric = metric_crs_for(lon[ok], lat[ok]) if ok.any() else RD_NEW
    if det.crs == metric:
        mx, my = a, b
    else:
        mx, my = transform(lon, lat, WGS84, metric)
    good = pd.DataFrame(
        {
            # Arrow-backed strings go to DuckDB without a detour through Python objects.
            "incident_id": ids[ok].reset_index(drop=True),
            "category": cats[ok].reset_index(drop=True),
            "subtype": _text(canon["subtype"])[ok].replace("", None).to_numpy(dtype=object)
            if "subtype" in canon
            else np.full(int(ok.sum()), None, dtype=object),
            "occurred_from": occ_from[ok].to_numpy(),
            "occurred_to": occ_to[ok].to_numpy()
            if occ_to is not None
            else np.full(int(ok.sum()), np.datetime64("NaT"), dtype="datetime64[us]"),
            "reported_at": rep[ok].to_numpy()
            if rep is not None
            else np.full(int(ok.sum()), np.datetime64("NaT"), dtype="datetime64[us]"),
            "lon": lon[ok],
            "lat": lat[ok],
            "x": mx[ok],
            "y": my[ok],
            "metric_crs": metric,
            # Arrow strings: DuckDB scans object columns of a million rows slowly.
            "municipality": pd.array(gm[ok], dtype="string[pyarrow]"),
            "wijk_code": pd.array(wijk[ok], dtype="string[pyarrow]"),
            "buurt_code": pd.array(buurt[ok], dtype="string[pyarrow]"),
        }
    )
    bad = reason != ""
    quarantine = pd.DataFrame(
        {
            "row_number": np.flatnonzero(bad) + 1,
            "reason": reason[bad],
            "detail": [REASONS[r] for r in reason[bad]],
            "raw": _raw_json(raw.loc[bad]),
        }
    )
    batch_id = uuid.uuid4().hex
    stored = store.write_batch(
        batch_id=batch_id,
        incidents=good,
        quarantine=quarantine,
        meta={
            "file_name": file_name,
            "sha256": sha256 or "",
            "category": category,
            "municipality": municipality,
            "source_crs": det.crs,
            "crs_note": det.note,
            "rows_in": rows_in,
            "skipped": int(skipped.sum()),
            "actor": actor,
            "started_at": datetime.now(),
        },
    )
    reasons = pd.Series(reason[bad]).value_counts().to_dict() if bad.any() else {}
    return IngestReport(
        batch_id=batch_id,
        rows_in=rows_in,
        stored=stored,
        duplicates=int(ok.sum()) - stored,
        quarantined=int(bad.sum()),
        skipped=int(skipped.sum()),
        reasons={str(k): int(v) for k, v in reasons.items()},
        crs=det.crs,
        crs_note=det.note,
    )


def _raw_json(rows: pd.DataFrame) -> list[str]:
    if rows.empty:
        return []
    text = (
        rows.astype(object)
        .where(rows.notna(), None)
        .to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
    )
    return [line for line in text.split("\n") if line]


# --------------------------------------------------------------------------- areas, cameras

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
