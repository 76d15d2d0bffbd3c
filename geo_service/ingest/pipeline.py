"""Ingestion of incident files that loses nothing.

Every row read is accounted for: ``rows_in = stored + duplicates + quarantined + skipped``.

* **stored**: new incidents written to the store;
* **duplicates**: rows whose ``incident_id`` is already stored (re-ingesting a file stores nothing);
* **quarantined**: rows rejected with a reason a person understands, kept verbatim in the
  ``quarantine`` table, including CSV rows that could not be split into columns
  (``malformed_row``);
* **skipped**: rows left out on purpose (with ``only_mapped``, categories not in the category map).

Of the quarantined rows, ``quarantine_known`` were already in the quarantine (the same file,
row, reason and content was ingested before) and are not stored again: re-ingesting a file
leaves the quarantine as it was.

A batch is atomic: it is written in one DuckDB transaction, so an error or Ctrl-C mid-way leaves
the store as it was.

Rows without an ``incident_id`` get a deterministic one: a 128-bit hash of the row's content plus
the occurrence number of that content within the file, so re-ingesting the same file stores
nothing and two identical rows (two incidents reported alike) are not merged into one.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from geo_service.errors import InputFileError, NotFoundError
from geo_service.ingest.parsing import (
    _apply_columns,
    _numbers,
    _text,
    normalise_category,
    parse_dates,
)
from geo_service.ingest.readers import (
    IncidentTable,
    MalformedRow,
    ReadLimits,
    read_incident_table,
)
from geo_service.store import Store, utc_now
from spatial.errors import InvalidParameterError
from spatial.grid.crs import DEFAULT_REGION_KM, RD_NEW, WGS84, detect_crs, to_metric, transform
from spatial.grid.timezones import DEFAULT_TIMEZONE, zone_for_points

#: Occurrences before this date are implausible for current policy data (``ingest --earliest``).
DEFAULT_EARLIEST = date(1990, 1, 1)

#: Quarantine reasons: stable key -> what a person reads (Dutch).
REASONS: dict[str, str] = {
    "malformed_row": "Rij heeft een afwijkend aantal kolommen of een onjuiste aanhaling",
    "missing_coordinates": "Coördinaten ontbreken of zijn geen getal",
    "invalid_coordinates": (
        "Coördinaten liggen buiten het bereik van het coördinatenstelsel of zijn een "
        "nulwaarde (0, 0)"
    ),
    "swapped_lat_lon": "Lengte- en breedtegraad lijken verwisseld; controleer de bron",
    "outside_study_area": "Punt ligt ver buiten het gebied van de rest van het bestand",
    "missing_date": "Pleegdatum ontbreekt",
    "unparseable_date": "Pleegdatum is niet te lezen",
    "future_date": "Pleegdatum ligt in de toekomst",
    "implausible_date": "Pleegdatum ligt vóór de ondergrens voor plausibele data",
    "end_before_start": "Einde van de pleegperiode ligt vóór het begin",
    "outside_municipality": "Punt ligt buiten de opgegeven gemeente",
    "unknown_category": "Categorie ontbreekt of is onbekend",
    "duplicate_id": "Incident-id komt meer dan eens voor in dit bestand",
}


@dataclass(frozen=True)
class IngestReport:
    """Accounting of one ingested batch.

    ``rows_in = stored + duplicates + quarantined + skipped``, always. ``quarantine_known``
    (at most ``quarantined``) counts the quarantined rows the quarantine already held from an
    earlier batch of the same file; ``quarantined - quarantine_known`` rows were added to it.
    """

    batch_id: str
    rows_in: int
    stored: int
    duplicates: int
    quarantined: int
    quarantine_known: int
    skipped: int
    reasons: dict[str, int] = field(default_factory=dict)
    crs: str | None = None
    crs_note: str | None = None
    timezone: str | None = None
    timezone_source: str | None = None
    encoding_note: str | None = None

    def to_json(self) -> str:
        """Return the report as ONE JSON line."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=False)


def _row_ids(raw: pd.DataFrame) -> pd.Series:
    """Deterministic ids from row content + occurrence number of that content in the file."""
    h1 = pd.util.hash_pandas_object(raw, index=False, hash_key="geoservice-id-k1")
    h2 = pd.util.hash_pandas_object(raw, index=False, hash_key="geoservice-id-k2")
    content = pd.Series(h1.to_numpy(np.uint64), index=raw.index).map("{:016x}".format) + pd.Series(
        h2.to_numpy(np.uint64), index=raw.index
    ).map("{:016x}".format)
    occurrence = content.groupby(content, sort=False).cumcount()
    return "h" + content + "-" + occurrence.astype(str)


