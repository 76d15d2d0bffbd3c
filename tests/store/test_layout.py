"""The layout of the incident files: one batch's rows sorted by municipality, category, time.

DuckLake writes a batch as Parquet files of row groups (DuckDB's default: 122,880 rows) with
per-column min/max statistics; a query of one municipality reads only the row groups whose
range can hold it. That works only when the rows are sorted before they are written: with
the rows of five municipalities shuffled, every row group spans all five (each range is the
whole ``GM0001``-``GM0005``), sorted they are disjoint. ``benchmarks/scale.py`` measures what
it buys on 10 million rows.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from geo_service.store import Store
from geo_service.store.core import resolve_location

ROWS = 300_000  # three row groups of 122,880 rows at least


def _shuffled(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "incident_id": [f"L{i}" for i in range(rows)],
            "category": rng.choice(["woninginbraak", "fietsendiefstal"], rows),
            "subtype": None,
            "occurred_from": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 5 * 365 * 24 * 60, rows), unit="min"),
            "occurred_to": pd.NaT,
            "reported_at": pd.NaT,
            "lon": rng.uniform(4.3, 4.4, rows),
            "lat": rng.uniform(52.0, 52.1, rows),
            "x": rng.uniform(80_000, 86_000, rows),
            "y": rng.uniform(447_000, 458_000, rows),
            "metric_crs": "EPSG:28992",
            "tz": "Europe/Amsterdam",
            "municipality": rng.choice([f"GM000{i}" for i in range(1, 6)], rows),
            "wijk_code": None,
            "buurt_code": None,
        }
    )


def test_a_batch_is_written_sorted_so_row_groups_of_one_municipality_are_few(
    tmp_path: Path,
) -> None:
    db = tmp_path / "layout.duckdb"
    with Store.open(db) as store:
        store.write_batch(
            batch_id="b1",
            incidents=_shuffled(ROWS),
            quarantine=pd.DataFrame(columns=["row_number", "reason", "detail", "raw"]),
            meta={
                "file_name": "b1.csv",
                "sha256": "b1",
                "rows_in": ROWS,
                "started_at": datetime.now(UTC).replace(tzinfo=None),
            },
        )
        assert store.count_incidents() == ROWS
    data_path = resolve_location(db).data_path
    assert data_path is not None
    files = sorted(str(p) for p in data_path.rglob("*.parquet"))
    con = duckdb.connect()
    ranges = con.execute(
        "SELECT stats_min, stats_max FROM parquet_metadata(?) "
        "WHERE path_in_schema = 'municipality' ORDER BY stats_min, stats_max",
        [files],
    ).fetchall()
    assert len(ranges) >= 3
    # Sorted rows: consecutive row groups share at most their boundary municipality. Shuffled
    # rows would give every row group the range ('GM0001', 'GM0005').
    for (_, hi), (lo, _) in itertools.pairwise(ranges):
        assert hi <= lo
    holding_gm0003 = [r for r in ranges if r[0] <= "GM0003" <= r[1]]
    assert len(holding_gm0003) <= 2  # ~60,000 rows of 300,000: at most two row groups
    # Inside a row group the rows are in (municipality, category, occurred_from) order.
    rows = con.execute(
        "SELECT municipality, category, occurred_from "
        "FROM read_parquet(?, filename = true, file_row_number = true) "
        "ORDER BY filename, file_row_number",
        [files],
    ).fetchall()
    assert len(rows) == ROWS
    out_of_order = sum(a > b for a, b in itertools.pairwise(rows))
    assert out_of_order <= len(ranges)  # only where one row group ends and the next begins
