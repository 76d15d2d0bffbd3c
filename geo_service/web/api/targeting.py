"""The targeting layers in the JSON API: ``/api/v1/priorities``, ``/iha``, ``/camera-plan``.

Each route only checks its parameters and asks :func:`geo_service.web.service.layer_collection`
for the published layer (role check, viewer rules, cache); the layers are in
:mod:`geo_service.web.published` (``prioriteiten``, ``iha-voorstellen``, ``cameraplan``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from geo_service.analyses import default_of
from geo_service.analyses.camera_plan import CameraPlanParams
from geo_service.analyses.iha import IHAParams
from geo_service.analyses.priorities import DEFAULT_CATEGORY, PriorityParams
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
from geo_service.web.published.camera_plan import SERVICE_TIME_LIMIT_S
from geo_service.web.published.registry import get_layer
from geo_service.web.service import GEOJSON, layer_response

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(reject_unknown_params)])

Text = Annotated[str | None, Query(max_length=100)]
RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {GEOJSON: {}}, "description": "GeoJSON FeatureCollection with metadata"},
    304: {"description": "Not modified (ETag matched)"},
}


def _categories(store: StoreDep, categories: str | None) -> tuple[str, ...]:
    """Return the comma-separated ``categories`` checked against the store (empty: default)."""
    chosen = [c.strip() for c in (categories or "").split(",") if c.strip()]
    return tuple(store.resolve_categories(chosen)) if chosen else ()


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
    level: Literal["wijk", "buurt", "verzorgingsgebied", "stadsdeel", "gemeente"] = default_of(
        PriorityParams, "level"
    ),
    years: Annotated[int, Query(ge=1, le=20)] = default_of(PriorityParams, "years"),
    as_of: date | None = None,
    municipality: Text = None,
) -> Response:
    """Burglary priorities per area (Driehoek) with rank and 90 % rank interval.

    Polygons with counts per year, dwellings, risk (raw and Empirical Bayes), trend and hot
    spot share. Viewers: counts below ``k`` null, others rounded; no score or exact risk.
    """
    check_period(as_of, None)
    incidents = IncidentFilter(
        category=store.resolve_category(category, prefer=(DEFAULT_CATEGORY,)),
        municipality=store.check_municipality(municipality),
    )
    query = LayerQuery.with_settings(
        settings,
        analyst=principal.can("analyst"),
        incidents=incidents,
        params=PriorityParams(incidents=incidents, level=level, years=years, as_of=as_of),
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
    count: Annotated[int, Query(ge=1, le=30)] = default_of(IHAParams, "count"),
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
        incidents=IncidentFilter(
            municipality=store.check_municipality(municipality), start=start, end=end
        ),
        res=res,
        params=IHAParams(categories=_categories(store, categories), count=count, res=res),
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
    count: Annotated[int, Query(ge=1, le=50)] = default_of(CameraPlanParams, "count"),
    radius_m: Annotated[float, Query(ge=10, le=250)] = default_of(CameraPlanParams, "radius_m"),
    half_life_days: Annotated[float, Query(ge=0, le=3650)] = default_of(
        CameraPlanParams, "half_life_days"
    ),
    start: date | None = None,
    end: date | None = None,
    municipality: Text = None,
) -> Response:
    """Flexible camera plan: proposed sites, advice per current camera (analysts only)."""
    check_period(start, end)
    query = LayerQuery.with_settings(
        settings,
        analyst=principal.can("analyst"),
        incidents=IncidentFilter(
            municipality=store.check_municipality(municipality), start=start, end=end
        ),
        params=CameraPlanParams(
            categories=_categories(store, categories),
            count=count,
            radius_m=float(radius_m),
            half_life_days=float(half_life_days),
            time_limit_s=SERVICE_TIME_LIMIT_S,
        ),
    )
    return _serve(request, store, principal, cache, "cameraplan", query)
