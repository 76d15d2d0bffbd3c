"""What every map page shares: checked choices, the caption, the form, gzip-cached responses.

The pages (:mod:`geo_service.web.pages.maps`) and their downloads
(:mod:`geo_service.web.pages.downloads`) build their figures from the same :class:`Choices`
and the same functions, so a download holds what the page shows, under the same privacy rules.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response

from geo_service.config import Settings
from geo_service.errors import NotFoundError, PageInputError, PageNotFoundError
from geo_service.filters import MAX_YEAR, MIN_YEAR, IncidentFilter
from geo_service.store import Store
from geo_service.web.auth import Principal
from geo_service.web.cache import ResponseCache
from geo_service.web.deps import ALWAYS_ALLOWED_PARAMS, ResQuery, unknown_params
from geo_service.web.pages.caption import Caption, DataWindow, build_caption
from geo_service.web.pages.errors import FIELD_LABELS, dutch_message
from geo_service.web.pages.overview import Shown, places_or_error, year_table
from geo_service.web.policy import ViewerPolicy
from geo_service.web.published.base import LayerQuery

Text = Annotated[str | None, Query(max_length=100)]
Method = Literal["gistar", "kde", "emerging"]

RESOLUTIONS = [
    (8, "groot (~0,74 km²)"),
    (9, "middel (~0,11 km²)"),
    (10, "klein (~0,015 km²)"),
    (11, "zeer klein (~0,002 km², analisten)"),
]
METHODS = [
    ("gistar", "Hotspots (Gi*)"),
    ("kde", "Dichtheid (KDE)"),
    ("emerging", "Opkomende hotspots (trend)"),
]


def reject_unknown_page_params(request: Request) -> None:
    """Refuse query parameters a page does not know, in Dutch (400).

    A misspelt parameter silently ignored gives the wrong map; the API refuses them the same
    way (:func:`geo_service.web.deps.reject_unknown_params`).

    Raises
    ------
    PageInputError
    """
    unknown, allowed = unknown_params(request)
    if unknown:
        # The known choices by their form labels (Gemeente, not "municipality").
        known = sorted(FIELD_LABELS.get(k, k) for k in allowed - ALWAYS_ALLOWED_PARAMS)
        raise PageInputError(
            f"Onbekende keuze in het adres: {', '.join(unknown)}. Deze pagina kent: "
            f"{', '.join(known)}."
        )


@dataclass(frozen=True)
class MapParams:
    """The choices of a map: municipality, category, period, resolution, method."""

    municipality: str | None = None
    category: str | None = None
    start: date | None = None
    end: date | None = None
    res: int = 10
    method: Method = "gistar"


def map_params(
    municipality: Text = None,
    category: Text = None,
    start: date | None = None,
    end: date | None = None,
    res: ResQuery = 10,
    method: Method = "gistar",
) -> MapParams:
    """Dependency: the map choices from the query string."""
    return MapParams(municipality, category, start, end, res, method)


MapParamsDep = Annotated[MapParams, Depends(map_params)]


def check_page_period(start: date | None, end: date | None, what: str = "De periode") -> None:
    """Refuse dates outside 1900-2200 and a start after the end, in Dutch.

    Raises
    ------
    PageInputError
    """
    for day in (start, end):
        if day is not None and not MIN_YEAR <= day.year <= MAX_YEAR:
            raise PageInputError(
                f"{what}: de datum {day.isoformat()} ligt buiten het bereik {MIN_YEAR}-{MAX_YEAR}. "
                "Kies een datum waarvoor gegevens bestaan."
            )
    if start is not None and end is not None and start > end:
        raise PageInputError(
            f"{what}: de begindatum ({start.isoformat()}) ligt na de einddatum ({end.isoformat()})."
        )


@dataclass(frozen=True)
class Choices:
    """The choices of a request, checked against the store and the caller's role."""

    municipality: str | None
    category: str | None
    municipalities: list[str]
    categories: list[str]
    names: dict[str, str]
    res: int
    res_note: str | None
    shown: Shown
    window: DataWindow
    demo: bool

    @property
    def place(self) -> str:
        """The municipality's name (or "alle gemeenten")."""
        if not self.municipality:
            return "alle gemeenten"
        return self.names.get(self.municipality, self.municipality)


