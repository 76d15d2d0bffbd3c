"""Incidents, ingest batches and the quarantine.

Dates: ``start`` is inclusive and ``end`` is inclusive (a whole day), both on ``occurred_from``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from geo_service.store.core import StoreBase

_INCIDENT_COLUMNS = (
    "incident_id, category, subtype, occurred_from, occurred_to, reported_at, lon, lat, x, y,"
    " metric_crs, municipality, wijk_code, buurt_code"
)

# Shared filter; every value is a bound parameter (see _params).
_WHERE = (
    "(? IS NULL OR category = ?) AND (? IS NULL OR municipality = ?)"
    " AND (? IS NULL OR occurred_from >= ?) AND (? IS NULL OR occurred_from < ?)"
    " AND (? IS NULL OR (lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?))"
)

BBox = tuple[float, float, float, float]


def _params(
    category: str | None,
    municipality: str | None,
    start: date | None,
    end: date | None,
    bbox: BBox | None,
) -> list[Any]:
    end_excl = (end + timedelta(days=1)) if end is not None else None
    has_bbox = None if bbox is None else True
    b = bbox or (None, None, None, None)
    return [
        category,
        category,
        municipality,
        municipality,
        start,
        start,
        end_excl,
        end_excl,
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
    ) -> int:
        """Write one ingest batch atomically; returns the number of new incidents stored.

        Incidents whose id is already stored are not written (they are the batch's
        duplicates). Everything happens in one transaction: any exception, including
        ``KeyboardInterrupt``, rolls the whole batch back.
        """
        con = self.con
        with self.transaction():
            con.register("batch_incidents", incidents)
            before = self._count_all()
            con.execute(
                f"INSERT INTO incidents ({_INCIDENT_COLUMNS}, batch_id) "
                f"SELECT {_INCIDENT_COLUMNS}, ? FROM batch_incidents b "
                "WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.incident_id = b.incident_id)",
                [batch_id],
            )
            stored = self._count_all() - before
            con.unregister("batch_incidents")
            self._write_quarantine(batch_id, quarantine)
            con.execute(
                "INSERT INTO ingest_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    datetime.now(),
                ],
            )
            if stored:
                self.bump_data_version()
        return stored

    def _write_quarantine(self, batch_id: str, quarantine: pd.DataFrame) -> None:
        if quarantine.empty:
            return
        self.con.register("batch_quarantine", quarantine)
        self.con.execute(
            "INSERT INTO quarantine SELECT ?, row_number, reason, detail, CAST(raw AS JSON) "
            "FROM batch_quarantine",
            [batch_id],
        )
        self.con.unregister("batch_quarantine")

    def _count_all(self) -> int:
        row = self.con.execute("SELECT count(*) FROM incidents").fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ reads
    def incident_points(
        self,
        category: str | None = None,
        municipality: str | None = None,
        start: date | None = None,
        end: date | None = None,
        bbox: BBox | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Return incidents (both ends of the period inclusive; bbox in WGS84 lon/lat)."""
        return self.con.execute(
            f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE {_WHERE} "
            "ORDER BY occurred_from, incident_id LIMIT ? OFFSET ?",
            [*_params(category, municipality, start, end, bbox), limit, offset],
        ).df()

    def count_incidents(
        self,
        category: str | None = None,
        municipality: str | None = None,
        start: date | None = None,
        end: date | None = None,
        bbox: BBox | None = None,
    ) -> int:
        """Return the number of incidents matching the filter."""
        row = self.con.execute(
            f"SELECT count(*) FROM incidents WHERE {_WHERE}",
            _params(category, municipality, start, end, bbox),
        ).fetchone()
        return int(row[0]) if row else 0

    def monthly_counts(
        self,
        category: str | None,
        municipality: str | None,
        start: date | None = None,
        end: date | None = None,
    ) -> pd.DataFrame:
        """Return ``month, category, count`` (months without incidents are absent)."""
        return self.con.execute(
            "SELECT CAST(date_trunc('month', occurred_from) AS DATE) AS month, category, "
            f"count(*) AS count FROM incidents WHERE {_WHERE} "
            "GROUP BY ALL ORDER BY month, category",
            _params(category, municipality, start, end, None),
        ).df()

    def yearly_counts(self, municipality: str | None) -> pd.DataFrame:
        """Return ``year, category, count``."""
        return self.con.execute(
            "SELECT CAST(year(occurred_from) AS INTEGER) AS year, category, count(*) AS count "
            f"FROM incidents WHERE {_WHERE} GROUP BY ALL ORDER BY year, category",
            _params(None, municipality, None, None, None),
        ).df()

    def categories(self) -> list[str]:
        """Return the stored categories."""
        return [
            r[0]
            for r in self.con.execute(
                "SELECT DISTINCT category FROM incidents ORDER BY 1"
            ).fetchall()
        ]

    def municipalities(self) -> list[str]:
        """Return municipality codes present in incidents or areas."""
        return [
            r[0]
            for r in self.con.execute(
                "SELECT municipality FROM incidents WHERE municipality IS NOT NULL UNION "
                "SELECT municipality FROM areas WHERE municipality IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]

    def data_window(
        self, category: str | None = None, municipality: str | None = None
    ) -> tuple[date | None, date | None]:
        """Return the first and last occurrence date of the matching incidents."""
        row = self.con.execute(
            "SELECT CAST(min(occurred_from) AS DATE), CAST(max(occurred_from) AS DATE) "
            f"FROM incidents WHERE {_WHERE}",
            _params(category, municipality, None, None, None),
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

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

    def batches(self) -> pd.DataFrame:
        """Return the ingest batches, newest first."""
        return self.con.execute("SELECT * FROM ingest_batches ORDER BY finished_at DESC").df()
