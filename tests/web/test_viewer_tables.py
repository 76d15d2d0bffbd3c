"""The viewer filters of the hotspot layers, on typed per-cell tables.

Reference: ``_reference_gistar`` and ``_reference_kde`` below are the dict-based filters the
service used before the tables (``geo_service/web/privacy.py`` ``suppress_gistar`` and
``suppress_kde`` at commit 357d1b9), copied here unchanged, as the independent
implementation the vectorised filters must agree with feature for feature, byte for byte.
They implement the old rounding rule (``viewer_disclosure="rounding"``), which the filters
still apply when the cell key method is switched off.
"""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo_service.analyses.hotspots import HotspotParams, compute_hotspots
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.auth import Principal
from geo_service.web.policy import ViewerPolicy
from geo_service.web.privacy import (
    GISTAR_HIDDEN,
    _viewer_metadata,
    suppress_props,
    viewer_gistar_table,
    viewer_kde_table,
)
from geo_service.web.published.base import Layer, LayerQuery
from geo_service.web.published.hotspots import GISTAR, KDE, hotspot_collection, hotspot_table
from geo_service.web.service import CollectionCache, cache_weight, layer_collection
from layers.cells import CellTable
from layers.geojson import cells_feature_collection
from tests.web_fixtures import DemoDB, demo_db, web_settings

__all__ = ["demo_db"]

FeatureCollection = dict[str, Any]

POLICIES = [
    ViewerPolicy(min_count=5, round_to=5, disclosure="rounding"),  # the defaults
    ViewerPolicy(min_count=3, round_to=1, disclosure="rounding"),
    ViewerPolicy(min_count=10, round_to=4, disclosure="rounding"),
    ViewerPolicy(min_count=20, round_to=0, disclosure="rounding"),  # round_to 0: steps of 1
]


# -- the reference: the dict-based filters as they were ---------------------------------------


def _reference_gistar(fc: FeatureCollection, policy: ViewerPolicy) -> FeatureCollection:
    out = {key: val for key, val in fc.items() if key not in ("features", "metadata")}
    out["metadata"] = _viewer_metadata(fc.get("metadata"), policy)
    feats = []
    for feat in fc.get("features", []):
        raw = dict(feat.get("properties") or {})
        hood = raw.pop("n_neighbourhood", None)
        props = suppress_props(raw, ("count",), policy)
        if hood is None or hood < policy.min_count:
            props["gi_class"] = 0
            props["gi_class_fdr"] = 0
            props["gi_significant_fdr"] = False
        for name in GISTAR_HIDDEN:
            props.pop(name, None)
        feats.append({**feat, "properties": props})
    feats.sort(key=lambda f: bool(f["properties"].get("suppressed")))
    out["features"] = feats
    return out


def _reference_kde(fc: FeatureCollection, policy: ViewerPolicy) -> FeatureCollection:
    out = {key: val for key, val in fc.items() if key not in ("features", "metadata")}
    out["metadata"] = _viewer_metadata(fc.get("metadata"), policy)
    feats = []
    for feat in fc.get("features", []):
        count = (feat.get("properties") or {}).get("count")
        if isinstance(count, int | float) and count >= policy.min_count:
            kept = copy.deepcopy(feat)
            props = kept.get("properties") or {}
            props.pop("n_neighbourhood", None)
            kept["properties"] = suppress_props(props, ("count",), policy)
            feats.append(kept)
    out["features"] = feats
    return out


def _assert_same(got: FeatureCollection, want: FeatureCollection) -> None:
    assert got == want
    # Byte for byte per feature: property order and JSON types (an int count is not 5.0).
    assert len(got["features"]) == len(want["features"])
    for g, w in zip(got["features"], want["features"], strict=True):
        assert orjson.dumps(g) == orjson.dumps(w)
    assert orjson.dumps(got["metadata"]) == orjson.dumps(want["metadata"])


# -- on real computed layers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(demo_db: DemoDB):
    s = Store.open(demo_db.path, read_only=True)
    yield s
    s.close()


def _query(category: str, res: int) -> LayerQuery:
    flt = IncidentFilter(category=category, municipality="GM0518")
    return LayerQuery(incidents=flt, res=res, permutations=99)


LAYERS = [(cat, res) for cat in ("woninginbraak", "jeugdoverlast") for res in (9, 10)]


@pytest.fixture(scope="module")
def gistar_tables(store: Store) -> dict[tuple[str, int], CellTable]:
    return {key: hotspot_table(store, _query(*key), "gistar") for key in LAYERS}


