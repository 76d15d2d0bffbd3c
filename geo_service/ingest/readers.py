"""Reading incident files: CSV, GeoJSON, GeoPackage, (Geo)Parquet.

A CSV file is judged per row, not per file: a row with too many or too few fields, an
unbalanced quote or the wrong separator is set aside as a :class:`MalformedRow` (with its raw
text) and the rest is read; a line that is not UTF-8 is read as Windows-1252 and counted, the
other lines stay UTF-8.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import shapely

from geo_service.errors import InputFileError, InputTooLargeError
from spatial.grid.crs import RD_NEW, WGS84, normalise_crs, transform

#: Bytes that ``surrogateescape`` turned into lone surrogates: the line was not UTF-8.
_SURROGATES = re.compile("[\udc80-\udcff]+")
#: A character that is valid non-ASCII UTF-8 (not an escaped byte).
_UTF8_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")
#: Passes over a CSV file with unbalanced quotes (each blanks the stray quotes it sees).
_MAX_PASSES = 8
#: Bytes read (decompressed) at a time, so a limit acts before a file is in memory.
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReadLimits:
    """What one file may expand to while it is read; ``None`` is no limit.

    An upload of a few hundred kB of ``.csv.gz`` expanded to five million rows and took the
    service from 0.4 to 5 GB; the web layer passes its settings here, the CLI reads without.

    Attributes
    ----------
    max_bytes
        Decompressed bytes of a CSV file (checked chunk by chunk while it is decompressed);
        for (Geo)Parquet, the uncompressed size its metadata declare.
    max_rows
        Data rows. For CSV every line after the header counts (a blank line or a line break
        inside a quoted value too), so the limit acts while the file is read, before a row
        is parsed; for other formats the rows read (Parquet: the rows its metadata declare).
    """

    max_bytes: int | None = None
    max_rows: int | None = None

    def check_rows(self, name: str, rows: int) -> None:
        """Raise :class:`InputTooLargeError` if ``rows`` exceeds ``max_rows``."""
        if self.max_rows is not None and rows > self.max_rows:
            raise InputTooLargeError(
                f"{name} holds more than {self.max_rows:,} rows / het bestand heeft meer dan "
                f"{self.max_rows:,} rijen; split it / splits het bestand"
            )

    def check_bytes(self, name: str, size: int) -> None:
        """Raise :class:`InputTooLargeError` if ``size`` exceeds ``max_bytes``."""
        if self.max_bytes is not None and size > self.max_bytes:
            raise InputTooLargeError(
                f"{name} expands to more than {self.max_bytes:,} bytes / uitgepakt is het "
                f"bestand groter dan {self.max_bytes:,} bytes; split it / splits het bestand"
            )


@dataclass(frozen=True)
class MalformedRow:
    """A CSV row that could not be split into the header's columns.

    Attributes
    ----------
    row_number
        Position in the file among the data rows (1 = the first row after the header).
    text
        The row as written (decoded).
    expected_columns, actual_columns
        Number of fields the header has and the parser found; ``actual_columns`` is None for
        a line whose unbalanced quote ran on into the rows after it.
    """

    row_number: int
    text: str
    expected_columns: int
    actual_columns: int | None


@dataclass(frozen=True, eq=False)
class IncidentTable:
    """What a reader returns: the rows it could read, and what it could not read as rows.

    Attributes
    ----------
    frame
        The readable rows (strings for CSV, values for spatial formats).
    malformed
        CSV rows set aside, in file order.
    row_numbers
        Per row of ``frame``, its data-row number in the file; None when it is simply
        ``1..len(frame)`` (no malformed rows).
    encoding_note
        A sentence saying which lines were read as Windows-1252; None when all were UTF-8.
    """

    frame: pd.DataFrame
    malformed: tuple[MalformedRow, ...] = ()
    row_numbers: npt.NDArray[np.int64] | None = None
    encoding_note: str | None = None

    @property
    def rows_in(self) -> int:
        """All data rows of the file: readable plus malformed."""
        return len(self.frame) + len(self.malformed)


def read_incident_file(path: Path | str) -> pd.DataFrame:
    """Read an incident file into a DataFrame; malformed CSV rows are left out.

    See :func:`read_incident_table`, which also returns the rows it left out.
    """
    return read_incident_table(path).frame


def read_incident_table(path: Path | str, limits: ReadLimits | None = None) -> IncidentTable:
    """Read an incident file: rows as strings (CSV) or values (spatial formats), and what was odd.

    CSV (also ``.csv.gz``) is read as text with the separator sniffed (``,``, ``;`` or tab), so
    quarantined rows can be kept verbatim. Rows with a different number of fields than the
    header (extra or missing fields, an unbalanced quote, another separator) are returned as
    :class:`MalformedRow`; the lines an unbalanced quote ran into are read again on their own.
    Each line is UTF-8 when it decodes as UTF-8, else Windows-1252 (and counted in the
    ``encoding_note``). GeoJSON, GeoPackage and (Geo)Parquet with point geometries get
    ``lon``/``lat`` (or ``x``/``y`` in RD New) columns from the geometry.

    Parameters
    ----------
    path
        The file.
    limits
        Caps on decompressed bytes and rows (see :class:`ReadLimits`); None reads anything.

    Raises
    ------
    InputTooLargeError
        The file expands past ``limits``; nothing beyond the limit was read into memory.
    InputFileError
        If the file does not exist, is UTF-16, or cannot be read as one of these formats.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"file not found / bestand niet gevonden: {p}")
    name = p.name.lower()
    limits = limits or ReadLimits()
    try:
        if name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            return _read_csv(p, limits)
        if name.endswith((".parquet", ".geoparquet")):
            _check_parquet(p, limits)
            try:
                return IncidentTable(_points_to_columns(gpd.read_parquet(p)))
            except (ValueError, KeyError):
                return IncidentTable(pd.read_parquet(p))
        if name.endswith((".geojson", ".json", ".gpkg", ".shp", ".fgb")):
            # Not compressed: the upload limit bounds them; the rows are checked all the same.
            frame = _points_to_columns(gpd.read_file(p))
            limits.check_rows(p.name, len(frame))
            return IncidentTable(frame)
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(
            f"cannot read {p.name} / bestand niet leesbaar: {type(exc).__name__}: {exc}"
        ) from exc
    raise InputFileError(
        f"unknown file type {p.name!r}: use CSV, GeoJSON, GeoPackage or (Geo)Parquet"
    )


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a BOM: ASCII text with a NUL byte beside every character."""
    if len(head) < 4:
        return False
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return max(even, odd) >= 0.4 * (len(head) / 2)


def utf8_per_line(data: bytes) -> tuple[bytes, int]:
    r"""Return ``data`` as UTF-8, each line decoded as UTF-8 if it can be, else as Windows-1252.

    Only the lines that fail UTF-8 are touched (found by a regex over the text, not by a loop
    over all lines); a file with no valid non-ASCII UTF-8 at all is decoded in one go.

    Returns
    -------
    data, n_lines
        UTF-8 bytes and the number of lines read as Windows-1252.

    Examples
    --------
    >>> utf8_per_line("a,café\n".encode() + "b,café\n".encode("cp1252"))
    (b'a,caf\xc3\xa9\nb,caf\xc3\xa9\n', 1)
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return data, 0
    text = data.decode("utf-8", "surrogateescape")
    if _UTF8_NON_ASCII.search(text) is None:
        # No line holds valid non-ASCII UTF-8: every line with a high byte is Windows-1252.
        arr = np.frombuffer(data, dtype=np.uint8)
        line_of = np.cumsum(arr == 0x0A)
        n_lines = int(np.unique(line_of[arr >= 0x80]).size)
        return data.decode("cp1252", "replace").encode("utf-8"), n_lines
    pieces: list[str] = []
    pos = 0
    n_lines = 0
    for m in _SURROGATES.finditer(text):  # runs of bad bytes only
        if m.start() < pos:
            continue  # in a line already converted
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        end = len(text) if end < 0 else end
        line = text[start:end].encode("utf-8", "surrogateescape").decode("cp1252", "replace")
        pieces += [text[pos:start], line]
        pos = end
        n_lines += 1
    pieces.append(text[pos:])
    return "".join(pieces).encode("utf-8"), n_lines


