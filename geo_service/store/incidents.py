"""Incidents, ingest batches and the quarantine.

Time convention: ``occurred_from`` / ``occurred_to`` / ``reported_at`` are the local
wall-clock time of the place where the incident happened, in the IANA zone stored in the
incident's ``tz`` column (also recorded per batch). A period filter therefore selects local
days. System timestamps (batches, keys, audit log) are UTC.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from geo_service.errors import InputFileError, NotFoundError
from geo_service.filters import BBox, IncidentFilter
from geo_service.store.core import RECORD_KEY_SQL, StoreBase, quarantine_key_sql, utc_now

_INCIDENT_COLUMNS = (
    "incident_id, category, subtype, occurred_from, occurred_to, reported_at, lon, lat, x, y,"
    " metric_crs, tz, municipality, wijk_code, buurt_code"
)

# Shared filter; every value is a bound parameter (see _params).
_WHERE = (
    "(? IS NULL OR category = ?) AND (? IS NULL OR municipality = ?)"
    " AND (? IS NULL OR occurred_from >= ?) AND (? IS NULL OR occurred_from < ?)"
    " AND (? IS NULL OR (lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?))"
)

#: The order the rows of one batch are written in. DuckLake writes each batch as Parquet files
#: whose row groups (122,880 rows) and files carry min/max statistics per column; with the rows
#: sorted so, a query of one municipality, category and period reads only the row groups that
#: can hold its rows (DuckDB pushes the ``_WHERE`` filter, its parameters bound, into the scan)
#: instead of scanning every file. ``benchmarks/scale.py`` measures it on 10 million rows: Den
#: Haag's year query x2.46 -> x1.06 of a Den Haag-only store. The sort's cost to the ingest is
#: within this shared machine's noise (784,000 rows/s before; 471,000 and 892,000 in two runs
#: after). Files written before stay as they were (they are read as before, unpruned).
_LAYOUT_ORDER = "municipality, category, occurred_from"

__all__ = [
    "CATEGORY_KINDS",
    "KIND_LABELS",
    "BBox",
    "BatchCounts",
    "IncidentFilter",
    "IncidentStore",
]

#: What a category's records are: registrations of the police (crimes and incidents) or
#: residents' reports to the municipality (meldingen, e.g. overlast jeugd). A melding is not a
#: crime; no table or total of the service adds the two kinds together.
CATEGORY_KINDS: tuple[str, ...] = ("politie", "melding")
#: Dutch names of the kinds, for tables and captions.
KIND_LABELS: dict[str, str] = {"politie": "politieregistraties", "melding": "meldingen (gemeente)"}


@dataclass(frozen=True)
class BatchCounts:
    """What :meth:`IncidentStore.write_batch` wrote.

    Attributes
    ----------
    stored
        New incidents (ids not stored before).
    quarantine_known
        Quarantine rows of the batch that the quarantine already held (same source file
        hash, row number, reason and raw content: the file was ingested before); not
        written again.
    """

    stored: int
    quarantine_known: int


def _params(flt: IncidentFilter | None) -> list[Any]:
    flt = flt or IncidentFilter()
    lo, hi = flt.time_bounds()
    has_bbox = None if flt.bbox is None else True
    b = flt.bbox or (None, None, None, None)
    return [
        flt.category,
        flt.category,
        flt.municipality,
        flt.municipality,
        lo,
        lo,
        hi,
        hi,
        has_bbox,
        b[0],
        b[2],
        b[1],
        b[3],
    ]


class IncidentStore(StoreBase):
    """Store methods: incidents, ingest batches, quarantine."""

    # ------------------------------------------------------------------ writes
    def write_batch(
        self,
        *,
        batch_id: str,
        incidents: pd.DataFrame,
        quarantine: pd.DataFrame,
        meta: dict[str, Any],
    ) -> BatchCounts:
        """Write one ingest batch atomically; returns what was new.

        Incidents whose id is already stored are not written (they are the batch's
        duplicates); nor are quarantine rows the quarantine already holds (see
        :func:`geo_service.store.core.quarantine_key_sql`: keyed by ``meta["sha256"]``, the
        reason, row number and raw row). Everything happens in one transaction: any
        exception, including ``KeyboardInterrupt``, rolls the whole batch back. On a shared
        store a batch that met a concurrent write runs again (:meth:`StoreBase.write`), its
        duplicates judged against what the other write stored.
        """
        con = self.con
        # DuckDB scans Arrow far faster than pandas object columns (1M rows: 1.6 s vs 6.1 s).
        table = pa.Table.from_pandas(incidents, preserve_index=False)
        kind = meta.get("kind")
        if kind is not None and kind not in CATEGORY_KINDS:
            raise InputFileError(
                f"Onbekende soort registratie {kind!r}; kies politie of melding. / unknown kind"
            )
        batch_categories = sorted({str(c) for c in incidents["category"]}) if len(incidents) else []

        def block() -> BatchCounts:
            if kind is not None:
                self._record_kinds(batch_categories, kind, batch_id)
            con.register("batch_incidents", table)
            before = self._count_all()
            con.execute(
                f"INSERT INTO incidents ({_INCIDENT_COLUMNS}, batch_id) "
                f"SELECT {_INCIDENT_COLUMNS}, ? FROM batch_incidents b "
                "WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.incident_id = b.incident_id) "
                f"ORDER BY {_LAYOUT_ORDER}",
                [batch_id],
            )
            stored = self._count_all() - before
            con.unregister("batch_incidents")
            new_quarantine = self._write_quarantine(batch_id, quarantine, meta["sha256"])
            con.execute(
                "INSERT INTO ingest_batches (batch_id, file_name, sha256, category, municipality,"
                " source_crs, crs_note, rows_in, stored, duplicates, quarantined, skipped, actor,"
                " started_at, finished_at, timezone)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    batch_id,
                    meta["file_name"],
                    meta["sha256"],
                    meta.get("category"),
                    meta.get("municipality"),
                    meta.get("source_crs"),
                    meta.get("crs_note"),
                    meta["rows_in"],
                    stored,
                    len(incidents) - stored,
                    len(quarantine),
                    meta.get("skipped", 0),
                    meta.get("actor"),
                    meta["started_at"],
                    utc_now(),
                    meta.get("timezone"),
                ],
            )
            if stored:
                self.bump_data_version()
            return BatchCounts(stored=stored, quarantine_known=len(quarantine) - new_quarantine)

        return self.write(block)

    def _record_kinds(self, categories: Sequence[str], kind: str, batch_id: str) -> None:
        """Record ``kind`` for the batch's new categories; refuse a category of the other kind.

        Runs inside the batch's transaction, so a refused batch stores nothing.

        Raises
        ------
        InputFileError
            A category of the batch is stored as the other kind (a melding can never be
            added to police registrations of the same name, nor the reverse).
        """
        if not categories:
            return
        known = self._kinds_of(categories)
        clash = [c for c in categories if known.get(c, kind) != kind]
        if clash:
            other = known[clash[0]]
            raise InputFileError(
                f"Categorie {', '.join(clash)} is al opgeslagen als {KIND_LABELS[other]}; een "
                f"bestand met {KIND_LABELS[kind]} kan er niet bij. Geef de {KIND_LABELS[kind]} "
                "een eigen categorie (bijvoorbeeld met --category-map). / category stored as "
                f"{other}"
            )
        new = [c for c in categories if c not in known]
        if new:
            self.con.executemany(
                "INSERT INTO category_kinds (category, kind, batch_id) VALUES (?, ?, ?)",
                [[c, kind, batch_id] for c in new],
            )

    def _kinds_of(self, categories: Sequence[str]) -> dict[str, str]:
        """Return the kind of those of ``categories`` that are stored (recorded or implied)."""
        rows = self.con.execute(
            "SELECT c.category, coalesce(k.kind, 'politie') FROM "
            "(SELECT DISTINCT category FROM incidents WHERE list_contains(?, category) "
            " UNION SELECT category FROM category_kinds WHERE list_contains(?, category)) c "
            "LEFT JOIN (SELECT category, min(kind) AS kind FROM category_kinds GROUP BY 1) k "
            "USING (category)",
            [list(categories), list(categories)],
        ).fetchall()
        return {str(c): str(k) for c, k in rows}

    def category_kinds(self) -> dict[str, str]:
        """Return ``{category: kind}`` of every stored category (see :data:`CATEGORY_KINDS`).

        A category no batch gave a kind is a police registration (``"politie"``).
        """
        rows = self.con.execute(
            "SELECT i.category, coalesce(k.kind, 'politie') FROM "
            "(SELECT DISTINCT category FROM incidents) i LEFT JOIN "
            "(SELECT category, min(kind) AS kind FROM category_kinds GROUP BY 1) k "
            "USING (category) ORDER BY 1"
        ).fetchall()
        return {str(c): str(k) for c, k in rows}

    def _write_quarantine(self, batch_id: str, quarantine: pd.DataFrame, source: str) -> int:
        """Insert the rows the quarantine does not hold yet; return how many were new."""
        if quarantine.empty:
            return 0
        self.con.register("batch_quarantine", quarantine)
        key = quarantine_key_sql("?", "CAST(CAST(raw AS JSON) AS VARCHAR)")
        row = self.con.execute(
            "INSERT INTO quarantine (batch_id, row_number, reason, detail, raw, row_key) "
            "SELECT ?, row_number, reason, detail, CAST(raw AS JSON), row_key FROM "
            f"(SELECT *, {key} AS row_key FROM batch_quarantine) b "
            "WHERE NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.row_key = b.row_key)",
            [batch_id, source],
        ).fetchone()
        self.con.unregister("batch_quarantine")
        return int(row[0]) if row else 0

    def _count_all(self) -> int:
        row = self.con.execute("SELECT count(*) FROM incidents").fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ reads
    def incident_points(
        self,
        flt: IncidentFilter | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        record_keys: bool = False,
    ) -> pd.DataFrame:
        """Return incidents matching ``flt`` in a stable order, one page in SQL.

        ``record_keys`` adds each incident's ``record_key`` (the cell key method's, see
        :mod:`spatial.privacy.disclosure`): for computing what viewers see, never to be published.
        """
        key_col, key_par = (
            (f", {RECORD_KEY_SQL} AS record_key", [self.record_key_secret()])
            if record_keys
            else ("", [])
        )
        return self.con.execute(
            f"SELECT {_INCIDENT_COLUMNS}{key_col} FROM incidents WHERE {_WHERE} "
            "ORDER BY occurred_from, incident_id LIMIT ? OFFSET ?",
            [*key_par, *_params(flt), limit, offset],
        ).df()

    def footprint_points(self, municipality: str | None = None) -> pd.DataFrame:
        """Return the distinct positions (``lon, lat``, ~1 m) of ALL stored incidents.

        Any category, any period: a study area built from these does not depend on, and so
        cannot outline, the incidents of one query.
        """
        return self.con.execute(
            "SELECT DISTINCT round(lon, 5) AS lon, round(lat, 5) AS lat FROM incidents "
            "WHERE (? IS NULL OR municipality = ?)",
            [municipality, municipality],
        ).df()

    def count_incidents(self, flt: IncidentFilter | None = None) -> int:
        """Return the number of incidents matching ``flt``."""
        row = self.con.execute(
            f"SELECT count(*) FROM incidents WHERE {_WHERE}", _params(flt)
        ).fetchone()
        return int(row[0]) if row else 0

    def count_and_key(self, flt: IncidentFilter | None = None) -> tuple[int, int]:
        """Return the number of incidents matching ``flt`` and their cell key (mod 2**32)."""
        row = self.con.execute(
            f"SELECT count(*), CAST(coalesce(sum({RECORD_KEY_SQL}), 0) % 4294967296 AS UBIGINT) "
            f"FROM incidents WHERE {_WHERE}",
            [self.record_key_secret(), *_params(flt)],
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def monthly_counts(self, flt: IncidentFilter | None = None) -> pd.DataFrame:
        """Return ``month, category, count, cell_key`` (months without incidents are absent).

        ``cell_key`` is the sum of the month's record keys modulo 2**32
        (:func:`spatial.privacy.disclosure.cell_keys`); the key of several months is the sum of
        theirs.
        """
        return self.con.execute(
            "SELECT CAST(date_trunc('month', occurred_from) AS DATE) AS month, category, "
            f"count(*) AS count, CAST(sum({RECORD_KEY_SQL}) % 4294967296 AS UBIGINT) AS cell_key "
            f"FROM incidents WHERE {_WHERE} GROUP BY ALL ORDER BY month, category",
            [self.record_key_secret(), *_params(flt)],
        ).df()

    def yearly_counts(self, municipality: str | None) -> pd.DataFrame:
        """Return ``year, category, count``."""
        return self.con.execute(
            "SELECT CAST(year(occurred_from) AS INTEGER) AS year, category, count(*) AS count "
            f"FROM incidents WHERE {_WHERE} GROUP BY ALL ORDER BY year, category",
            _params(IncidentFilter(municipality=municipality)),
        ).df()

    def yearly_wijk_counts(self, municipality: str | None) -> pd.DataFrame:
        """Return ``year, category, wijk_code, count, cell_key`` per calendar year and wijk.

        Incidents outside every wijk have ``wijk_code`` NULL. ``cell_key`` is the sum of the
        group's record keys modulo 2**32 (:func:`spatial.privacy.disclosure.cell_keys`), so the
        key of several wijken is the sum of theirs.
        """
        return self.con.execute(
            "SELECT CAST(year(occurred_from) AS INTEGER) AS year, category, wijk_code, "
            f"count(*) AS count, CAST(sum({RECORD_KEY_SQL}) % 4294967296 AS UBIGINT) AS cell_key "
            f"FROM incidents WHERE {_WHERE} GROUP BY ALL ORDER BY year, category, wijk_code",
            [self.record_key_secret(), *_params(IncidentFilter(municipality=municipality))],
        ).df()

    def categories(self) -> list[str]:
        """Return the stored categories."""
        return [
            r[0]
            for r in self.con.execute(
                "SELECT DISTINCT category FROM incidents ORDER BY 1"
            ).fetchall()
        ]

    def resolve_category(self, category: str | None, *, prefer: Sequence[str] = ()) -> str:
        """Return the category a request asks for, checked, or the default one.

        The one place where a category is checked against the store and a default chosen
        (the API, OGC, pages, downloads and analyses all call it).

        Parameters
        ----------
        category
            The requested category; None or ``""`` for the default.
        prefer
            Defaults in order of preference: the first of them that is stored; when none is,
            the first stored category (alphabetically).

        Raises
        ------
        NotFoundError
            An unknown category (the message and ``known`` name the stored ones), or nothing
            stored yet.
        """
        return self.resolve_categories((category,) if category else (), prefer=prefer)[0]

    def resolve_categories(
        self, categories: Sequence[str], *, prefer: Sequence[str] = (), every: bool = False
    ) -> list[str]:
        """Return requested categories, checked, or the default ones (see :meth:`resolve_category`).

        Parameters
        ----------
        categories
            The requested categories; empty for the default.
        prefer
            Default: those of these that are stored (in this order), else ``every`` decides.
        every
            When no preferred category is stored: every stored category (True) or the first
            one (False).

        Raises
        ------
        NotFoundError
        """
        stored = self.categories()
        unknown = [c for c in categories if c not in stored]
        if unknown:
            raise NotFoundError(
                f"Soort incident {', '.join(map(repr, unknown))} is niet bekend. "
                f"Bekend: {', '.join(stored) or 'geen'}. / unknown category",
                known=tuple(stored),
            )
        if categories:
            return list(dict.fromkeys(categories))
        if not stored:
            raise NotFoundError("Er zijn nog geen incidenten opgeslagen. / no incidents stored yet")
        preferred = [c for c in prefer if c in stored]
        return preferred or (stored if every else stored[:1])

    def check_municipality(self, municipality: str | None) -> str | None:
        """Return ``municipality`` when the store knows it (None passes).

        Raises
        ------
        NotFoundError
            A municipality the store holds no incidents or areas of (``known`` lists them).
        """
        if not municipality:
            return None
        munis = self.municipalities()
        if municipality not in munis:
            raise NotFoundError(
                f"Gemeente {municipality!r} is niet bekend in deze dienst. "
                f"Bekend: {', '.join(munis) or 'geen'}. / unknown municipality",
                known=tuple(munis),
            )
        return municipality

    def municipalities(self) -> list[str]:
        """Return municipality codes present in incidents or areas."""
        return [
            r[0]
            for r in self.con.execute(
                "SELECT municipality FROM incidents WHERE municipality IS NOT NULL UNION "
                "SELECT municipality FROM areas WHERE municipality IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]

    def data_window(self, flt: IncidentFilter | None = None) -> tuple[date | None, date | None]:
        """Return the first and last occurrence date of the matching incidents."""
        row = self.con.execute(
            "SELECT CAST(min(occurred_from) AS DATE), CAST(max(occurred_from) AS DATE) "
            f"FROM incidents WHERE {_WHERE}",
            _params(flt),
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def lonlat_bounds(
        self, flt: IncidentFilter | None = None
    ) -> tuple[float, float, float, float] | None:
        """Return ``(min lon, min lat, max lon, max lat)`` of the matching incidents, or None."""
        row = self.con.execute(
            f"SELECT min(lon), min(lat), max(lon), max(lat) FROM incidents WHERE {_WHERE}",
            _params(flt),
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))

    def status(self) -> pd.DataFrame:
        """Return ``category, municipality, count, first, last`` for the whole store."""
        return self.con.execute(
            "SELECT category, municipality, count(*) AS count, "
            "CAST(min(occurred_from) AS DATE) AS first, CAST(max(occurred_from) AS DATE) AS last "
            "FROM incidents GROUP BY ALL ORDER BY municipality NULLS LAST, category"
        ).df()

    def quarantine_frame(self, batch_id: str | None = None) -> pd.DataFrame:
        """Return quarantined rows (optionally of one batch)."""
        return self.con.execute(
            "SELECT batch_id, row_number, reason, detail, CAST(raw AS VARCHAR) AS raw "
            "FROM quarantine WHERE (? IS NULL OR batch_id = ?) ORDER BY batch_id, row_number",
            [batch_id, batch_id],
        ).df()

    def settle_interrupted_batch(self, batch_id: str) -> int | None:
        """After an interrupt during :meth:`write_batch`: say whether the batch was stored.

        Ends a transaction the interrupt left open (a Ctrl-C that arrived during COMMIT may
        leave one), so what is reported is what is on disk.

        Returns
        -------
        int or None
            The number of incidents the batch stored, or None when it is not stored.
        """
        with contextlib.suppress(duckdb.TransactionException):
            self.con.execute("ROLLBACK")  # "no transaction is active" when none was left open
        row = self.con.execute(
            "SELECT stored FROM ingest_batches WHERE batch_id = ?", [batch_id]
        ).fetchone()
        return None if row is None else int(row[0])

    def batches(self) -> pd.DataFrame:
        """Return the ingest batches, newest first."""
        return self.con.execute("SELECT * FROM ingest_batches ORDER BY finished_at DESC").df()