def _names(store: Store) -> dict[str, str]:
    gm = store.areas_frame(level="gemeente")
    return {str(c): str(n) for c, n in zip(gm.get("code", []), gm.get("name", []), strict=False)}


def resolve(
    store: Store,
    settings: Settings,
    principal: Principal,
    *,
    municipality: str | None,
    category: str | None,
    res: int,
    prefer: tuple[str, ...] = (),
) -> Choices:
    """Check the choices against the store and the role; fill defaults.

    The category is checked and defaulted by :meth:`~geo_service.store.Store.resolve_category`
    (``prefer``: the page's preferred default categories).

    Raises
    ------
    PageNotFoundError
        An unknown municipality or category.
    """
    policy = ViewerPolicy.from_settings(settings)
    viewer = not principal.can("analyst")
    munis = store.municipalities()
    cats = store.categories()
    if municipality and municipality not in munis:
        raise PageNotFoundError(
            f"Gemeente {municipality!r} is niet bekend in deze dienst. Kies een gemeente uit "
            "de lijst op de kaartpagina."
        )
    try:
        category = store.resolve_category(category, prefer=prefer) if cats else None
    except NotFoundError as exc:
        raise PageNotFoundError(str(exc).split(" / ")[0], known=exc.known) from None
    res_note = None
    if viewer and res > policy.max_res:
        res_note = (
            f"Zeshoeken kleiner dan resolutie {policy.max_res} zijn alleen voor analisten "
            f"(privacy); getoond wordt resolutie {policy.max_res}."
        )
        res = policy.max_res
    return Choices(
        municipality=municipality or (munis[0] if munis else None),
        category=category,
        municipalities=munis,
        categories=cats,
        names=_names(store),
        res=res,
        res_note=res_note,
        shown=Shown(policy, viewer, *store.data_window()),
        window=DataWindow.of(store),
        demo=store.has_demo_data(),
    )


@dataclass(frozen=True)
class FormState:
    """What the form shows (``_form.html``)."""

    municipalities: list[tuple[str, str]]
    categories: list[str]
    municipality: str | None
    category: str | None
    res: int
    method: str = "gistar"
    start: date | None = None
    end: date | None = None
    compare_start: date | None = None
    compare_end: date | None = None
    with_category: bool = True
    with_period: bool = True
    with_method: bool = True
    with_compare: bool = False
    res_note: str | None = None
    resolutions: list[tuple[int, str]] = field(default_factory=lambda: list(RESOLUTIONS))
    methods: list[tuple[str, str]] = field(default_factory=lambda: list(METHODS))


def resolve_map(
    store: Store, settings: Settings, principal: Principal, params: MapParams
) -> Choices:
    """Check a map request's period and resolve its choices (the start of every map route).

    Raises
    ------
    InvalidQueryError, NotFoundError
    """
    check_page_period(params.start, params.end)
    return resolve(
        store,
        settings,
        principal,
        municipality=params.municipality,
        category=params.category,
        res=params.res,
    )


def form_state(ch: Choices, **kw: Any) -> FormState:
    """Return the form of a page for these choices."""
    return FormState(
        municipalities=[(m, f"{ch.names.get(m, m)} ({m})") for m in ch.municipalities],
        categories=ch.categories,
        municipality=ch.municipality,
        category=ch.category,
        res=ch.res,
        res_note=ch.res_note,
        **kw,
    )


def layer_query(
    settings: Settings,
    ch: Choices,
    *,
    category: str | None,
    start: date | None,
    end: date | None,
    principal: Principal,
) -> LayerQuery:
    """Return the layer query of these choices for one category and period."""
    return LayerQuery.with_settings(
        settings,
        analyst=principal.can("analyst"),
        incidents=IncidentFilter(
            category=category, municipality=ch.municipality, start=start, end=end
        ),
        res=ch.res,
    )