@pytest.fixture(scope="module")
def kde_tables(store: Store) -> dict[tuple[str, int], CellTable]:
    return {key: hotspot_table(store, _query(*key), "kde") for key in LAYERS}


def test_exact_table_geojson_is_what_analysts_got(store: Store) -> None:
    """``table().to_geojson()`` is the collection the adapter built before the tables."""
    for method in ("gistar", "kde"):
        flt = IncidentFilter(category="woninginbraak", municipality="GM0518")
        layer = compute_hotspots(
            store, HotspotParams(incidents=flt, method=method, res=9, permutations=99)
        )
        assert layer.area is not None
        before = cells_feature_collection(
            layer.area.hex_ids, layer.area.rings, layer.properties, layer.metadata
        )
        _assert_same(layer.table().to_geojson(), before)
        assert [f["id"] for f in before["features"]] == layer.area.hex_ids
        # Without a study area the table comes from the grid: the same cells and rings.
        bare = type(layer)(grid=layer.grid, properties=layer.properties, metadata=layer.metadata)
        _assert_same(bare.table().to_geojson(), before)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: f"k{p.min_count}r{p.round_to}")
def test_gistar_table_filter_equals_the_dict_filter(
    gistar_tables: dict[tuple[str, int], CellTable], policy: ViewerPolicy
) -> None:
    for table in gistar_tables.values():
        exact = table.to_geojson()
        _assert_same(
            viewer_gistar_table(table, policy).to_geojson(), _reference_gistar(exact, policy)
        )


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: f"k{p.min_count}r{p.round_to}")
def test_kde_table_filter_equals_the_dict_filter(
    kde_tables: dict[tuple[str, int], CellTable], policy: ViewerPolicy
) -> None:
    for table in kde_tables.values():
        exact = table.to_geojson()
        _assert_same(viewer_kde_table(table, policy).to_geojson(), _reference_kde(exact, policy))


def test_the_real_layers_exercise_every_rule(
    gistar_tables: dict[tuple[str, int], CellTable],
) -> None:
    """The equivalence tests can fail: the layers hold each case the rules distinguish."""
    seen = dict.fromkeys(("withheld", "shown", "rounded", "thin classed", "kept class"), False)
    for table in gistar_tables.values():
        count = table.properties["count"]
        hood = table.properties["n_neighbourhood"]
        cls = table.properties["gi_class"]
        for policy in POLICIES:
            k, step = policy.min_count, max(1, policy.round_to)
            seen["withheld"] |= bool(((count > 0) & (count < k)).any())
            seen["shown"] |= bool((count >= k).any())
            seen["rounded"] |= bool(((count >= k) & (count % step != 0)).any())
            seen["thin classed"] |= bool(((hood < k) & (cls != 0)).any())
            seen["kept class"] |= bool(((hood >= k) & (cls != 0)).any())
    assert all(seen.values()), seen


# -- hand-computed cases -----------------------------------------------------------------------

RING = [[[5.0, 51.0], [5.001, 51.0], [5.0, 51.001], [5.0, 51.0]]]


def _hand_table() -> CellTable:
    return CellTable.from_cells(
        ["a", "b", "c", "d", "e"],
        [RING] * 5,
        {
            "count": np.array([2, 6, 0, 12, 8], dtype=np.int64),
            "n_neighbourhood": np.array([4, 9, 5, 30, 7], dtype=np.int64),
            "gi_z": np.array([2.0, 2.5, 3.0, -2.0, 0.1]),
            "gi_p": np.full(5, 0.01),
            "gi_p_sim": np.full(5, 0.01),
            "gi_p_fdr": np.full(5, 0.02),
            "gi_class": np.array([1, 2, 3, -1, 0], dtype=np.int8),
            "gi_class_fdr": np.array([1, 2, 3, -1, 0], dtype=np.int8),
            "gi_significant_fdr": np.array([True, True, True, True, False]),
        },
        {"n_incidents": 28, "h3_resolution": 10, "data_window": {"first_incident": "2024-01-02"}},
    )


