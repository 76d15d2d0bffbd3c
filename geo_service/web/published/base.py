"""The types of a published layer: :class:`Layer`, :class:`LayerQuery`, ``FeatureCollection``.

Each layer lives in one module of :mod:`geo_service.web.published` and is
published by ONE line in :mod:`geo_service.web.published.registry`. A layer is a function from a
:class:`LayerQuery` to a GeoJSON FeatureCollection dict, a minimum role, and an
optional privacy filter that is applied for callers below analyst. Cell layers may also
give their typed per-cell table (:class:`layers.cells.CellTable`) and filter that instead:
the dict is then made only at the edge. The layer modules import this module and the
registry imports them, so the arrows run one way.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from geo_service.config import Role, Settings
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.policy import ViewerPolicy
from layers.cells import CellTable
from spatial.privacy.disclosure import CellKeyPerturbation

FeatureCollection = dict[str, Any]
P = TypeVar("P")


@dataclass(frozen=True)
class LayerQuery:
    """Parameters shared by every layer; a layer ignores those it has no use for.

    Attributes
    ----------
    incidents
        Which incidents (category, municipality, period, bbox).
    res
        H3 resolution of cell layers.
    min_count
        Small-count threshold: viewers never see a count below it.
    permutations
        Gi* conditional permutations.
    max_cells
        Largest study grid this request may compute (lower for anonymous callers).
    disclosure
        How a viewer's layer is published (:class:`spatial.privacy.disclosure.CellKeyPerturbation`).
    params
        The layer's own parameters, typed: an instance of its analysis's ``*Params`` class
        (e.g. :class:`~geo_service.analyses.camera_plan.CameraPlanParams`) holding what the
        caller chose; the layer fills in the incidents and the disclosure from this query.
        None: the ``*Params`` defaults. Frozen and hashable (part of the cache key). The
        defaults live once, in the ``*Params`` class; routes and pages read them from there
        (:func:`geo_service.analyses.default_of`).
    """

    incidents: IncidentFilter = field(default_factory=IncidentFilter)
    res: int = 10
    min_count: int = 5
    permutations: int = 999
    max_cells: int = 300_000
    params: Hashable | None = None
    #: Viewers: the disclosure control the layer publishes with (cell key method); None =
    #: exact values (analysts, or the old rounding rule applied after computing).
    disclosure: CellKeyPerturbation | None = None

    def params_of(self, cls: type[P], **defaults: Any) -> P:
        """Return :attr:`params` when it is a ``cls``, else ``cls(**defaults)``.

        Raises
        ------
        TypeError
            :attr:`params` is set but of another class (a route handed the wrong layer's
            parameters).
        """
        if self.params is None:
            return cls(**defaults)
        if not isinstance(self.params, cls):
            raise TypeError(f"expected {cls.__name__}, got {type(self.params).__name__}")
        return self.params

    @classmethod
    def with_settings(
        cls, settings: Settings, *, analyst: bool = False, **params: Any
    ) -> LayerQuery:
        """Build a query whose thresholds and limits come from the settings."""
        return cls(
            min_count=settings.min_count_k,
            permutations=settings.permutations,
            max_cells=settings.max_cells_analyst if analyst else settings.max_cells_viewer,
            **params,
        )


@dataclass(frozen=True)
class Layer:
    """One published layer.

    Attributes
    ----------
    id
        URL-safe id, also the OGC collection id.
    title
        Dutch title shown in the OGC collections list and the map legend.
    description
        Dutch description (what the figures mean).
    min_role
        Lowest role that may read the layer.
    features
        ``(store, query) -> FeatureCollection``; exact values, no privacy applied.
    viewer_filter
        ``(collection, policy) -> collection`` applied for roles below analyst (the privacy
        model, :mod:`geo_service.web.policy`); None if the layer holds no incident counts.
    table
        ``(store, query) -> CellTable``: the exact layer as a typed per-cell table, whose
        :meth:`~layers.cells.CellTable.to_geojson` is what :attr:`features` returns. When
        set, the service caches the table, not the dict.
    viewer_table_filter
        ``(table, policy) -> table``: the privacy filter of a layer with a :attr:`table`,
        applied for roles below analyst instead of :attr:`viewer_filter`.
    cells
        Whether the layer is an H3 cell layer (viewers are limited to ``viewer_max_res``).
    temporal
        Whether ``start``/``end`` (OGC ``datetime``) filter this layer.
    page
        ``(store, query, offset, limit) -> (features, number matched)`` for layers too large
        to build whole (points): paging happens in SQL. None: slice :attr:`features`.
    per_category
        Whether the layer describes ONE category (hotspots): OGC API - Features then
        publishes one collection per stored category (``<id>-<category>``), since OGC
        clients (GDAL, QGIS) list collections and do not offer a query parameter.
    """

    id: str
    title: str
    description: str
    min_role: Role
    features: Callable[[Store, LayerQuery], FeatureCollection]
    viewer_filter: Callable[[FeatureCollection, ViewerPolicy], FeatureCollection] | None = None
    cells: bool = False
    temporal: bool = False
    page: Callable[[Store, LayerQuery, int, int], tuple[list[dict[str, Any]], int]] | None = None
    table: Callable[[Store, LayerQuery], CellTable] | None = None
    viewer_table_filter: Callable[[CellTable, ViewerPolicy], CellTable] | None = None
    per_category: bool = False

    def __post_init__(self) -> None:
        if self.viewer_table_filter is not None and self.table is None:
            raise ValueError(f"layer {self.id!r} has a viewer_table_filter but no table")
        if self.viewer_table_filter is not None and self.viewer_filter is not None:
            # Two filters could disagree on what a viewer sees: one rule per layer.
            raise ValueError(f"layer {self.id!r} has both viewer filters; give one")

    @property
    def private(self) -> bool:
        """Whether viewers get this layer through a privacy filter (and its query limits)."""
        return self.viewer_filter is not None or self.viewer_table_filter is not None
