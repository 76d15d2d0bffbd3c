"""The flexible camera plan: proposed sites, fixed cameras (review) and current cameras.

**Analysts only.** Proposed sites are optimised onto recent incident points within 75 m
(the sites are where incidents cluster, on a 25 m grid), with exact incident counts per site
and a window the caller chooses: at street level that locates incidents, which the viewer
rules forbid (README "Privacy model"). It is also an operational plan (where cameras go
next). The camera positions themselves are public in the ``cameras`` layer.
"""

from __future__ import annotations

from dataclasses import replace

from geo_service.store import Store
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery

#: The solver's limit for a plan the service computes while a person waits (the CLI allows
#: longer: ``CameraPlanParams.time_limit_s``).
SERVICE_TIME_LIMIT_S = 20.0


def _camera_plan(store: Store, query: LayerQuery) -> FeatureCollection:
    from geo_service.analyses.camera_plan import (
        CameraPlanParams,
        camera_plan_geojson,
        compute_camera_plan,
    )

    flt = query.incidents
    chosen = query.params_of(CameraPlanParams, time_limit_s=SERVICE_TIME_LIMIT_S)
    params = replace(
        chosen,
        incidents=flt.replace(category=None, bbox=None),
        categories=chosen.categories or ((flt.category,) if flt.category else ()),
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
