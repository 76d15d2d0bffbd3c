"""The targeting layers in the JSON API: ``/api/v1/priorities``, ``/iha``, ``/camera-plan``.

Each route only checks its parameters and asks :func:`geo_service.web.service.layer_collection`
for the published layer (role check, viewer rules, cache); the layers are in
:mod:`geo_service.web.published` (``prioriteiten``, ``iha-voorstellen``, ``cameraplan``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from geo_service.filters import IncidentFilter
from geo_service.web.deps import (
    CacheDep,
    PrincipalDep,
    ResQuery,
    SettingsDep,
    StoreDep,
    check_period,
    reject_unknown_params,
)
from geo_service.web.published.base import LayerQuery
from geo_service.web.published.registry import get_layer
from geo_service.web.service import GEOJSON, layer_response

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(reject_unknown_params)])

Text = Annotated[str | None, Query(max_length=100)]
RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {GEOJSON: {}}, "description": "GeoJSON FeatureCollection with metadata"},
    304: {"description": "Not modified (ETag matched)"},
}


def _serve(
    request: Request,
    store: StoreDep,
    principal: PrincipalDep,
    cache: CacheDep,
    layer_id: str,
    query: LayerQuery,
) -> Response:
    return layer_response(request, store, principal, cache, get_layer(layer_id), query)


@router.get("/priorities", response_class=Response, responses=RESPONSES)
def priorities(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    cache: CacheDep,
    category: Text = None,
    level: Literal["wijk", "buurt", "verzorgingsgebied", "stadsdeel", "gemeente"] = "wijk",
    years: Annotated[int, Query(ge=1, le=20)] = 3,
    as_of: date | None = None,
    municipality: Text = None,
) -> Response:
    """Burglary priorities per area (Driehoek) with rank and 90 % rank interval.

    Polygons with counts per year, dwellings, risk (raw and Empirical Bayes), trend and hot
    spot share. Viewers: counts below ``k`` null, others rounded; no score or exact risk.
    """
    check_period(as_of, None)
    query = LayerQuery.with_settings(
        settings,
        analyst=principal.can("analyst"),
        incidents=IncidentFilter(category=category, municipality=municipality),
        extra=(
            ("level", level),
            ("years", str(years)),
            ("as_of", as_of.isoformat() if as_of else ""),
        ),
    )
    return _serve(request, store, principal, cache, "prioriteiten", query)


@router.get("/iha", response_class=Response, responses=RESPONSES)
def iha(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    cache: CacheDep,
    categories: Text = None,
    count: Annotated[int, Query(ge=1, le=30)] = 10,
    start: date | None = None,
    end: date | None = None,
    municipality: Text = None,
    res: ResQuery = 10,
) -> Response:
    """IHA proposals: walkable action areas with a Dutch reason each (analysts only)."""
    check_period(start, end)
    query = LayerQuery.with_settings(
        settings,
        analyst=principal.can("analyst"),
        incidents=IncidentFilter(municipality=municipality, start=start, end=end),
        res=res,
        extra=(("categories", categories or ""), ("count", str(count))),
    )
    return _serve(request, store, principal, cache, "iha-voorstellen", query)


@router.get("/camera-plan", response_class=Response, responses=RESPONSES)
def camera_plan(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    cache: CacheDep,
    categories: Text = None,
    count: Annotated[int, Query(ge=1, le=50)] = 22,
    radius_m: Annotated[float, Query(ge=10, le=250)] = 75.0,
    half_life_days: Annotated[float, Query(ge=0, le=3650)] = 90.0,
    start: date | None = None,
    end: date | None = None,
    municipality: Text = None,
) -> Response:
    """Flexible camera plan: proposed sites, advice per current camera (analysts only)."""
    check_period(start, end)
    query = LayerQuery.with_settings(
        settings,
        analyst=principal.can("analyst"),
        incidents=IncidentFilter(municipality=municipality, start=start, end=end),
        extra=(
            ("categories", categories or ""),
            ("count", str(count)),
            ("radius_m", repr(float(radius_m))),
            ("half_life_days", repr(float(half_life_days))),
        ),
    )
    return _serve(request, store, principal, cache, "cameraplan", query)
