"""The JSON/GeoJSON API under ``/api/v1``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from geo_service.config import Settings
from geo_service.errors import BusyError, InputFileError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.auth import Principal, require
from geo_service.web.deps import (
    BBoxDep,
    CacheDep,
    LimitQuery,
    OffsetQuery,
    PrincipalDep,
    ResQuery,
    SettingsDep,
    StoreDep,
    check_period,
    reject_unknown_params,
)
from geo_service.web.published.base import LayerQuery
from geo_service.web.published.registry import get_layer
from geo_service.web.service import (
    GEOJSON,
    cached_store_response,
    layer_page,
    layer_response,
)
from geo_service.web.uploads import upload_dir

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(reject_unknown_params)])

GEOJSON_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {}}, "description": "GeoJSON FeatureCollection"},
    304: {"description": "Not modified (ETag matched)"},
}

Text = Annotated[str | None, Query(max_length=100)]


@dataclass(frozen=True)
class UploadMapping:
    """The column and category mappings of one upload (those of ``geo-service ingest``)."""

    columns: dict[str, str]
    category_map: dict[str, str]
    only_mapped: bool
    kind: Literal["politie", "melding"] | None = None


@router.get("/hotspots", response_class=Response, responses=GEOJSON_RESPONSE)
def hotspots(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    cache: CacheDep,
    category: Text = None,
    method: Literal["gistar", "kde"] = "gistar",
    res: ResQuery = 10,
    start: date | None = None,
    end: date | None = None,
    municipality: Text = None,
) -> Response:
    """Hotspot cells (H3 hexagons) as GeoJSON with a top-level ``metadata`` object.

    Viewers see counts below ``k`` as ``"<k"`` and no z/p values (see docs/web.md).
    """
    check_period(start, end)
    layer = get_layer("hotspots-gistar" if method == "gistar" else "hotspots-kde")
    query = LayerQuery.with_settings(
        settings,
        analyst=principal.can("analyst"),
        incidents=IncidentFilter(
            category=store.resolve_category(category),
            municipality=store.check_municipality(municipality),
            start=start,
            end=end,
        ),
        res=res,
    )
    return layer_response(request, store, principal, cache, layer, query)


@router.get("/areas", response_class=Response, responses=GEOJSON_RESPONSE)
def areas(
    request: Request,
    store: StoreDep,
    principal: PrincipalDep,
    cache: CacheDep,
    level: Literal["wijk", "buurt"] = "wijk",
    municipality: Text = None,
    bbox: BBoxDep = None,
) -> Response:
    """Wijk or buurt outlines with dwellings and inhabitants."""
    layer = get_layer("wijken" if level == "wijk" else "buurten")
    query = LayerQuery(
        incidents=IncidentFilter(municipality=store.check_municipality(municipality), bbox=bbox)
    )
    return layer_response(request, store, principal, cache, layer, query)


@router.get("/cameras", response_class=Response, responses=GEOJSON_RESPONSE)
def cameras(
    request: Request,
    store: StoreDep,
    principal: PrincipalDep,
    cache: CacheDep,
    municipality: Text = None,
    bbox: BBoxDep = None,
) -> Response:
    """Return fixed and flexible camera locations."""
    query = LayerQuery(
        incidents=IncidentFilter(municipality=store.check_municipality(municipality), bbox=bbox)
    )
    return layer_response(request, store, principal, cache, get_layer("cameras"), query)


@router.get("/incidents", response_class=Response, responses=GEOJSON_RESPONSE)
def incidents(
    request: Request,
    store: StoreDep,
    principal: PrincipalDep,
    cache: CacheDep,
    category: Text = None,
    municipality: Text = None,
    start: date | None = None,
    end: date | None = None,
    bbox: BBoxDep = None,
    limit: LimitQuery = 10_000,
    offset: OffsetQuery = 0,
) -> Response:
    """Incident points (analyst and admin only)."""
    require(principal, "analyst")
    check_period(start, end)
    query = LayerQuery(
        incidents=IncidentFilter(
            category=store.resolve_category(category) if category else None,
            municipality=store.check_municipality(municipality),
            start=start,
            end=end,
            bbox=bbox,
        )
    )

    def produce() -> dict[str, Any]:
        feats, matched = layer_page(
            request, store, get_layer("incidents"), query, principal, offset, limit
        )
        return {"type": "FeatureCollection", "numberMatched": matched, "features": feats}

    return cached_store_response(request, cache, store, principal, produce)


@router.post("/incidents")
def ingest(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    file: Annotated[
        UploadFile,
        File(description="CSV (.csv, .csv.gz), GeoJSON, GeoPackage or (Geo)Parquet file"),
    ],
    category: Annotated[str | None, Form(max_length=100)] = None,
    municipality: Annotated[str | None, Form(max_length=100)] = None,
    crs: Annotated[str | None, Form(max_length=100)] = None,
    tz: Annotated[
        str | None,
        Form(max_length=64, description="IANA time zone of naive timestamps (default: detected)"),
    ] = None,
    columns: Annotated[
        str | None,
        Form(
            max_length=2000,
            description="map canonical columns to the file's, as `geo-service ingest --columns`: "
            "`incident_id=Registratienummer,occurred_from=Pleegdatum,x=X-coordinaat,"
            "y=Y-coordinaat`; canonical: incident_id, occurred_from, occurred_to, reported_at, "
            "lon, lat, x, y, category, subtype",
        ),
    ] = None,
    category_map: Annotated[
        str | None,
        Form(
            max_length=4000,
            description="map category values, as `--category-map`: "
            "`Burglary=woninginbraak,Anti-social behaviour=jeugdoverlast`",
        ),
    ] = None,
    only_mapped: Annotated[
        bool,
        Form(
            description="leave out (count as skipped) rows whose category is not in "
            "category_map, as `--only-mapped`"
        ),
    ] = False,
    kind: Annotated[
        Literal["politie", "melding"] | None,
        Form(
            description="what the records are, as `--kind`: `politie` (police registrations) or "
            "`melding` (residents' reports to the municipality, e.g. overlast jeugd; kept apart "
            "from police counts everywhere); default: the kind the category already has"
        ),
    ] = None,
) -> dict[str, Any]:
    """Ingest an uploaded incident file (admin only); returns the ingest accounting.

    Takes the same mappings as ``geo-service ingest``: ``columns``, ``category_map``,
    ``only_mapped`` and ``tz``. An unknown or unmappable column is a 422 with a Dutch and
    English ``detail``. One upload at a time: a second concurrent upload gets 409 with
    ``Retry-After``.
    """
    from geo_service.ingest import parse_mapping

    require(principal, "admin")
    mapping = UploadMapping(
        columns=parse_mapping(columns),
        category_map=parse_mapping(category_map),
        only_mapped=only_mapped,
        kind=kind,
    )
    lock = request.app.state.write_lock
    if not lock.acquire(blocking=False):
        raise BusyError(
            "another upload is being ingested; try again in a few seconds / er wordt al een "
            "bestand ingelezen, probeer het zo opnieuw"
        )
    try:
        result = _ingest_upload(
            store, settings, principal, file, category, municipality, crs, tz, mapping
        )
    finally:
        lock.release()
    # The ingest report's own counts: rows written to the store, rows put in quarantine.
    request.app.state.metrics.record_ingest(int(result["stored"]), int(result["quarantined"]))
    return result


def _ingest_upload(
    store: Store,
    settings: Settings,
    principal: Principal,
    file: UploadFile,
    category: str | None,
    municipality: str | None,
    crs: str | None,
    tz: str | None,
    mapping: UploadMapping,
) -> dict[str, Any]:
    from geo_service.ingest import ReadLimits, ingest_file

    name = Path(file.filename or "upload.csv").name
    suffix = "".join(Path(name).suffixes[-2:]) or ".csv"
    with upload_dir() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        size = 0
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise InputFileError(
                        f"upload larger than {settings.max_upload_bytes} bytes "
                        "/ bestand is te groot"
                    )
                out.write(chunk)
        try:
            report = ingest_file(
                store,
                path,
                category=category,
                municipality=municipality,
                crs=crs,
                tz=tz,
                default_tz=settings.timezone,
                columns=mapping.columns,
                category_map=mapping.category_map,
                only_mapped=mapping.only_mapped,
                kind=mapping.kind,
                actor=principal.actor,
                limits=ReadLimits(
                    max_bytes=settings.max_upload_decompressed_bytes,
                    max_rows=settings.max_upload_rows,
                ),
            )
        except InputFileError as exc:
            # Never show a server path: the temporary file's name becomes the upload's name.
            text = str(exc).replace(str(path), name).replace(path.name, name).replace(tmp, "")
            raise type(exc)(text) from None
        except duckdb.TransactionException:
            raise BusyError(
                "the store was changed by another write at the same moment; try again / "
                "gelijktijdige wijziging, probeer het opnieuw"
            ) from None
    result: dict[str, Any] = json.loads(report.to_json())
    store.audit(
        principal.actor,
        principal.role,
        "incidents.ingest",
        {"file": name, "bytes": size, **{k: result.get(k) for k in ("batch_id", "stored")}},
    )
    return result
