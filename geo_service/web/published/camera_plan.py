"""The flexible camera plan: proposed sites, fixed cameras (review) and current cameras.

**Analysts only.** Proposed sites are optimised onto recent incident points within 75 m
(the sites are where incidents cluster, on a 25 m grid), with exact incident counts per site
and a window the caller chooses: at street level that locates incidents, which the viewer
rules forbid (README "Privacy model"). It is also an operational plan (where cameras go
next). The camera positions themselves are public in the ``cameras`` layer.
"""

from __future__ import annotations

from geo_service.store import Store
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery


def _camera_plan(store: Store, query: LayerQuery) -> FeatureCollection:
    from geo_service.analyses.camera_plan import (
        CameraPlanParams,
        camera_plan_geojson,
        compute_camera_plan,
    )

    extra = dict(query.extra)
    flt = query.incidents
    cats = tuple(c for c in extra.get("categories", "").split(",") if c) or (
        (flt.category,) if flt.category else ()
    )
    params = CameraPlanParams(
        incidents=flt.replace(category=None, bbox=None),
        categories=cats,
        count=int(extra.get("count", "22")),
        radius_m=float(extra.get("radius_m", "75")),
        half_life_days=float(extra.get("half_life_days", "90")),
        time_limit_s=20.0,
    )
    return camera_plan_geojson(compute_camera_plan(store, params))


CAMERA_PLAN = Layer(
    id="cameraplan",
    title="Plan flexibele camera's",
    description=(
        "Voorgestelde plekken voor de flexibele camera's (maximale dekking van recente "
        "incidenten binnen 75 m, vaste camera's meegeteld), advies per huidige camera "
        "(laten hangen, verplaatsen, intrekken) en vaste camera's ter beoordeling. Alleen "
        "analisten."
    ),
    min_role="analyst",
    features=_camera_plan,
    temporal=True,
)
