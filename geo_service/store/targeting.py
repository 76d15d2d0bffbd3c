"""Past integrated enforcement actions (IHA): where and when, to penalise a repeat."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import shapely

from geo_service.store.core import StoreBase

# Created on first import (not in the base schema): only stores that use IHA proposals
# carry the table, and a read-only store without it simply has no past actions.
_IHA_TABLE = """CREATE TABLE IF NOT EXISTS iha_actions (
    code VARCHAR NOT NULL,
    name VARCHAR,
    municipality VARCHAR,
    action_date DATE NOT NULL,
    source VARCHAR,
    geom GEOMETRY NOT NULL
)"""
_IHA_COLUMNS = "code, name, municipality, action_date, source"


class TargetingStore(StoreBase):
    """Store methods: past IHA actions (polygons in EPSG:4326 with the action's date)."""

    def upsert_iha_actions(self, frame: pd.DataFrame) -> int:
        """Insert or replace past actions by ``code``; ``frame`` has a ``wkb`` column.

        Returns the number of actions written.
        """
        if frame.empty:
            return 0
        con = self.con

        def block() -> None:
            con.execute(_IHA_TABLE)
            con.register("new_iha", frame)
            con.execute("DELETE FROM iha_actions WHERE code IN (SELECT code FROM new_iha)")
            con.execute(
                f"INSERT INTO iha_actions ({_IHA_COLUMNS}, geom) SELECT {_IHA_COLUMNS}, "
                "ST_GeomFromWKB(wkb) FROM new_iha"
            )
            con.unregister("new_iha")
            self.bump_data_version()

        self.write(block)
        return len(frame)

    def iha_actions_frame(
        self,
        municipality: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> gpd.GeoDataFrame:
        """Return past actions (EPSG:4326) of a municipality dated in ``[since, until]``."""
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'iha_actions'"
        ).fetchone()
        if not exists or not exists[0]:
            return gpd.GeoDataFrame(
                {c.strip(): [] for c in _IHA_COLUMNS.split(",")},
                geometry=gpd.GeoSeries([], crs="EPSG:4326"),
            )
        df = self.con.execute(
            f"SELECT {_IHA_COLUMNS}, ST_AsWKB(geom) AS wkb FROM iha_actions "
            "WHERE (? IS NULL OR municipality = ? OR municipality IS NULL) "
            "AND (? IS NULL OR action_date >= ?) AND (? IS NULL OR action_date <= ?) "
            "ORDER BY action_date, code",
            [municipality, municipality, since, since, until, until],
        ).df()
        geoms = shapely.from_wkb([bytes(b) for b in df.pop("wkb")]) if len(df) else []
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))
