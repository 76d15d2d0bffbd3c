"""Parsing values: column mapping, numbers with decimal commas, dates in a time zone, categories."""

from __future__ import annotations

import re
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
            raise InputFileError(
                f"expected name=value, got {part.strip()!r} / verwacht naam=waarde, "
                f"gekregen: {part.strip()!r}"
            )
        out[key.strip()] = value.strip()
    return out


def _apply_columns(df: pd.DataFrame, columns: Mapping[str, str] | None) -> pd.DataFrame:
    """Return a frame with canonical column names (strings), without touching ``df``."""
    columns = dict(columns or {})
    unknown_targets = sorted(set(columns) - set(CANONICAL_COLUMNS))
    if unknown_targets:
        raise UnknownColumnError(
            f"unknown target column(s) {unknown_targets}; "
            f"canonical columns are {list(CANONICAL_COLUMNS)} / onbekende doelkolom(men) "
            f"{unknown_targets}; kies uit {', '.join(CANONICAL_COLUMNS)}"
        )
    lower = {str(c).lower(): c for c in df.columns}
    picked: dict[str, str] = {}
    for canon in CANONICAL_COLUMNS:
        if canon in columns:
            src = columns[canon]
            if src not in df.columns:
                raise UnknownColumnError(
                    f"column {src!r} (for {canon}) not in the file / kolom {src!r} (voor "
                    f"{canon}) niet gevonden; "
                    f"the file has / het bestand heeft: {', '.join(map(str, df.columns))}"
                )
            picked[canon] = src
        elif canon in lower:
            picked[canon] = lower[canon]
    out = pd.DataFrame({canon: df[src] for canon, src in picked.items()}, index=df.index)
    has_lonlat = "lon" in out and "lat" in out
    has_xy = "x" in out and "y" in out
    if not (has_lonlat or has_xy):
        raise UnknownColumnError(
            "no coordinate columns: need lon+lat or x+y (map them with --columns, or the "
            "upload's columns field) / geen coördinaatkolommen: lon+lat of x+y nodig; koppel "
            "ze met columns, bijvoorbeeld x=X-coordinaat,y=Y-coordinaat; "
            f"the file has / het bestand heeft: {', '.join(map(str, df.columns))}"
        )
    if "occurred_from" not in out:
        raise UnknownColumnError(
            "no date column occurred_from (map it with --columns occurred_from=..., or the "
            "upload's columns field) / geen datumkolom occurred_from; koppel die met columns, "
            "bijvoorbeeld occurred_from=Pleegdatum; "
            f"the file has / het bestand heeft: {', '.join(map(str, df.columns))}"
        )
    return out


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().fillna("")