def _check_parquet(path: Path, limits: ReadLimits) -> None:
    """Check the rows and uncompressed size a Parquet file declares, before it is read.

    Dictionary and run-length encoding let a small Parquet file hold millions of rows.
    """
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    limits.check_rows(path.name, meta.num_rows)
    limits.check_bytes(
        path.name, sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    )


def _read_limited(path: Path, limits: ReadLimits) -> bytes:
    """Read (and decompress a ``.gz``) chunk by chunk, stopping at the first chunk past a limit.

    Lines are counted as they arrive: the first is the header, each later line may be a row.

    Raises
    ------
    InputTooLargeError
        More decompressed bytes than ``limits.max_bytes``, or more lines after the header
        than ``limits.max_rows``.
    """
    gz = path.name.lower().endswith(".gz")
    chunks: list[bytes] = []
    size = newlines = 0
    with gzip.open(path, "rb") if gz else path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            size += len(chunk)
            newlines += chunk.count(b"\n")
            limits.check_bytes(path.name, size)
            # At least newlines - 1 lines follow the header.
            limits.check_rows(path.name, newlines - 1)
            chunks.append(chunk)
    if chunks and not chunks[-1].endswith(b"\n"):
        limits.check_rows(path.name, newlines)  # the last line has no line break
    return b"".join(chunks)