def new_batch_id() -> str:
    """Return a fresh batch id; a caller that makes it first can look the batch up after Ctrl-C."""
    return uuid.uuid4().hex


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
    kind: str | None = None,
    actor: str = "cli",
    today: date | None = None,
    tz: str | None = None,
    default_tz: str = DEFAULT_TIMEZONE,
    earliest: date = DEFAULT_EARLIEST,
    region_km: float = DEFAULT_REGION_KM,
    batch_id: str | None = None,
    limits: ReadLimits | None = None,
) -> IngestReport:
    """Read ``path`` and ingest it (see :func:`ingest_frame`); the batch records the file's sha256.

    Malformed CSV rows are quarantined as ``malformed_row`` and counted in ``rows_in``.
    ``limits`` caps what the file may expand to (decompressed bytes, rows) while it is read;
    the web upload passes its settings, the CLI reads without.

    Raises
    ------
    InputTooLargeError
        The file expands past ``limits``; nothing is stored.
    InputFileError
        Unreadable file (UTF-16 too), unknown columns.
    """
    p = Path(path)
    table = read_incident_table(p, limits)
    digest = hashlib.sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return ingest_frame(
        store,
        table,
        file_name=p.name,
        sha256=digest.hexdigest(),
        category=category,
        municipality=municipality,
        crs=crs or table.frame.attrs.get("crs"),
        columns=columns,
        category_map=category_map,
        only_mapped=only_mapped,
        kind=kind,
        actor=actor,
        today=today,
        tz=tz,
        default_tz=default_tz,
        earliest=earliest,
        region_km=region_km,
        batch_id=batch_id,
    )


def ingest_frame(
    store: Store,
    df: pd.DataFrame | IncidentTable,
    *,
    file_name: str,
    sha256: str | None = None,
    category: str | None = None,
    municipality: str | None = None,
    crs: str | None = None,
    columns: Mapping[str, str] | None = None,
    category_map: Mapping[str, str] | None = None,
    only_mapped: bool = False,
    kind: str | None = None,
    actor: str = "cli",
    today: date | None = None,
    tz: str | None = None,
    default_tz: str = DEFAULT_TIMEZONE,
    earliest: date = DEFAULT_EARLIEST,
    region_km: float = DEFAULT_REGION_KM,
    batch_id: str | None = None,
) -> IngestReport:
    """Validate a frame of incidents and store it as one atomic batch.

    Parameters
    ----------
    store
        The target store.
    df
        Incidents; columns named canonically (``incident_id, occurred_from, occurred_to,
        reported_at, lon, lat | x, y, category, subtype``) or mapped with ``columns``.
        Not modified. An :class:`IncidentTable` (what a reader returns) also brings the
        file's malformed rows (quarantined as ``malformed_row``), row numbers and
        encoding note.
    file_name, sha256
        Provenance recorded with the batch.
    category
        Category for every row when the frame has no category column; fills empty values
        when it has one.
    municipality
        CBS code (``GM0518``). Rows outside its stored polygon are quarantined. Without it,
        each point gets the municipality of the stored area it falls in (if any).
    crs
        ``EPSG:4326`` or ``EPSG:28992``; detected from the values when None. Lat/lon swaps are
        judged against the batch's region (see :func:`spatial.grid.crs.detect_crs`).
    columns
        ``{canonical: source column}``.
    category_map
        ``{source value: category}``, e.g. ``{"Burglary": "woninginbraak"}``. Values not in the
        map keep their own (normalised) name, or are counted as ``skipped`` with ``only_mapped``.
    kind
        What the file's records are (:data:`geo_service.store.incidents.CATEGORY_KINDS`):
        ``"politie"`` (police registrations) or ``"melding"`` (residents' reports to the
        municipality). Recorded for categories the store does not hold yet; a category stored
        as the other kind refuses the batch. None: each category keeps the kind it has
        (a new one is a police registration).
    actor
        Who ingests (audit).
    today
        The date after which an occurrence is "in the future" (default: today in the batch's
        time zone).
    tz
        IANA time zone of the file's timestamps (``ingest --tz``). Default: the zone at the
        data's location when it lies outside the Netherlands, else ``default_tz``. Values
        without an offset are local time in this zone; values with one are converted to it.
        Stored timestamps are wall-clock time in this zone, which is recorded per incident.
    default_tz
        The service's configured zone (``Settings.timezone``).
    earliest
        Occurrences before this date are quarantined as ``implausible_date`` (``0001-01-01``
        and ``1900-01-01`` are placeholders, not dates).
    region_km
        Radius around the batch's centre (the median of its rows): points farther away are
        quarantined as ``outside_study_area``; swapped rows are recognised against it.
    batch_id
        Id of the batch (default: a new one). A caller that makes it first
        (:func:`new_batch_id`) can find out after an interrupt whether the batch was stored.

    Returns
    -------
    IngestReport

    Raises
    ------
    UnknownColumnError
        A mapped column is not in the frame, or coordinates / date columns are missing.
    InvalidParameterError
        ``earliest`` not before ``today``, or ``region_km`` not positive.
    """
    batch_id = batch_id or new_batch_id()
    table = df if isinstance(df, IncidentTable) else IncidentTable(df)
    malformed = table.malformed
    rows_in = table.rows_in
    if rows_in == 0:
        raise InputFileError(f"{file_name} holds no rows / bestand bevat geen rijen")
    raw = table.frame.reset_index(drop=True)
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
    det = detect_crs(a, b, crs, region_km=region_km)
    if det.columns_swapped:
        a, b = b, a
    finite = np.isfinite(a) & np.isfinite(b)
    flag(~finite, "missing_coordinates")
    flag(det.swapped, "swapped_lat_lon")
    flag(~det.valid, "invalid_coordinates")
    flag(det.outside, "outside_study_area")
    if det.crs == RD_NEW:
        lon, lat = transform(a, b, RD_NEW, WGS84)
    else:
        lon, lat = a.copy(), b.copy()

    # Dates.
    # Time zone of the batch: given, else from where the data are, else the configured one.
    usable = det.valid & ~det.outside
    zone = zone_for_points(lon[usable], lat[usable], given=tz, default=default_tz)
    today = today or datetime.now(ZoneInfo(zone.zone)).date()
    if earliest >= today:
        raise InvalidParameterError(
            f"earliest must lie before today ({today.isoformat()}), got {earliest.isoformat()}"
        )
    occ_from = parse_dates(canon["occurred_from"], zone.zone)
    occ_to = parse_dates(canon["occurred_to"], zone.zone) if "occurred_to" in canon else None
    rep = parse_dates(canon["reported_at"], zone.zone) if "reported_at" in canon else None
    empty_from = (_text(canon["occurred_from"]) == "").to_numpy()
    flag(empty_from, "missing_date")
    flag(occ_from.isna().to_numpy(), "unparseable_date")
    horizon = pd.Timestamp(today + timedelta(days=1))
    flag((occ_from >= horizon).fillna(False).to_numpy(dtype=bool), "future_date")
    floor = pd.Timestamp(earliest)
    flag((occ_from < floor).fillna(False).to_numpy(dtype=bool), "implausible_date")
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
    mx, my, metric = _metric(det.crs, a[ok], b[ok], lon[ok], lat[ok])
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
            "x": mx,
            "y": my,
            "metric_crs": metric,
            "tz": zone.zone,
            # Arrow strings: DuckDB scans object columns of a million rows slowly.
            "municipality": pd.array(gm[ok], dtype="string[pyarrow]"),
            "wijk_code": pd.array(wijk[ok], dtype="string[pyarrow]"),
            "buurt_code": pd.array(buurt[ok], dtype="string[pyarrow]"),
        }
    )
    bad = reason != ""
    row_numbers = table.row_numbers if table.row_numbers is not None else np.arange(1, n + 1)
    quarantine = pd.DataFrame(
        {
            "row_number": row_numbers[bad],
            "reason": reason[bad],
            "detail": [REASONS[r] for r in reason[bad]],
            "raw": _raw_json(raw.loc[bad]),
        }
    )
    if malformed:
        quarantine = (
            pd.concat([quarantine, _malformed_frame(malformed)], ignore_index=True)
            .sort_values("row_number", kind="stable")
            .reset_index(drop=True)
        )
    written = store.write_batch(
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
            "timezone": zone.zone,
            "rows_in": rows_in,
            "skipped": int(skipped.sum()),
            "kind": kind,
            "actor": actor,
            "started_at": utc_now(),
        },
    )
    reasons = pd.Series(reason[bad]).value_counts().to_dict() if bad.any() else {}
    if malformed:
        reasons["malformed_row"] = len(malformed)
    return IngestReport(
        batch_id=batch_id,
        rows_in=rows_in,
        stored=written.stored,
        duplicates=int(ok.sum()) - written.stored,
        quarantined=int(bad.sum()) + len(malformed),
        quarantine_known=written.quarantine_known,
        skipped=int(skipped.sum()),
        reasons={str(k): int(v) for k, v in reasons.items()},
        crs=det.crs,
        crs_note=det.note,
        timezone=zone.zone,
        timezone_source=zone.source,
        encoding_note=table.encoding_note,
    )