def test_gistar_table_filter_by_hand() -> None:
    """k=5, round_to=5: counts 2, 0 withheld; 6 -> 5, 12 -> 10, 8 -> 10; cell a is thin."""
    fc = viewer_gistar_table(
        _hand_table(), ViewerPolicy(min_count=5, round_to=5, disclosure="rounding")
    ).to_geojson()
    rows = [
        (
            f["id"],
            p["count"],
            p["gi_class"],
            p["gi_class_fdr"],
            p["gi_significant_fdr"],
            p["suppressed"],
            p["min_count"],
        )
        for f in fc["features"]
        for p in [f["properties"]]
    ]
    assert rows == [
        ("b", 5, 2, 2, True, False, 5),
        ("d", 10, -1, -1, True, False, 5),
        ("e", 10, 0, 0, False, False, 5),
        ("a", None, 0, 0, False, True, 5),  # neighbourhood 4 < 5: class withheld too
        ("c", None, 3, 3, True, True, 5),  # neighbourhood 5: its class stands
    ]
    assert list(fc["features"][0]["properties"]) == [
        "h3",
        "count",
        "gi_class",
        "gi_class_fdr",
        "gi_significant_fdr",
        "suppressed",
        "min_count",
    ]
    meta = fc["metadata"]
    assert "n_incidents" not in meta and meta["data_window"] == {}
    assert meta["min_count_k"] == 5 and meta["h3_resolution"] == 10


def test_kde_table_filter_by_hand() -> None:
    table = _hand_table().drop(*GISTAR_HIDDEN, "gi_class", "gi_class_fdr", "gi_significant_fdr")
    table = table.with_columns({"kde_density": np.array([0.1, 0.2, 0.0, 0.4, 0.3])})
    fc = viewer_kde_table(
        table, ViewerPolicy(min_count=5, round_to=5, disclosure="rounding")
    ).to_geojson()
    assert [f["properties"] for f in fc["features"]] == [
        {"h3": "b", "count": 5, "kde_density": 0.2, "suppressed": False, "min_count": 5},
        {"h3": "d", "count": 10, "kde_density": 0.4, "suppressed": False, "min_count": 5},
        {"h3": "e", "count": 10, "kde_density": 0.3, "suppressed": False, "min_count": 5},
    ]


def test_filters_without_counts_or_neighbourhood() -> None:
    """A table without ``n_neighbourhood`` is thin everywhere; without ``count``, KDE is empty."""
    policy = ViewerPolicy(min_count=5, round_to=5, disclosure="rounding")
    table = _hand_table().drop("n_neighbourhood")
    fc = viewer_gistar_table(table, policy).to_geojson()
    assert {f["properties"]["gi_class_fdr"] for f in fc["features"]} == {0}
    assert _reference_gistar(table.to_geojson(), policy) == fc
    assert len(viewer_kde_table(table.drop("count"), policy)) == 0
    empty = viewer_gistar_table(table.take([]), policy).to_geojson()
    assert empty["features"] == [] and empty["metadata"]["min_count_k"] == 5


def test_exact_table_is_not_changed_by_the_filters() -> None:
    table = _hand_table()
    before = table.to_geojson()
    viewer_gistar_table(table, ViewerPolicy(disclosure="rounding"))
    viewer_kde_table(table, ViewerPolicy(disclosure="rounding"))
    assert table.to_geojson() == before


# -- the count rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "round_to", "values", "expected"),
    [
        # k - 1, k, k + 1 (round_to 1: no rounding)
        (5, 1, [4, 5, 6], [None, 5, 6]),
        (1, 1, [0, 1, 2], [None, 1, 2]),
        # default policy: k - 1, k, k + 1, then half up at 7.5 and 12.5
        (5, 5, [4, 5, 6], [None, 5, 5]),
        (5, 5, [7, 7.49, 7.5, 8, 12, 12.5, 13], [5, 5, 10, 10, 10, 15, 15]),
        # half up: 10 / 4 = 2.5 -> 3 steps
        (10, 4, [9, 10, 11, 13, 14], [None, 12, 12, 12, 16]),
        # never rounded below k: 10 and 11 round to 8 (step 8) but k is 10
        (10, 8, [9, 10, 11, 12, 13], [None, 10, 10, 16, 16]),
        # round_to 0 means steps of 1
        (3, 0, [2, 3, 3.4, 3.5], [None, 3, 3, 4]),
        # NaN and infinities are withheld, never shown
        (5, 5, [math.nan, math.inf, -math.inf, 1e6], [None, None, None, 1_000_000]),
    ],
)
def test_count_rule(k: int, round_to: int, values: list[float], expected: list[int | None]) -> None:
    policy = ViewerPolicy(min_count=k, round_to=round_to, disclosure="rounding")
    assert [policy.count(v) for v in values] == expected
    shown, suppressed = policy.counts(values)
    assert suppressed.tolist() == [e is None for e in expected]
    assert [None if s else int(v) for v, s in zip(shown, suppressed, strict=True)] == expected
    assert np.isnan(shown[suppressed]).all()