def _read_csv(path: Path, limits: ReadLimits) -> IncidentTable:
    raw = _read_limited(path, limits)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(raw[:4096]):
        raise InputFileError(
            f"{path.name} is UTF-16, which is not supported: save the file as UTF-8 "
            "/ UTF-16 wordt niet ondersteund: sla het bestand op als UTF-8"
        )
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    data, n_cp1252 = utf8_per_line(raw)
    newline = data.find(b"\n")
    header = data if newline < 0 else data[: newline + 1]
    head = header.decode("utf-8")
    if not head.strip():
        raise InputFileError(f"{path.name} is empty / bestand is leeg")
    sep = (
        ";"
        if head.count(";") > head.count(",")
        else ("\t" if head.count("\t") > head.count(",") else ",")
    )
    header = header if header.endswith(b"\n") else header + b"\n"
    names = pv.read_csv(
        io.BytesIO(header),
        read_options=pv.ReadOptions(use_threads=False),
        parse_options=pv.ParseOptions(delimiter=sep),
    ).column_names
    body = b"" if newline < 0 else data[newline + 1 :]
    table, lines, bad = _read_rows(body, header, sep, names)
    order = np.argsort(lines, kind="stable")
    row_numbers: npt.NDArray[np.int64] | None = None
    malformed: tuple[MalformedRow, ...] = ()
    if bad:
        # Row numbers count data rows (good and malformed, not blank lines) in file order.
        keys = np.concatenate([lines, np.array([line for line, _ in bad], dtype=np.int64)])
        rank = np.empty(keys.size, dtype=np.int64)
        rank[np.argsort(keys, kind="stable")] = np.arange(1, keys.size + 1)
        row_numbers = rank[: lines.size][order]
        malformed = tuple(
            sorted(
                (
                    MalformedRow(int(r), m.text, m.expected_columns, m.actual_columns)
                    for r, (_, m) in zip(rank[lines.size :], bad, strict=True)
                ),
                key=lambda m: m.row_number,
            )
        )
    if bool(np.any(np.diff(lines) < 0)):  # rows re-read after a run-on quote: file order
        table = table.take(pa.array(order))
    note = (
        f"{n_cp1252} rijen waren niet UTF-8 en zijn als Windows-1252 gelezen "
        f"/ {n_cp1252} lines were not UTF-8 and were read as Windows-1252"
        if n_cp1252
        else None
    )
    return IncidentTable(table.to_pandas(), malformed, row_numbers, note)


def _newlines_per_row(table: pa.Table) -> npt.NDArray[np.int64] | None:
    """Per row, the line breaks inside its (quoted) values; None when no value has one."""
    counts: npt.NDArray[np.int64] | None = None
    for column in table.columns:
        if pc.any(pc.match_substring(column, "\n")).as_py():
            found = pc.count_substring(column, "\n").to_numpy().astype(np.int64)
            counts = found if counts is None else counts + found
    return counts


