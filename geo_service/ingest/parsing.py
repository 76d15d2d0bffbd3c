"""Parsing values: column mapping, numbers with decimal commas, dates in a time zone, categories."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo_service.errors import InputFileError, UnknownColumnError

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