def _metric(
    source_crs: str,
    a: np.ndarray,
    b: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, str | pd.Categorical[str]]:
    """Metric x, y and CRS per stored row: each row's own (RD New in the Netherlands, else UTM).

    RD New input stays as given (no round trip through WGS84).
    """
    if source_crs == RD_NEW:
        return a, b, RD_NEW
    if lon.size == 0:
        return lon, lat, RD_NEW
    x, y, epsg = to_metric(lon, lat)
    codes, index = np.unique(epsg, return_inverse=True)
    names = [f"EPSG:{int(c)}" for c in codes]
    if len(names) == 1:
        return x, y, names[0]
    return x, y, pd.Categorical.from_codes(index, categories=pd.Index(names))


def _malformed_frame(rows: tuple[MalformedRow, ...]) -> pd.DataFrame:
    """Quarantine rows for CSV rows that could not be split into columns (raw text kept)."""
    return pd.DataFrame(
        {
            "row_number": np.array([m.row_number for m in rows], dtype=np.int64),
            "reason": "malformed_row",
            "detail": REASONS["malformed_row"],
            "raw": [
                json.dumps(
                    {
                        "raw_text": m.text,
                        "expected_columns": m.expected_columns,
                        "actual_columns": m.actual_columns,
                    },
                    ensure_ascii=False,
                )
                for m in rows
            ],
        }
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
