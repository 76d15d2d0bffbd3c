r"""Burglary priorities per area: counts per year, raw and EB risk, trend, hotspot share, rank.

The pure core of the Driehoek's priority list (``geo-service priorities``). Per area
:math:`i` and full year :math:`t` it takes the counts :math:`y_{ti}` and the dwellings
:math:`b_i`, and returns

* the raw risk :math:`1000 \sum_t y_{ti} / (T b_i)` per 1,000 dwellings per year, and its
  Empirical Bayes smoothed version (:mod:`spatial.targeting.smoothing`, exposure :math:`T b_i`);
* the trend over the years (:func:`spatial.targeting.ranking.trend_per_area`: fell every year?,
  Poisson
  rate ratio and its likelihood-ratio p-value);
* the priority score, rank and Poisson-bootstrap rank interval
  (:func:`spatial.targeting.ranking.rank_intervals`): the weighted geometric mean of the annual
  count
  and the EB risk, :math:`S_i = (c_i/\bar c)^{\alpha/(\alpha+\beta)}
  (\rho_i/\bar\rho)^{\beta/(\alpha+\beta)}`. The Driehoek ranks by "absolute count times
  risk": with :math:`\alpha = \beta = 1` the order is exactly that of :math:`c_i \rho_i`;
* the share of the area's H3 cells that are significant Gi* hot spots (given per cell, cell
  to area by centroid: :func:`points_in_areas`).

Areas are compared with each other only: the EB prior is estimated from the areas given, so
rank a municipality's wijken together, not one wijk alone.

References
----------
.. [1] Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes
       estimators. Applied Statistics 40(2), 283-294.
.. [2] Goldstein, H. and Spiegelhalter, D. J. (1996). League tables and their limitations:
       statistical issues in comparisons of institutional performance. JRSS A 159(3), 385-443.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from spatial.errors import InvalidParameterError
from spatial.targeting.ranking import RankIntervals, TrendResult, rank_intervals, trend_per_area
from spatial.targeting.smoothing import empirical_bayes

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def points_in_areas(x: npt.ArrayLike, y: npt.ArrayLike, polygons: npt.ArrayLike) -> IntArray:
    """Index of the area each point lies in (-1 outside every area), vectorised.

    A point in two overlapping areas (a small area imported on top of a larger one) goes to
    the smaller one, the more specific; a point exactly on a shared border belongs to one of
    the two (the smaller; the first when they are equally large).

    Parameters
    ----------
    x, y
        Point coordinates, in the CRS of ``polygons``.
    polygons
        Shapely (Multi)Polygons.

    Returns
    -------
    numpy.ndarray
        One index per point into ``polygons``, or -1.

    Raises
    ------
    InvalidParameterError
        ``x`` and ``y`` of different lengths.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> points_in_areas([0.5, 1.5, 5.0, 1.0, 0.2], [0.5, 0.5, 5.0, 0.5, 0.2],
    ...                 [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 0, 0.3, 0.3)]).tolist()
    [0, 1, -1, 0, 2]
    """
    px = np.asarray(x, dtype=np.float64)
    py = np.asarray(y, dtype=np.float64)
    if px.shape != py.shape or px.ndim != 1:
        raise InvalidParameterError(f"x and y must be 1-d of one length, got {px.shape} {py.shape}")
    polys = np.asarray(polygons, dtype=object)
    out = np.full(px.size, -1, dtype=np.int64)
    if px.size == 0 or polys.size == 0:
        return out
    tree = shapely.STRtree(polys)
    shapely.prepare(polys)
    pt, area = tree.query(shapely.points(px, py))
    # Bounding boxes from the tree, then the exact test (a point on a border is inside).
    exact = shapely.intersects_xy(polys[area], px[pt], py[pt])
    pt, area = pt[exact], area[exact]
    size = shapely.area(polys)
    order = np.lexsort((area, size[area], pt))
    pt, area = pt[order], area[order]
    first = np.unique(pt, return_index=True)[1]
    out[pt[first]] = area[first]
    return out


def counts_by_year(
    area_index: npt.ArrayLike, year_index: npt.ArrayLike, n_areas: int, n_years: int
) -> IntArray:
    """Count incidents per (year, area) from one area and year index per incident.

    Incidents with an index outside ``[0, n)`` (outside every area, outside the years) are
    left out.

    Examples
    --------
    >>> counts_by_year([0, 1, 1, -1, 0], [0, 0, 1, 1, 2], n_areas=2, n_years=2).tolist()
    [[1, 1], [0, 1]]
    """
    a = np.asarray(area_index, dtype=np.int64)
    t = np.asarray(year_index, dtype=np.int64)
    if a.shape != t.shape:
        raise InvalidParameterError(f"area and year indexes differ in shape: {a.shape} {t.shape}")
    ok = (a >= 0) & (a < n_areas) & (t >= 0) & (t < n_years)
    flat = np.bincount(t[ok] * n_areas + a[ok], minlength=n_years * n_areas)
    return flat.reshape(n_years, n_areas).astype(np.int64)


def share_per_area(area_index: npt.ArrayLike, flags: npt.ArrayLike, n_areas: int) -> FloatArray:
    """Share of the items (cells) of each area that are flagged; NaN for an area without any.

    Examples
    --------
    >>> share_per_area([0, 0, 0, 1, -1], [True, False, False, True, True], 3).tolist()
    [0.3333333333333333, 1.0, nan]
    """
    a = np.asarray(area_index, dtype=np.int64)
    f = np.asarray(flags, dtype=bool)
    if a.shape != f.shape:
        raise InvalidParameterError(f"area index and flags differ in shape: {a.shape} {f.shape}")
    ok = (a >= 0) & (a < n_areas)
    total = np.bincount(a[ok], minlength=n_areas).astype(np.float64)
    hot = np.bincount(a[ok], weights=f[ok].astype(np.float64), minlength=n_areas)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, hot / total, np.nan)


@dataclass(frozen=True)
class PriorityTable:
    r"""Per-area priority figures (arrays aligned with the input areas).

    Attributes
    ----------
    counts
        ``(T, n)`` incidents per full year and area.
    dwellings
        Dwellings per area.
    risk_per_1000
        Raw risk: incidents per 1,000 dwellings per year.
    risk_per_1000_eb
        Empirical Bayes smoothed risk, same unit.
    shrinkage_weight
        EB weight of the area's own rate (0 = fully pulled to the mean of all areas).
    prior_mean_per_1000
        The EB prior mean: the risk of all areas together.
    trend
        Year-on-year trend (None with a single year).
    ranking
        Score, rank, rank interval and ``p_top`` (:class:`spatial.targeting.ranking.RankIntervals`).
    hotspot_share
        Share of the area's cells that are significant hot spots (NaN: not computed, or an
        area without cells).
    """

    counts: IntArray
    dwellings: FloatArray
    risk_per_1000: FloatArray
    risk_per_1000_eb: FloatArray
    shrinkage_weight: FloatArray
    prior_mean_per_1000: float
    trend: TrendResult | None
    ranking: RankIntervals
    hotspot_share: FloatArray

    @property
    def order(self) -> IntArray:
        """Area indices from rank 1 down (ties by the higher count, then input order)."""
        return np.lexsort((-self.counts.sum(axis=0), self.ranking.rank)).astype(np.int64)


def area_priorities(
    counts_by_year: npt.ArrayLike,
    dwellings: npt.ArrayLike,
    *,
    hotspot_share: npt.ArrayLike | None = None,
    weights: tuple[float, float] = (1.0, 1.0),
    replicates: int = 1000,
    level: float = 0.90,
    top_k: int = 10,
    rng: np.random.Generator | int | None = None,
) -> PriorityTable:
    r"""Priority table of areas: risk raw and EB-smoothed, trend, score, rank and interval.

    Parameters
    ----------
    counts_by_year
        ``(T, n)`` counts per full year (oldest first) and area; non-negative integers.
    dwellings
        ``(n,)`` dwellings per area, positive.
    hotspot_share
        Optional ``(n,)`` share of the area's cells that are hot spots (reported, not ranked).
    weights
        :math:`(\alpha, \beta)`: weight of the annual count and of the EB risk in the score
        (:func:`spatial.targeting.ranking.priority_score`); ``(1, 1)`` orders by count times risk,
        ``(1, 0)`` by count only, ``(0, 1)`` by risk only.
    replicates, level, top_k, rng
        Of the Poisson-bootstrap rank intervals (:func:`spatial.targeting.ranking.rank_intervals`).

    Returns
    -------
    PriorityTable

    Raises
    ------
    InvalidParameterError
        Fewer than two areas, counts that are not non-negative integers, dwellings that are
        not positive, misaligned shapes, invalid weights or bootstrap settings.

    Notes
    -----
    Raw risk :math:`r_i = 1000\, e_i / (T b_i)` with :math:`e_i = \sum_t y_{ti}`; EB risk
    :math:`1000\, \hat\theta_i` from :func:`spatial.targeting.smoothing.empirical_bayes` on
    :math:`(e_i, T b_i)`. A small area's raw risk is shrunk towards the mean in proportion to
    its Poisson noise, so two burglaries in ten dwellings do not top the list.

    Examples
    --------
    Four wijken over three years; the last is tiny (10 dwellings, 2 burglaries):

    >>> counts = [[60, 20, 30, 1], [50, 22, 28, 0], [45, 25, 31, 1]]
    >>> t = area_priorities(counts, [4000, 1500, 1000, 10], replicates=200, rng=0)
    >>> t.risk_per_1000.round(1).tolist()
    [12.9, 14.9, 29.7, 66.7]
    >>> t.ranking.rank.tolist(), t.order.tolist()
    ([2, 3, 1, 4], [2, 0, 1, 3])
    >>> t.trend.strictly_decreasing.tolist()
    [True, False, False, False]
    """
    c = np.asarray(counts_by_year, dtype=np.float64)
    if c.ndim == 1:
        c = c[None, :]
    if c.ndim != 2:
        raise InvalidParameterError(f"counts_by_year must be (years, areas), got {c.shape}")
    if not np.isfinite(c).all() or (c < 0).any() or (c != np.round(c)).any():
        raise InvalidParameterError("counts_by_year must be non-negative integers")
    b = np.asarray(dwellings, dtype=np.float64)
    if b.shape != (c.shape[1],):
        raise InvalidParameterError(
            f"dwellings must have one value per area ({c.shape[1]}), got shape {b.shape}"
        )
    n_years = c.shape[0]
    total = c.sum(axis=0)
    ranking = rank_intervals(
        c, b, weights=weights, replicates=replicates, level=level, top_k=top_k, rng=rng
    )
    eb = empirical_bayes(total, b * n_years)
    share = (
        np.full(c.shape[1], np.nan)
        if hotspot_share is None
        else np.asarray(hotspot_share, dtype=np.float64)
    )
    if share.shape != (c.shape[1],):
        raise InvalidParameterError(
            f"hotspot_share must have one value per area ({c.shape[1]}), got {share.shape}"
        )
    return PriorityTable(
        counts=c.astype(np.int64),
        dwellings=b,
        risk_per_1000=eb.raw_rate * 1000.0,
        risk_per_1000_eb=eb.eb_rate * 1000.0,
        shrinkage_weight=eb.shrinkage_weight,
        prior_mean_per_1000=eb.prior_mean * 1000.0,
        trend=trend_per_area(c) if n_years >= 2 else None,
        ranking=ranking,
        hotspot_share=share,
    )