def _numbers(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    t = _text(s)
    try:
        # Arrow's C++ cast: ~3x faster than to_numeric; any value it rejects (text, a
        # decimal comma) sends the whole column down the forgiving path below.
        arr = (
            pa.array(t.array)
            if isinstance(t.array, pd.arrays.ArrowStringArray)
            else pa.array(t.to_numpy(dtype=object), type=pa.string())
        )
        blank = pc.equal(arr, "")
        cast = pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), arr), pa.float64())
        return np.asarray(cast.to_numpy(zero_copy_only=False), dtype=np.float64)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    out = pd.to_numeric(t, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    failed = np.flatnonzero(np.isnan(out) & (t != "").to_numpy())
    if failed.size:
        # Dutch decimal comma ("4,3012"), only where the plain parse failed.
        fixed = t.iloc[failed].str.replace(",", ".", regex=False)
        out[failed] = pd.to_numeric(fixed, errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    return out


#: A time of day followed by a UTC offset or ``Z``: the value names an instant, not a wall clock.
_OFFSET_RE = r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
_FIELD_RE = {"%Y": r"\d{4}", "%m": r"\d{1,2}", "%H": r"\d{1,2}", "%M": r"\d{1,2}", "%S": r"\d{1,2}"}


def _day_pattern(fmt: str) -> str | None:
    """Regex capturing the day-of-month digits of values written in ``fmt`` (None: no day)."""
    if "%d" not in fmt:
        return None
    out = "^"
    i = 0
    while i < len(fmt):
        tok = fmt[i : i + 2]
        if tok == "%d":
            out += r"(?P<day>\d{1,2})"
            i += 2
        elif tok in _FIELD_RE:
            out += _FIELD_RE[tok]
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    return out


def _calendar_ok(text: pa.Array, parsed: pa.Array, fmt: str) -> np.ndarray:
    """Per value: the parsed day equals the written day (Arrow turns 30 February into 2 March)."""
    pattern = _day_pattern(fmt)
    if pattern is None or len(text) == 0:
        return np.ones(len(text), dtype=bool)
    written = pc.struct_field(pc.extract_regex(text, pattern), "day")
    written_day = pc.cast(written, pa.int64(), safe=False).to_numpy(zero_copy_only=False)
    parsed_day = pc.day(parsed).to_numpy(zero_copy_only=False)
    return np.asarray(parsed_day == written_day, dtype=bool)


def parse_dates(s: pd.Series, tz: str = "Europe/Amsterdam") -> pd.Series:
    """Parse dates vectorised into local wall-clock time in ``tz``.

    Accepts ISO dates and date-times (with or without fractional seconds), months
    (``2018-10``) and Dutch forms (``22-11-2026 14:30``). A value **without** an offset is local
    time in ``tz`` and kept as written (a police export's ``2024-07-05 23:30:00.000`` stays
    23:30 on 5 July). A value **with** an offset or ``Z`` names an instant and is converted to
    ``tz`` (``2024-07-05T23:30:00Z`` in ``America/Toronto`` is 19:30). Impossible calendar
    dates (``2025-02-30``) and unparseable values become NaT.

    Formats are tried in the order in which they match a sample of the column, each only on the
    values still unparsed (Arrow's C++ ``strptime``).

    Returns
    -------
    pandas.Series
        ``datetime64[us]`` without zone: wall-clock time in ``tz``.

    Examples
    --------
    >>> parse_dates(pd.Series(["2018-10", "22-11-2026 14:30", "x"])).tolist()
    [Timestamp('2018-10-01 00:00:00'), Timestamp('2026-11-22 14:30:00'), NaT]
    >>> parse_dates(pd.Series(["2024-07-05 23:30:00.000", "2024-07-05T23:30:00Z"]),
    ...             tz="America/Toronto").tolist()
    [Timestamp('2024-07-05 23:30:00'), Timestamp('2024-07-05 19:30:00')]
    >>> parse_dates(pd.Series(["2025-02-30", "30-02-2025"])).isna().tolist()
    [True, True]
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s)
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(tz).dt.tz_localize(None)
        return out.astype("datetime64[us]")
    text = pa.array(_text(s).to_numpy(dtype=object, na_value=""), type=pa.string())
    values = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]")
    nonempty = pc.not_equal(text, "").to_numpy(zero_copy_only=False)
    has_offset = pc.match_substring_regex(text, _OFFSET_RE).to_numpy(zero_copy_only=False)
    instants = np.flatnonzero(nonempty & has_offset)
    if instants.size:
        parsed_i = pd.to_datetime(
            pd.Series(text.take(pa.array(instants)).to_pylist()),
            format="ISO8601",
            errors="coerce",
            utc=True,
        )
        ok = parsed_i.notna().to_numpy()
        values[instants[ok]] = (
            parsed_i[ok].dt.tz_convert(tz).dt.tz_localize(None).to_numpy("datetime64[us]")
        )
    todo = np.flatnonzero(nonempty & ~has_offset)
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
    rejected = np.zeros(len(text), dtype=bool)
    for i in np.argsort(hits, kind="stable")[::-1]:
        if todo.size == 0:
            break
        fmt = _DATE_FORMATS[i]
        sub = text.take(pa.array(todo))
        parsed = pc.strptime(sub, format=fmt, unit="us", error_is_null=True)
        ok = parsed.is_valid().to_numpy(zero_copy_only=False)
        if ok.any():
            good = _calendar_ok(sub.filter(pa.array(ok)), parsed.filter(pa.array(ok)), fmt)
            idx_ok = np.flatnonzero(ok)
            rejected[todo[idx_ok[~good]]] = True
            ok[idx_ok[~good]] = False
        values[todo[ok]] = parsed.filter(pa.array(ok)).to_numpy(zero_copy_only=False)
        todo = todo[~ok]
    todo = todo[~rejected[todo]]
    if todo.size:
        # Fractional seconds and other ISO 8601 forms, still as local wall-clock time.
        rest = pd.to_datetime(
            pd.Series(text.take(pa.array(todo)).to_pylist()), format="ISO8601", errors="coerce"
        )
        ok = rest.notna().to_numpy()
        values[todo[ok]] = rest[ok].to_numpy("datetime64[us]")
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
