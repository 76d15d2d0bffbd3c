"""Areas (buurt, wijk, ... polygons with dwellings) and cameras."""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo_service.errors import NotFoundError
from geo_service.store.core import StoreBase
from spatial.grid.pip import PolygonGrid

_AREA_COLUMNS = (
    "code, name, level, municipality, dwellings, dwellings_estimated, inhabitants, source"
)


class AreaStore(StoreBase):
    """Store methods: areas and cameras (geometries in EPSG:4326)."""

    # ------------------------------------------------------------------ writes
    def upsert_areas(self, frame: pd.DataFrame) -> int:
        """Insert or replace areas by ``(level, code)``; ``frame`` has a ``wkb`` column.

        Returns the number of rows written.
        """
        if frame.empty:
            return 0
        con = self.con

        def block() -> None:
            con.register("new_areas", frame)
            con.execute(
                "DELETE FROM areas WHERE (level, code) IN (SELECT level, code FROM new_areas)"
            )
            con.execute(
                f"INSERT INTO areas ({_AREA_COLUMNS}, geom) "
                f"SELECT {_AREA_COLUMNS}, ST_GeomFromWKB(wkb) FROM new_areas"
            )
            con.unregister("new_areas")
            self.bump_data_version()

        self.write(block)
        return len(frame)

    def upsert_cameras(self, frame: pd.DataFrame) -> int:
        """Insert or replace cameras by ``camera_id``; returns the number written."""
        if frame.empty:
            return 0
        con = self.con

        def block() -> None:
            con.register("new_cameras", frame)
            con.execute(
                "DELETE FROM cameras WHERE camera_id IN (SELECT camera_id FROM new_cameras)"
            )
            con.execute(
                "INSERT INTO cameras (camera_id, kind, name, lon, lat, municipality, active_from,"
                " active_to, source) SELECT camera_id, kind, name, lon, lat, municipality,"
                " CAST(active_from AS DATE), CAST(active_to AS DATE), source FROM new_cameras"
            )
            con.unregister("new_cameras")
            self.bump_data_version()

        self.write(block)
        return len(frame)

    # ------------------------------------------------------------------ reads
    def areas_frame(
        self, level: str | None = None, municipality: str | None = None
    ) -> gpd.GeoDataFrame:
        """Return areas (EPSG:4326) filtered by level and municipality."""
        df = self.con.execute(
            f"SELECT {_AREA_COLUMNS}, ST_AsWKB(geom) AS wkb FROM areas "
            "WHERE (? IS NULL OR level = ?) AND (? IS NULL OR municipality = ?) "
            "ORDER BY level, code",
            [level, level, municipality, municipality],
        ).df()
        geoms = shapely.from_wkb([bytes(b) for b in df.pop("wkb")]) if len(df) else []
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))

    def municipality_geometry(self, municipality: str) -> BaseGeometry:
        """Return the municipality polygon (EPSG:4326).

        The stored ``gemeente`` area if there is one, else the union of its wijken, else of
        its buurten.

        Raises
        ------
        NotFoundError
            If no area of that municipality is stored.
        """
        for level in ("gemeente", "wijk", "buurt"):
            areas = self.areas_frame(level=level, municipality=municipality)
            if len(areas):
                return shapely.union_all(areas.geometry.to_numpy())
        raise NotFoundError(
            f"no areas stored for municipality {municipality!r} / gemeente onbekend; "
            "import them with `geo-service areas import`"
        )

    def areas_geometry(self) -> BaseGeometry | None:
        """Return the union of all imported area polygons (EPSG:4326), or None if there are none."""
        for level in ("gemeente", "wijk", "buurt", "verzorgingsgebied", "stadsdeel"):
            areas = self.areas_frame(level=level)
            if len(areas):
                others = [
                    self.areas_frame(level=lv).geometry.to_numpy()
                    for lv in ("gemeente", "wijk", "buurt")
                    if lv != level
                ]
                return shapely.union_all(np.concatenate([areas.geometry.to_numpy(), *others]))
        return None

    def points_in_municipality(
        self, municipality: str, lon: npt.ArrayLike, lat: npt.ArrayLike
    ) -> npt.NDArray[np.bool_]:
        """Return, per point, whether it lies in the municipality (raises NotFoundError).

        A point exactly on the boundary counts as inside (covers, not contains).
        """
        geom = self.municipality_geometry(municipality)
        shapely.prepare(geom)
        return np.asarray(
            shapely.intersects_xy(geom, np.asarray(lon, float), np.asarray(lat, float)),
            dtype=bool,
        )

    def areas_fingerprint(self) -> str:
        """Return a token that changes whenever any stored area changes (not with incidents)."""
        row = self.con.execute(
            "SELECT count(*), coalesce(bit_xor(hash(level, code, municipality, "
            "ST_AsWKB(geom))), 0) FROM areas"
        ).fetchone()
        return f"{row[0]}:{row[1]}" if row else "0:0"

    def _area_index(self) -> tuple[threading.Lock, dict[str, tuple[PolygonGrid, pd.DataFrame]]]:
        """Per level a point-in-polygon grid over its areas, and the lock that guards it.

        Shared by the store's cursors (the memo) and keyed by the areas' own fingerprint, so
        new incidents (which bump the data version) do not rebuild it. Its prepared GEOS
        polygons are not safe to use from two threads at once (libgeos/geos#825), and shapely
        releases the GIL: callers hold the lock while they query.
        """

        def build() -> tuple[threading.Lock, dict[str, tuple[PolygonGrid, pd.DataFrame]]]:
            index: dict[str, tuple[PolygonGrid, pd.DataFrame]] = {}
            for level in ("gemeente", "wijk", "buurt"):
                areas = self.areas_frame(level=level)
                if len(areas):
                    index[level] = (PolygonGrid.build(areas.geometry.to_numpy()), areas)
            return threading.Lock(), index

        entry: tuple[threading.Lock, dict[str, tuple[PolygonGrid, pd.DataFrame]]] = (
            self.memo.get_or_compute(("area_index", self.areas_fingerprint()), build)
        )
        return entry

    def areas_for_points(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike
    ) -> dict[str, npt.NDArray[np.object_]]:
        """Point-in-polygon against stored areas: municipality, wijk_code and buurt_code per point.

        Points outside every area get None; a point on a shared border gets the first area
        (areas ordered by code). Vectorised through :class:`spatial.grid.pip.PolygonGrid`: a table
        look-up for points away from borders, the exact test for the rest.
        """
        lo = np.asarray(lon, dtype=np.float64)
        la = np.asarray(lat, dtype=np.float64)
        n = len(lo)
        out = {
            k: np.full(n, None, dtype=object) for k in ("municipality", "wijk_code", "buurt_code")
        }
        lock, index = self._area_index()
        if n == 0 or not index:
            return out
        with lock:
            owners = {level: grid.locate(lo, la) for level, (grid, _) in index.items()}
        for level, (_, areas) in index.items():
            owner = owners[level]
            pt_idx = np.flatnonzero(owner >= 0)
            if pt_idx.size == 0:
                continue
            area_idx = owner[pt_idx]
            codes = areas["code"].to_numpy(dtype=object)[area_idx]
            gms = areas["municipality"].to_numpy(dtype=object)[area_idx]
            if level == "gemeente":
                out["municipality"][pt_idx] = np.where(pd.isna(gms), codes, gms)
                continue
            # Coarse polygons of neighbouring municipalities may overlap at the border: an
            # area only counts for points of its own municipality.
            current = out["municipality"][pt_idx]
            agree = pd.isna(current) | pd.isna(gms) | (current == gms)
            out[f"{level}_code"][pt_idx[agree]] = codes[agree]
            unset = agree & pd.isna(current)
            out["municipality"][pt_idx[unset]] = gms[unset]
        return out

    def cameras_frame(
        self, kind: str | None = None, municipality: str | None = None
    ) -> gpd.GeoDataFrame:
        """Return cameras (EPSG:4326 points) filtered by kind and municipality."""
        df = self.con.execute(
            "SELECT camera_id, kind, name, municipality, active_from, active_to, lon, lat "
            "FROM cameras WHERE (? IS NULL OR kind = ?) AND (? IS NULL OR municipality = ?) "
            "ORDER BY kind, camera_id",
            [kind, kind, municipality, municipality],
        ).df()
        geometry = gpd.points_from_xy(df.pop("lon"), df.pop("lat"), crs="EPSG:4326")
        return gpd.GeoDataFrame(df, geometry=geometry)
