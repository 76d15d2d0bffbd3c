r"""Near-repeat alert zones: the extent of raised risk from a Knox table, merged zones, dwellings.

After a burglary the risk of another one nearby is raised for a short while (Townsley et al.
2003; Johnson et al. 2007). A municipality that sends warning letters (*besmettingsbrieven*)
needs, per burglary, a zone and a period: a circle of radius :math:`r` around it, raised from
the day of the burglary through day :math:`d + \text{days} - 1`.

**Extent from the Knox table** (:func:`near_repeat_extent`). A Knox cell :math:`(a, b)` is
*significant* when its ratio is above 1 and its Monte-Carlo p-value below ``alpha``. From the
origin cell (nearest distance band :math:`a = 0`, shortest time band :math:`b = 0`), :math:`r`
is the upper edge of the last distance band in the unbroken run of significant cells
:math:`(0, 0), (1, 0), \dots` (the shortest time band), and ``days`` the upper edge of the
last time band in the unbroken run :math:`(0, 0), (0, 1), \dots` (the nearest distance band).
Reading the two axes, not any path of significant cells, keeps one chance cell far out in the
table (40 cells tested at 5 % give two by chance) from stretching the zone. When the origin
cell is not significant, or the data are too thin (fewer than ``min_incidents`` incidents,
fewer than ``min_pairs`` pairs in the origin cell), the extent falls back to a default
(200 m, 14 days: the usual reach of near repeats in burglary, Johnson et al. 2007) and says
why.

**Zones** (:func:`merge_alert_zones`). Circles whose discs overlap (centres less than
:math:`2r` apart) *and* whose periods overlap (days less than ``days`` apart) belong to one
zone; zones are the connected components of that graph, so a chain of burglaries makes one
zone. A zone's geometry is the union of its circles, its period runs from its first burglary
to the last day of its latest one.

**Zones of bounded size.** In a dense city such chains link hundreds of burglaries into one
zone that no team can leaflet in one round. Given ``max_zone_radius_m`` :math:`R \ge r`, a
chained zone whose circles do not fit in one disc of radius :math:`R` is split: its
burglaries are cut into groups of diameter at most :math:`D = \sqrt{3}\,(R - r)` (complete
linkage, cut at :math:`D`: a complete-linkage cluster's merge height is its diameter). By
Jung's theorem in the plane (Jung 1901) a set of diameter :math:`D` lies in a disc of radius
:math:`D/\sqrt{3} = R - r`, so each group's circles lie in a disc of radius :math:`R` around
the centre of the group's smallest enclosing circle. Every circle stays in exactly one zone,
so the split zones cover exactly what the chained zone covered (they may touch or overlap one
another). Components of more than ``4000`` burglaries are first cut by squares of side
:math:`8R` to keep the linkage's :math:`O(m^2)` memory bounded.

**Dwellings** (:func:`areal_estimate`). Areal weighting of an extensive count (Goodchild and
Lam 1980): with dwellings :math:`v_a` in area :math:`A_a`, a zone :math:`Z` holds an
estimated

.. math::

    \hat v(Z) = \sum_a v_a \, \frac{|Z \cap A_a|}{|A_a|},

which assumes dwellings spread evenly over each area: an estimate, never a count.

All geometry is in one metric CRS (metres) given by the caller.

References
----------
.. [1] Knox, E. G. (1964). The detection of space-time interactions. JRSS C 13(1), 25-30.
.. [2] Townsley, M., Homel, R. and Chaseling, J. (2003). Infectious burglaries: a test of the
       near repeat hypothesis. British Journal of Criminology 43(3), 615-633.
.. [3] Johnson, S. D., Bernasco, W., Bowers, K. J., Elffers, H., Ratcliffe, J., Rengert, G. and
       Townsley, M. (2007). Space-time patterns of risk: a cross national assessment of
       residential burglary victimization. Journal of Quantitative Criminology 23, 201-219.
.. [4] Goodchild, M. F. and Lam, N. S.-N. (1980). Areal interpolation: a variant of the
       traditional spatial problem. Geo-Processing 1, 297-312.
.. [5] Jung, H. (1901). Ueber die kleinste Kugel, die eine raeumliche Figur einschliesst.
       Journal fuer die reine und angewandte Mathematik 123, 241-257.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import shapely
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from spatial.errors import InvalidParameterError
from spatial.spacetime.knox import KnoxResult

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]

#: Fallback extent when the Knox table gives none (Johnson et al. 2007: ~200 m, ~2 weeks).
DEFAULT_RADIUS_M: Final = 200.0
DEFAULT_DAYS: Final = 14
#: Fewer incidents than this, or fewer pairs in the origin Knox cell, is too thin to trust.
MIN_INCIDENTS: Final = 50
MIN_PAIRS: Final = 5
#: Largest zone a team leaflets in one round: a disc of 400 m radius (~0.5 km2, some 1,000 to
#: 3,000 dwellings in a Dutch city; twice the default near-repeat radius of 200 m).
DEFAULT_MAX_ZONE_RADIUS_M: Final = 400.0
#: Chained components larger than this are cut by squares before complete linkage.
_MAX_LINKAGE: Final = 4000

ExtentSource = Literal["knox", "default", "given"]


@dataclass(frozen=True)
class NearRepeatExtent:
    """Radius and period of raised risk after an incident, and where they came from.

    Attributes
    ----------
    radius_m
        Zone radius in metres.
    days
        Length of the period of raised risk in days (day of the incident included).
    source
        ``"knox"`` (from the significant Knox cells), ``"default"`` or ``"given"``.
    reason
        One sentence (Dutch / English) saying why.
    region
        Boolean mask over the Knox table: the two runs of significant cells from the origin
        that set the extent (all False when the extent is not from the table).
    """

    radius_m: float
    days: int
    source: ExtentSource
    reason: str
    region: npt.NDArray[np.bool_]


def near_repeat_extent(
    knox: KnoxResult | None,
    *,
    alpha: float = 0.05,
    default_radius_m: float = DEFAULT_RADIUS_M,
    default_days: int = DEFAULT_DAYS,
    min_incidents: int = MIN_INCIDENTS,
    min_pairs: int = MIN_PAIRS,
) -> NearRepeatExtent:
    """Choose the near-repeat radius and period from a Knox table (module docstring).

    Parameters
    ----------
    knox
        Knox table with Monte-Carlo p-values, or None when none could be computed.
    alpha
        Significance level of a Knox cell.
    default_radius_m, default_days
        Extent used when the table gives none.
    min_incidents, min_pairs
        Thinness thresholds (incidents in the test; pairs in the origin cell).

    Returns
    -------
    NearRepeatExtent

    Raises
    ------
    InvalidParameterError
        ``alpha`` outside (0, 1), a non-positive default.

    Examples
    --------
    Significant: 0-200 m at 0-7 days and 0-100 m at 0-14 days (the far corner cell at
    200-300 m and 14-21 days is not contiguous with the origin along either axis):

    >>> import numpy as np
    >>> from spatial.spacetime.knox import KnoxResult
    >>> ratio = np.array([[2.0, 1.5, 1.1], [1.6, 0.9, 1.0], [1.0, 1.0, 1.3]])
    >>> p = np.array([[0.01, 0.02, 0.40], [0.01, 0.60, 0.50], [0.5, 0.5, 0.01]])
    >>> k = KnoxResult(np.array([0.0, 100, 200, 300]), np.array([0.0, 7, 14, 21]),
    ...                np.full((3, 3), 50), ratio, ratio, ratio, p, 500, 900, 99, 0)
    >>> e = near_repeat_extent(k)
    >>> e.radius_m, e.days, e.source
    (200.0, 14, 'knox')
    >>> near_repeat_extent(None).source
    'default'
    """
    if not 0.0 < alpha < 1.0:
        raise InvalidParameterError(f"alpha must be in (0, 1), got {alpha!r}")
    if not default_radius_m > 0 or not default_days >= 1:
        raise InvalidParameterError(
            f"default extent must be positive, got {default_radius_m!r} m, {default_days!r} days"
        )

    def fallback(reason: str, shape: tuple[int, int] = (0, 0)) -> NearRepeatExtent:
        return NearRepeatExtent(
            float(default_radius_m),
            int(default_days),
            "default",
            reason,
            np.zeros(shape, dtype=bool),
        )

    if knox is None:
        return fallback("geen Knox-tabel / no Knox table (too few incidents)")
    shape = knox.observed.shape
    if knox.n < min_incidents:
        return fallback(
            f"te weinig incidenten ({knox.n} < {min_incidents}) / too few incidents", shape
        )
    if knox.permutations == 0:
        return fallback("geen permutaties, geen p-waarden / no permutations, no p-values", shape)
    if int(knox.observed[0, 0]) < min_pairs:
        return fallback(
            f"te weinig paren in de kortste band ({int(knox.observed[0, 0])} < {min_pairs}) "
            "/ too few pairs in the origin band",
            shape,
        )
    with np.errstate(invalid="ignore"):
        significant = (knox.ratio > 1.0) & (knox.p_value < alpha)
    if not significant[0, 0]:
        return fallback(
            "kortste afstands- en tijdband niet significant / origin band not significant",
            shape,
        )
    # Length of the unbroken run of significant cells from the origin along each axis.
    n_dist = _run_length(significant[:, 0])
    n_time = _run_length(significant[0, :])
    region = np.zeros(shape, dtype=bool)
    region[:n_dist, 0] = True
    region[0, :n_time] = True
    radius = float(knox.distance_edges_m[n_dist])
    days_edge = float(knox.time_edges_days[n_time])
    if not np.isfinite(days_edge):
        # An open last time band says "any later time": no period can be read from it.
        days_edge = float(knox.time_edges_days[n_time - 1])
        if days_edge <= 0:
            return fallback("open tijdband / open-ended time band", shape)
    return NearRepeatExtent(
        radius,
        int(np.ceil(days_edge)),
        "knox",
        f"significante Knox-cellen (ratio > 1, p < {alpha:g}) aaneengesloten vanaf de "
        "kortste band, langs de afstands- en de tijdas / significant Knox cells contiguous "
        "from the origin band along the distance and the time axis",
        region,
    )


def _run_length(flags: npt.NDArray[np.bool_]) -> int:
    """Return the number of leading True values."""
    off = np.flatnonzero(~flags)
    return int(off[0]) if off.size else int(flags.size)


@dataclass(frozen=True)
class AlertZones:
    """Merged alert zones (metric CRS), ordered by start day.

    Attributes
    ----------
    geometry
        One (Multi)Polygon per zone, in the metric CRS of the input coordinates.
    zone_of
        Zone index of every input incident.
    members
        Input indexes per zone, in time order.
    start_day
        First day of each zone (the day of its earliest incident).
    end_day
        Last day of raised risk (inclusive): latest incident day + ``days`` - 1.
    n_incidents
        Incidents per zone.
    radius_m, days
        The extent used.
    max_zone_radius_m
        Bound on a zone's size (None: chains merge without bound).
    chain_of
        Index of the chained component (connected space-time circles) each zone came from;
        zones that share it were split from one chain.
    """

    geometry: ObjArray
    zone_of: IntArray
    members: tuple[IntArray, ...]
    start_day: IntArray
    end_day: IntArray
    n_incidents: IntArray
    radius_m: float
    days: int
    max_zone_radius_m: float | None = None
    chain_of: IntArray | None = None

    @property
    def n(self) -> int:
        """Number of zones."""
        return int(self.start_day.size)

    @property
    def n_chains(self) -> int:
        """Number of chained components before splitting (``n`` when none was split)."""
        return self.n if self.chain_of is None else int(np.unique(self.chain_of).size)


def _split_by_diameter(x: FloatArray, y: FloatArray, diameter: float) -> IntArray:
    """Labels of groups of diameter at most ``diameter`` (complete linkage, cut there)."""
    if x.size == 1:
        return np.zeros(1, dtype=np.int64)
    pts = np.column_stack([x, y])
    if diameter <= 0:
        _, same_place = np.unique(pts, axis=0, return_inverse=True)
        return same_place.astype(np.int64).ravel()
    tree = linkage(pts, method="complete")
    return (fcluster(tree, t=diameter, criterion="distance") - 1).astype(np.int64)


def _bounded_labels(
    x: FloatArray, y: FloatArray, label: IntArray, radius_m: float, max_zone_radius_m: float
) -> IntArray:
    """Split every chained component that does not fit in a disc of ``max_zone_radius_m``."""
    reach = max_zone_radius_m - radius_m  # centres must lie within this of the zone centre
    diameter = np.sqrt(3.0) * reach
    out = np.empty(label.size, dtype=np.int64)
    next_label = 0
    order = np.argsort(label, kind="stable")
    bounds = np.flatnonzero(np.diff(label[order])) + 1
    for idx in np.split(order, bounds):
        cx, cy = x[idx], y[idx]
        # Cheap accept: the bounding box's centre already holds every centre within reach.
        half_diag = 0.5 * float(np.hypot(np.ptp(cx), np.ptp(cy)))
        if half_diag <= reach:
            out[idx] = next_label
            next_label += 1
            continue
        if idx.size > _MAX_LINKAGE:
            side = 8.0 * max_zone_radius_m
            square = np.unique(
                np.column_stack([np.floor(cx / side), np.floor(cy / side)]),
                axis=0,
                return_inverse=True,
            )[1].ravel()
        else:
            square = np.zeros(idx.size, dtype=np.int64)
        for sq in np.unique(square):
            part = np.flatnonzero(square == sq)
            sub = _split_by_diameter(cx[part], cy[part], diameter)
            out[idx[part]] = next_label + sub
            next_label += int(sub.max()) + 1
    return out


def merge_alert_zones(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    day: npt.ArrayLike,
    *,
    radius_m: float,
    days: int,
    max_zone_radius_m: float | None = None,
    quad_segs: int = 16,
) -> AlertZones:
    """Alert zones of incidents: circles merged where both discs and periods overlap.

    Parameters
    ----------
    x, y
        Incident positions in metres (a metric CRS).
    day
        Integer day of each incident (e.g. days since 1970-01-01 of the local date).
    radius_m
        Circle radius.
    days
        Period of raised risk: the incident's day through ``day + days - 1``.
    max_zone_radius_m
        Every zone fits in a disc of this radius (module notes); chains that do not are split.
        None: no bound (one zone per chain).
    quad_segs
        Segments per quarter circle of the polygon approximation.

    Returns
    -------
    AlertZones

    Raises
    ------
    InvalidParameterError
        Mismatched or non-finite inputs, ``radius_m <= 0``, ``days < 1``,
        ``max_zone_radius_m < radius_m``.

    Notes
    -----
    Candidate pairs come from one KD-tree query (centres closer than :math:`2r`), filtered by
    day gap less than ``days``; zones are connected components of the pair graph. Only
    zones of two or more incidents need a polygon union (a loop over those zones, not over
    incidents).

    Examples
    --------
    Two burglaries 150 m and 3 days apart share a zone; one 2 km away stands alone:

    >>> z = merge_alert_zones([0, 150, 2000], [0, 0, 0], [10, 13, 11], radius_m=100, days=14)
    >>> z.n, z.n_incidents.tolist(), z.start_day.tolist(), z.end_day.tolist()
    (2, [2, 1], [10, 11], [26, 24])

    A chain of six burglaries 180 m apart (one chained zone of 1,100 m) split into zones
    that each fit in a disc of 400 m:

    >>> x = [0, 180, 360, 540, 720, 900]
    >>> z = merge_alert_zones(x, [0] * 6, [0] * 6, radius_m=100, days=14, max_zone_radius_m=400)
    >>> z.n, z.n_chains, z.n_incidents.tolist()
    (3, 1, [2, 2, 2])
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    da = np.asarray(day)
    if xa.ndim != 1 or xa.shape != ya.shape or xa.shape != da.shape:
        raise InvalidParameterError(
            f"x, y and day must be 1-D of one length, got {xa.shape}, {ya.shape}, {da.shape}"
        )
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise InvalidParameterError("x or y hold NaN or infinite values")
    if da.size and not np.issubdtype(da.dtype, np.integer):
        raise InvalidParameterError(f"day must hold integers, got dtype {da.dtype}")
    if not radius_m > 0 or not np.isfinite(radius_m):
        raise InvalidParameterError(f"radius_m must be > 0, got {radius_m!r}")
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        raise InvalidParameterError(f"days must be an integer >= 1, got {days!r}")
    if max_zone_radius_m is not None and not (
        np.isfinite(max_zone_radius_m) and max_zone_radius_m >= radius_m
    ):
        raise InvalidParameterError(
            f"max_zone_radius_m must be finite and >= radius_m ({radius_m:g}), "
            f"got {max_zone_radius_m!r}"
        )
    d = da.astype(np.int64)
    n = int(xa.size)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return AlertZones(
            np.empty(0, dtype=object),
            empty,
            (),
            empty,
            empty,
            empty,
            float(radius_m),
            int(days),
            None if max_zone_radius_m is None else float(max_zone_radius_m),
            empty,
        )

    pairs = cKDTree(np.column_stack([xa, ya])).query_pairs(
        r=2.0 * float(radius_m), output_type="ndarray"
    )
    i, j = pairs[:, 0], pairs[:, 1]
    # Discs overlap (not just touch) and periods overlap.
    keep = (np.hypot(xa[i] - xa[j], ya[i] - ya[j]) < 2.0 * radius_m) & (np.abs(d[i] - d[j]) < days)
    graph = sp.coo_matrix((np.ones(int(keep.sum())), (i[keep], j[keep])), shape=(n, n))
    _, chain = connected_components(graph, directed=False)
    chain = chain.astype(np.int64)
    if max_zone_radius_m is None:
        label = chain
    else:
        label = _bounded_labels(xa, ya, chain, float(radius_m), float(max_zone_radius_m))
    n_comp = int(label.max()) + 1

    # Zones in time order (first day, then first incident) for a stable numbering.
    start = np.full(n_comp, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(start, label, d)
    last = np.full(n_comp, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, label, d)
    first_member = np.full(n_comp, n, dtype=np.int64)
    np.minimum.at(first_member, label, np.arange(n, dtype=np.int64))
    order = np.lexsort((first_member, start))
    rank = np.empty(n_comp, dtype=np.int64)
    rank[order] = np.arange(n_comp, dtype=np.int64)
    zone_of = rank[label]

    by_zone = np.lexsort((np.arange(n), d, zone_of))
    sizes = np.bincount(zone_of, minlength=n_comp).astype(np.int64)
    members = tuple(np.split(by_zone.astype(np.int64), np.cumsum(sizes)[:-1]))

    circles = shapely.buffer(shapely.points(xa, ya), float(radius_m), quad_segs=quad_segs)
    geometry = np.empty(n_comp, dtype=object)
    single = sizes == 1
    first_of_zone = by_zone[np.cumsum(sizes) - sizes]
    geometry[single] = circles[first_of_zone[single]]
    for z in np.flatnonzero(~single):
        geometry[z] = shapely.union_all(circles[members[z]])
    chain_of = np.zeros(n_comp, dtype=np.int64)
    chain_of[zone_of] = chain
    return AlertZones(
        geometry=geometry,
        zone_of=zone_of,
        members=members,
        start_day=start[order],
        end_day=last[order] + int(days) - 1,
        n_incidents=sizes,
        radius_m=float(radius_m),
        days=int(days),
        max_zone_radius_m=None if max_zone_radius_m is None else float(max_zone_radius_m),
        chain_of=chain_of,
    )


def areal_estimate(
    targets: ObjArray, sources: ObjArray, values: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    r"""Area-weighted estimate of an extensive value (e.g. dwellings) in each target polygon.

    Parameters
    ----------
    targets
        Polygons to estimate for (one metric CRS).
    sources
        Non-overlapping polygons with a known total each (same CRS), e.g. buurten.
    values
        Total per source; NaN where unknown (that source contributes nothing).

    Returns
    -------
    estimate
        :math:`\sum_a v_a |T \cap A_a| / |A_a|` per target; NaN where a target meets no source
        with a known value.
    coverage
        Share of each target's area that lies in sources with a known value (0-1): below 1 the
        estimate misses the rest.

    Raises
    ------
    InvalidParameterError
        ``values`` not aligned with ``sources``.

    Examples
    --------
    A zone covering half of an area with 100 dwellings and a quarter of one with 40:

    >>> import numpy as np
    >>> from shapely.geometry import box
    >>> areas = np.array([box(0, 0, 10, 10), box(10, 0, 20, 10)])
    >>> est, cov = areal_estimate(np.array([box(5, 0, 12.5, 10)]), areas, [100.0, 40.0])
    >>> est.round(1).tolist(), cov.round(2).tolist()
    ([60.0], [1.0])
    """
    t = np.asarray(targets, dtype=object)
    s = np.asarray(sources, dtype=object)
    v = np.asarray(values, dtype=np.float64)
    if v.shape != s.shape:
        raise InvalidParameterError(f"values {v.shape} must align with sources {s.shape}")
    if t.size == 0 or s.size == 0:
        return np.full(t.size, np.nan), np.zeros(t.size)
    tree = shapely.STRtree(s)
    ti, si = tree.query(t, predicate="intersects")
    known = np.isfinite(v[si])
    ti, si = ti[known], si[known]
    overlap = shapely.area(shapely.intersection(t[ti], s[si]))
    src_area = shapely.area(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(src_area[si] > 0, overlap / src_area[si], 0.0)
    estimate = np.bincount(ti, weights=v[si] * share, minlength=t.size)
    covered = np.bincount(ti, weights=overlap, minlength=t.size)
    t_area = shapely.area(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.clip(np.where(t_area > 0, covered / t_area, 0.0), 0.0, 1.0)
    return np.where(covered > 0, estimate, np.nan), coverage
