"""IHA proposals: walkable action areas for an integrated enforcement action.

**Analysts only.** A proposal set is an operational plan: where the municipality, police
and partners intend to act, which announced beforehand defeats the action; and each
proposal carries incident counts per category for a specific area of 0.2-1.5 km2 and a
window the caller chooses (the composite index follows single incidents where there are
few). The aggregated, published view of the same problem is the priorities layer and the
hot spot layers, which follow the viewer rules.
"""

from __future__ import annotations

from dataclasses import replace

from geo_service.store import Store
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery


def _iha(store: Store, query: LayerQuery) -> FeatureCollection:
    from geo_service.analyses.iha import IHAParams, compute_iha, iha_geojson

    flt = query.incidents
    chosen = query.params_of(IHAParams)
    params = replace(
        chosen,
        incidents=flt.replace(category=None, bbox=None),
        categories=chosen.categories or ((flt.category,) if flt.category else ()),
        res=query.res,
    )
    return iha_geojson(compute_iha(store, params))


IHA = Layer(
    id="iha-voorstellen",
    title="Voorstellen integrale handhavingsacties (IHA)",
    description=(
        "Loopbare actiegebieden (0,2-1,5 km2) waar woninginbraak en jeugdoverlast samenkomen "
        "(samengestelde Gi*-index), niet overlappend en met tussenruimte; met incidenten per "
        "soort, de wijken en waarom elk voorstel voor het volgende gaat. Alleen analisten."
    ),
    min_role="analyst",
    features=_iha,
    temporal=True,
)