def _last_per_line(
    positions: npt.NDArray[np.intp], breaks: npt.NDArray[np.intp], n_lines: int
) -> npt.NDArray[np.int64]:
    """Offset of the last of ``positions`` on each line (-1 where a line has none)."""
    out = np.full(n_lines, -1, dtype=np.int64)
    if positions.size:
        line = np.searchsorted(breaks, positions)
        is_last = np.append(line[1:] != line[:-1], True)
        out[line[is_last]] = positions[is_last]
    return out


def _blank_lines(body: bytes) -> npt.NDArray[np.int64]:
    """Numbers (1-based) of the empty lines of ``body`` (a carriage return alone is empty)."""
    if not (b"\n\n" in body or b"\n\r\n" in body or body.startswith((b"\n", b"\r\n"))):
        return np.zeros(0, dtype=np.int64)
    raw = np.frombuffer(body, dtype=np.uint8)
    breaks = np.flatnonzero(raw == 0x0A)
    starts = np.concatenate([[0], breaks[:-1] + 1])
    length = breaks - starts
    first_byte = raw[np.minimum(starts, raw.size - 1)]
    empty = (length == 0) | ((length == 1) & (first_byte == 0x0D))
    return np.flatnonzero(empty).astype(np.int64) + 1


#: A line after the last one: it comes back as a row of its own unless a quote was left open
#: (the row that swallowed it never closed its quote).
_SENTINEL = "\x1egeo-service: end of input\x1e"
_SENTINEL_LINE = _SENTINEL.encode("utf-8") + b"\n"


def _parse(
    data: bytes, header: bytes, sep: str, names: list[str]
) -> tuple[pa.Table, list[tuple[int, int, int, str]]]:
    """One pyarrow parse of ``header + data`` (strings); rows that do not fit are returned."""
    bad: list[tuple[int, int, int, str]] = []

    def on_invalid(row: pv.InvalidRow) -> str:
        bad.append((int(row.number or 0), row.expected_columns, row.actual_columns, row.text))
        return "skip"

    table = pv.read_csv(
        io.BytesIO(header + data),
        # One thread: the parser then numbers the rows it rejects.
        read_options=pv.ReadOptions(use_threads=False),
        parse_options=pv.ParseOptions(
            delimiter=sep,
            newlines_in_values=True,
            # Blank lines come back as rows, so every line is accounted for.
            ignore_empty_lines=False,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table, bad


def _read_rows(
    body: bytes, header: bytes, sep: str, names: list[str]
) -> tuple[pa.Table, npt.NDArray[np.int64], list[tuple[int, MalformedRow]]]:
    """Parse ``header + body``, setting aside rows that do not fit the header.

    Returns the table, the first line (1 = first line of ``body``) of each of its rows, and the
    malformed rows by line (their ``row_number`` is filled in by the caller).

    A row that spans lines is *run-on* (an unbalanced quote ran on into the next rows) when

    * one of its continuation lines would be a whole row by itself (it has at least as many
      separators as the header), or
    * its first line is whole by itself and its last quote opens a field before the last (a
      quote opened in the middle of a complete line), or
    * its quote never closes before the end of the file.

    The first line of every run-on row is malformed; it is blanked out and the file parsed
    again, until no row runs on (a few passes: each finds all the stray quotes the previous
    one could see). A quoted value with a line break in it (an address, a description) is not
    run-on: the line it opens on lacks the separators of the fields after it, or it opens in
    the last field, and it closes.
    """
    if body and not body.endswith(b"\n"):
        body += b"\n"
    sentinel_line = body.count(b"\n") + 1
    raw = np.frombuffer(body, dtype=np.uint8)
    breaks = np.flatnonzero(raw == 0x0A)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(body)]])

    def text_of(line: int, to: int) -> str:
        return body[starts[line - 1] : ends[to - 1]].decode("utf-8").rstrip("\r")

    stray: list[tuple[int, MalformedRow]] = []
    current = body
    for attempt in range(_MAX_PASSES):
        table, bad = _parse(current + _SENTINEL_LINE, header, sep, names)
        total = table.num_rows + len(bad)
        # The parser numbers rows from the header (row 1); here rows count from 1.
        bad_rows = np.array([b[0] - 1 for b in bad], dtype=np.int64)
        good_rows = np.delete(np.arange(1, total + 1, dtype=np.int64), bad_rows - 1)
        bad_newlines = np.array([b[3].count("\n") for b in bad], dtype=np.int64)
        good_newlines = _newlines_per_row(table)
        if good_newlines is None and not bad_newlines.any():
            first = np.arange(total + 1, dtype=np.int64)  # one line per row
            newlines = np.zeros(total + 1, dtype=np.int64)
            break
        newlines = np.zeros(total + 1, dtype=np.int64)  # indexed by row, 1-based
        if good_newlines is not None:
            newlines[good_rows] = good_newlines
        newlines[bad_rows] = bad_newlines
        first = np.arange(total + 1, dtype=np.int64) + np.cumsum(newlines) - newlines
        last = np.minimum(first + newlines, sentinel_line - 1)  # lines of the body only
        run_on = _run_on(current, first, last, sep, len(names))
        if first[total] < sentinel_line:  # the last row swallowed the sentinel
            run_on[total] = True
        run_on[0] = False
        if not run_on.any():
            break
        rows = np.flatnonzero(run_on)
        if attempt == _MAX_PASSES - 1:
            # Give up splitting: each run-on row is malformed as a whole.
            stray += [
                (
                    int(first[r]),
                    MalformedRow(0, text_of(int(first[r]), int(last[r])), len(names), None),
                )
                for r in rows
            ]
            drop = np.zeros(total + 1, dtype=bool)
            drop[rows] = True
            keep = ~drop[good_rows]
            table, good_rows = table.filter(pa.array(keep)), good_rows[keep]
            bad = [b for b, r in zip(bad, bad_rows, strict=True) if not drop[r]]
            bad_rows = bad_rows[~drop[bad_rows]]
            break
        # Blank out the first line of each run-on row (kept as malformed) and parse again.
        blanked = first[rows]
        stray += [
            (int(line), MalformedRow(0, text_of(int(line), int(line)), len(names), None))
            for line in blanked
        ]
        # Blanked lines stay lines (their newline is kept), so line numbers do not move.
        breaks_now = np.flatnonzero(np.frombuffer(current, dtype=np.uint8) == 0x0A)
        pieces, pos = [], 0
        for line in map(int, blanked):  # the few stray-quote lines
            pieces.append(current[pos : int(breaks_now[line - 2]) + 1 if line > 1 else 0])
            pos = int(breaks_now[line - 1])
        pieces.append(current[pos:])
        current = b"".join(pieces)
    blank = _blank_lines(current)  # blank lines and blanked stray lines are no rows
    keep = (newlines[good_rows] > 0) | ~np.isin(first[good_rows], np.append(blank, sentinel_line))
    malformed = stray + [
        (int(first[r]), MalformedRow(0, text.rstrip("\r"), expected, actual))
        for r, (_, expected, actual, text) in zip(bad_rows, bad, strict=True)
        if text.strip() and first[r] != sentinel_line
    ]
    return (
        table.filter(pa.array(keep)) if not keep.all() else table,
        first[good_rows][keep],
        malformed,
    )