def test_count_rule_on_masked_and_integer_arrays() -> None:
    policy = ViewerPolicy(min_count=5, round_to=5, disclosure="rounding")
    masked = np.ma.MaskedArray(np.array([8, 8, 3]), mask=[False, True, False])
    shown, suppressed = policy.counts(masked)
    assert suppressed.tolist() == [False, True, True]
    assert shown[0] == 10.0
    big = np.array([2**40 + 3], dtype=np.int64)
    assert policy.counts(big)[0][0] == policy.count(int(big[0]))


@given(
    k=st.integers(min_value=1, max_value=50),
    round_to=st.integers(min_value=0, max_value=20),
    values=st.lists(
        st.one_of(
            st.integers(min_value=0, max_value=10_000),
            st.floats(min_value=0, max_value=1e9),
            st.sampled_from([math.nan, math.inf]),
        ),
        max_size=50,
    ),
)
def test_vector_count_rule_agrees_with_the_scalar_rule(
    k: int, round_to: int, values: list[float]
) -> None:
    policy = ViewerPolicy(min_count=k, round_to=round_to, disclosure="rounding")
    shown, suppressed = policy.counts(np.array(values, dtype=np.float64))
    for value, got, hidden in zip(values, shown.tolist(), suppressed.tolist(), strict=True):
        want = policy.count(value)
        assert hidden is (want is None)
        assert (math.isnan(got) and want is None) or got == want


# -- the wiring: layers, cache, service --------------------------------------------------------


def test_hotspot_layers_publish_tables() -> None:
    for layer in (GISTAR, KDE):
        assert layer.table is not None and layer.viewer_table_filter is not None
        assert layer.viewer_filter is None and layer.private


def test_layer_refuses_a_table_filter_without_table_or_with_a_dict_filter() -> None:
    base = {"id": "x", "title": "x", "description": "x", "min_role": "viewer"}
    with pytest.raises(ValueError, match="no table"):
        Layer(**base, features=GISTAR.features, viewer_table_filter=viewer_gistar_table)
    with pytest.raises(ValueError, match="both"):
        Layer(
            **base,
            features=GISTAR.features,
            table=GISTAR.table,
            viewer_table_filter=viewer_gistar_table,
            viewer_filter=_reference_gistar,
        )


def test_cache_weighs_tables_lighter_than_collections() -> None:
    table = _hand_table()
    fc = table.to_geojson()
    assert cache_weight(fc) == 5
    assert 1 <= cache_weight(table) < cache_weight(fc)
    cache = CollectionCache(max_entries=10, max_features=6)
    cache.get_or_compute("t", lambda: table)
    cache.get_or_compute("fc", lambda: fc)  # 1 + 5 features: both fit
    assert cache.get_or_compute("t", lambda: pytest.fail("recomputed")) is table
    cache.get_or_compute("fc2", lambda: fc)  # over budget: the least recently used goes
    assert list(cache._items) == ["t", "fc2"]


def _request(demo_db: DemoDB) -> Any:
    # The reference filters are the rounding rule's (the cell key method publishes in the
    # adapter, tested in test_privacy.py and test_differencing_attack.py).
    settings = web_settings(demo_db.path, viewer_disclosure="rounding")
    return SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(settings=settings, collections=CollectionCache()))
    )


def test_layer_collection_filters_and_caches_tables(store: Store, demo_db: DemoDB) -> None:
    request = _request(demo_db)
    policy = ViewerPolicy.from_settings(request.app.state.settings)
    viewer = Principal(actor="anoniem", role="viewer")
    analyst = Principal(actor="a", role="analyst")
    query = _query("woninginbraak", 9)
    for layer, reference in ((GISTAR, _reference_gistar), (KDE, _reference_kde)):
        seen = layer_collection(request, store, layer, query, viewer)
        exact = layer_collection(request, store, layer, query, analyst)
        method = "gistar" if layer is GISTAR else "kde"
        _assert_same(exact, hotspot_collection(store, query, method))
        _assert_same(seen, reference(exact, policy))
        # Rendered once per audience: a repeated request rebuilds no dicts.
        assert layer_collection(request, store, layer, query, viewer) is seen
        assert layer_collection(request, store, layer, query, analyst) is exact
        assert layer.features(store, query) == exact
    kinds = [type(v).__name__ for v in request.app.state.collections._items.values()]
    # Per layer: the exact table, the viewer's table (what service.layer_table gives the pages
    # that compute from it), and the two GeoJSON renderings.
    assert kinds.count("CellTable") == 4 and kinds.count("dict") == 4