def caption_for(
    ch: Choices,
    *,
    title: str,
    start: date | None,
    end: date | None,
    requested: tuple[date | None, date | None] = (None, None),
    category: str | None = None,
    method: str | None = None,
    res: int | None = None,
) -> Caption:
    """Return the caption of a page or map of these choices (see :func:`build_caption`)."""
    policy = ch.shown.policy
    return build_caption(
        title=title,
        window=ch.window,
        start=start,
        end=end,
        requested=requested,
        category=category,
        method=method,
        res=res,
        synthetic=ch.demo,
        viewer=ch.shown.viewer,
        min_count=policy.min_count,
        round_to=policy.round_to,
        privacy_text=policy.describe(),
        snap_note=(
            "afgerond op een heel kwartaal, een kalenderjaar of alle gegevens in hele "
            "kwartalen (privacy)"
            if policy.disclosure == "cellkey"
            else "afgerond op hele maanden (privacy)"
        ),
    )


def map_title(ch: Choices, method: str, category: str | None) -> str:
    """Return the title of a map (``"Hotspots woninginbraak in Westland"``)."""
    what = {"gistar": "Hotspots", "emerging": "Opkomende hotspots"}.get(method, "Dichtheid")
    return f"{what} {category or ''} in {ch.place}".replace("  ", " ")


def query_string(**values: Any) -> str:
    """Return a query string of the given values, empty ones left out."""
    return urlencode({k: str(v) for k, v in values.items() if v not in (None, "")})


# -- gzip-cached responses -------------------------------------------------------------------


def cached_gzip(
    request: Request,
    cache: ResponseCache,
    key: Hashable,
    render: Callable[[], bytes],
    media_type: str,
    *,
    filename: str | None = None,
) -> Response:
    """Serve a rendered body, cached gzip-compressed once, with an ETag and 304 support.

    Compressing once at render time (not per response, as a middleware would) keeps the
    large map documents cheap to serve; clients that do not accept gzip get it inflated.
    """
    entry = cache.get(key)
    if entry is None:
        entry = cache.put(key, gzip.compress(render(), compresslevel=6, mtime=0), media_type)
    gz = "gzip" in request.headers.get("accept-encoding", "").lower()
    etag = entry.etag if gz else entry.etag[:-1] + '-identity"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=0, must-revalidate",
        "Vary": "Accept-Encoding, X-API-Key, Authorization",
    }
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        if etag in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
    if gz:
        headers["Content-Encoding"] = "gzip"
        return Response(content=entry.body, media_type=entry.media_type, headers=headers)
    return Response(
        content=gzip.decompress(entry.body), media_type=entry.media_type, headers=headers
    )


def overview_data(
    request: Request,
    store: Store,
    settings: Settings,
    principal: Principal,
    municipality: str | None,
    res: int,
) -> dict[str, Any]:
    """Return the figures of ``/overzicht``: year table and hotspot places per category."""
    ch = resolve(store, settings, principal, municipality=municipality, category=None, res=res)
    caption = caption_for(
        ch,
        title=f"Overzicht veiligheid {ch.place}",
        start=None,
        end=None,
        category="alle soorten",
        method="gistar",
        res=ch.res,
    )
    table = year_table(store, ch.municipality, ch.shown, ch.window)
    sections = []
    for category in ch.categories:
        query = layer_query(
            settings, ch, category=category, start=None, end=None, principal=principal
        )
        places, error = places_or_error(
            request, store, principal, query, ch.shown, place_name=ch.place
        )
        sections.append(
            {
                "category": category,
                "places": places,
                "error": " ".join(dutch_message(error, 400)) if error else None,
                "map_src": "/kaart/kaartlaag?"
                + query_string(
                    municipality=ch.municipality, category=category, res=ch.res, method="gistar"
                ),
            }
        )
    return {"ch": ch, "caption": caption, "table": table, "sections": sections}