def _run_on(
    data: bytes,
    first: npt.NDArray[np.int64],
    last: npt.NDArray[np.int64],
    sep: str,
    n_columns: int,
) -> npt.NDArray[np.bool_]:
    """Per row (1-based; ``first``/``last`` its lines): an unbalanced quote ran on from it."""
    if n_columns < 2:
        return np.zeros(first.size, dtype=bool)
    raw = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(raw == 0x0A)
    starts = np.concatenate([[0], breaks + 1])
    sep_at = np.flatnonzero(raw == ord(sep))
    n_seps = np.bincount(np.searchsorted(breaks, sep_at), minlength=starts.size)
    complete = n_seps >= n_columns - 1
    last_quote = _last_per_line(np.flatnonzero(raw == 0x22), breaks, starts.size)
    # A value's own separators come after its quote: a whole line whose last quote has fewer
    # separators before it than the header is a quote opened in the middle of the line.
    seps_before = np.searchsorted(sep_at, last_quote) - np.searchsorted(sep_at, starts)
    quote_mid_line = complete & (last_quote >= 0) & (seps_before < n_columns - 1)
    whole = np.concatenate([[0], np.cumsum(complete)])
    last = np.minimum(last, starts.size)
    return np.asarray(
        (last > first)
        & ((whole[last] - whole[first] > 0) | quote_mid_line[np.maximum(first - 1, 0)])
    )


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
