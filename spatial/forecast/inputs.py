"""Inputs and the method protocol shared by every forecast method.

Incidents (:class:`EventSet`), study cells (:class:`StudyCells`), the :class:`Scorer` protocol
and :class:`ForecastMethod`, and the pieces several methods share (history start, incident-cell
pairs within a radius, window counts). Split out of :mod:`spatial.forecast.methods` so that a
method in its own module (:mod:`spatial.forecast.selfexciting`) and the registry in
``methods`` can both use them without an import cycle; ``methods`` re-exports them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import nnls
from scipy.spatial import cKDTree

from spatial.errors import InvalidParameterError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAYS_PER_WEEK = 7.0


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class EventSet:
    """Incidents, sorted by time (use :func:`make_events`).

    Attributes
    ----------
    cell
        Study-cell index of each incident (0 .. n_cells - 1).
    t_days
        Time of each incident in days (any epoch, float), ascending.
    x, y
        Metric coordinates (same CRS as the study cells' centroids), or None when only
        cells are known; methods that need points then use the cell centroids.
    """

    cell: IntArray
    t_days: FloatArray
    x: FloatArray | None = None
    y: FloatArray | None = None

    @property
    def n(self) -> int:
        """Number of incidents."""
        return int(self.cell.size)

    def window(self, start: float, stop: float) -> slice:
        """Positions of the incidents with ``start <= t < stop`` (a slice: they are sorted)."""
        lo = int(np.searchsorted(self.t_days, start, side="left"))
        hi = int(np.searchsorted(self.t_days, stop, side="left"))
        return slice(lo, max(lo, hi))


def make_events(
    cell: npt.ArrayLike,
    t_days: npt.ArrayLike,
    x: npt.ArrayLike | None = None,
    y: npt.ArrayLike | None = None,
) -> EventSet:
    """Validate incidents and sort them by time (stable, so equal times keep their order).

    Raises
    ------
    InvalidParameterError
        On unequal lengths, negative cell indices or non-finite values.

    Examples
    --------
    >>> ev = make_events([2, 0, 1], [5.0, 1.0, 3.0])
    >>> ev.cell.tolist(), ev.t_days.tolist()
    ([0, 1, 2], [1.0, 3.0, 5.0])
    """
    c = np.asarray(cell)
    t = np.asarray(t_days, dtype=np.float64)
    if c.ndim != 1 or t.shape != c.shape:
        raise InvalidParameterError(
            f"cell and t_days must be 1-d and equally long, got {c.shape} and {t.shape}"
        )
    if c.size and not np.issubdtype(c.dtype, np.integer):
        raise InvalidParameterError(f"cell must hold integers, got dtype {c.dtype}")
    c = c.astype(np.int64)
    if (c < 0).any():
        raise InvalidParameterError("cell holds negative indices (incidents outside the grid)")
    if not np.isfinite(t).all():
        raise InvalidParameterError("t_days holds NaN or infinite values")
    if (x is None) != (y is None):
        raise InvalidParameterError("give both x and y, or neither")
    order = np.argsort(t, kind="stable")
    xs = ys = None
    if x is not None and y is not None:
        xs = np.asarray(x, dtype=np.float64)
        ys = np.asarray(y, dtype=np.float64)
        if xs.shape != c.shape or ys.shape != c.shape:
            raise InvalidParameterError(
                f"x and y must have one value per incident ({c.size}), got {xs.shape}, {ys.shape}"
            )
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            raise InvalidParameterError("x or y holds NaN or infinite values")
        xs, ys = xs[order], ys[order]
    return EventSet(cell=c[order], t_days=t[order], x=xs, y=ys)


@dataclass(frozen=True)
class StudyCells:
    """The cells a forecast ranks.

    Attributes
    ----------
    x, y
        Metric centroid of each cell.
    neighbours
        Binary k-ring neighbour matrix WITHOUT the diagonal (``spatial.grid.h3grid.neighbours``),
        or None; needed by ``gistar`` and ``msrate``.
    crs
        The metric CRS of ``x, y`` (and of the incidents' ``x, y``).
    """

    x: FloatArray
    y: FloatArray
    neighbours: sp.csr_matrix | None = None
    crs: str = "EPSG:28992"

    @property
    def n(self) -> int:
        """Number of cells."""
        return int(self.x.size)


def make_cells(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    neighbours: sp.spmatrix | sp.sparray | None = None,
    crs: str = "EPSG:28992",
) -> StudyCells:
    """Validate study cells (metric centroids and optional neighbour matrix).

    Examples
    --------
    >>> make_cells([0.0, 100.0], [0.0, 0.0]).n
    2
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.ndim != 1 or xs.shape != ys.shape or xs.size == 0:
        raise InvalidParameterError(
            f"cell centroids must be non-empty 1-d arrays of equal length, got {xs.shape}, "
            f"{ys.shape}"
        )
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise InvalidParameterError("cell centroids hold NaN or infinite values")
    w = None
    if neighbours is not None:
        w = sp.csr_matrix(neighbours, dtype=np.float64)
        if w.shape != (xs.size, xs.size):
            raise InvalidParameterError(f"neighbours must be {xs.size}x{xs.size}, got {w.shape}")
    return StudyCells(x=xs, y=ys, neighbours=w, crs=crs)


def _check(events: EventSet, cells: StudyCells) -> None:
    if events.n and int(events.cell.max()) >= cells.n:
        raise InvalidParameterError(
            f"incident cell index {int(events.cell.max())} is outside the {cells.n} study cells"
        )


def _points(events: EventSet, cells: StudyCells) -> tuple[FloatArray, FloatArray]:
    """Incident coordinates, or their cell centroids when the incidents carry none."""
    if events.x is not None and events.y is not None:
        return events.x, events.y
    return cells.x[events.cell], cells.y[events.cell]


# --------------------------------------------------------------------------- method protocol


class Scorer(Protocol):
    """A prepared method: score all study cells at origin ``t0``."""

    def __call__(self, t0: float, train_days: float | None = None) -> FloatArray:
        """Return one score per study cell from incidents in ``[t0 - train_days, t0)``."""
        ...


Prepare = Callable[[EventSet, StudyCells], Scorer]


@dataclass(frozen=True)
class ForecastMethod:
    """A named forecast method.

    Attributes
    ----------
    name
        Registry key, e.g. ``"kde_250m_730d"``.
    baseline
        True for the reference methods, False for a method under evaluation.
    description
        One line for tables.
    prepare
        ``prepare(events, cells)`` returns a :class:`Scorer`.
    """

    name: str
    baseline: bool
    description: str
    prepare: Prepare

    def score(
        self, events: EventSet, cells: StudyCells, t0: float, train_days: float | None = None
    ) -> FloatArray:
        """Score all study cells at one origin (prepares, then scores once)."""
        return self.prepare(events, cells)(t0, train_days)


def _start(t0: float, window_days: float, train_days: float | None) -> float:
    """Earliest incident time a method with history ``window_days`` may use."""
    if not math.isfinite(t0):
        raise InvalidParameterError(f"t0 must be finite, got {t0!r}")
    if train_days is not None and not train_days > 0:
        raise InvalidParameterError(f"train_days must be > 0 or None, got {train_days!r}")
    span = window_days if train_days is None else min(window_days, float(train_days))
    return t0 - span


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float | np.floating) and math.isfinite(value) and value > 0):
        raise InvalidParameterError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _train_origins(train_origins: int | None, horizon_days: float) -> int:
    """Return the number of training origins: the given one, or a year of them (365 / h)."""
    if train_origins is None:
        return max(1, round(365.0 / horizon_days))
    if (
        isinstance(train_origins, bool)
        or not isinstance(train_origins, int | np.integer)
        or train_origins < 1
    ):
        raise InvalidParameterError(f"train_origins must be an integer >= 1, got {train_origins!r}")
    return int(train_origins)


# --------------------------------------------------------------------------- shared pieces


@dataclass(frozen=True)
class _Pairs:
    """Incident-cell pairs closer than a radius, sorted by incident (hence by time)."""

    offsets: IntArray  # pairs of incident i are [offsets[i], offsets[i + 1])
    cell: IntArray
    dist: FloatArray

    def window(self, s: slice) -> slice:
        return slice(int(self.offsets[s.start]), int(self.offsets[s.stop]))


def _pairs(events: EventSet, cells: StudyCells, radius_m: float) -> _Pairs:
    px, py = _points(events, cells)
    cell_tree = cKDTree(np.column_stack([cells.x, cells.y]))
    if events.n == 0:
        return _Pairs(np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0))
    ev_tree = cKDTree(np.column_stack([px, py]))
    found = ev_tree.sparse_distance_matrix(cell_tree, radius_m, output_type="ndarray")
    # Strictly inside the radius: the kernels are 0 at d = h.
    found = found[found["v"] < radius_m]
    order = np.lexsort((found["j"], found["i"]))
    ev = found["i"][order].astype(np.int64)
    offsets = np.searchsorted(ev, np.arange(events.n + 1), side="left").astype(np.int64)
    return _Pairs(offsets, found["j"][order].astype(np.int64), found["v"][order].astype(float))


def window_counts(events: EventSet, n_cells: int, start: float, stop: float) -> FloatArray:
    """Incidents per cell with ``start <= t < stop``.

    Examples
    --------
    >>> ev = make_events([0, 1, 1, 2], [1.0, 2.0, 3.0, 9.0])
    >>> window_counts(ev, 3, 0.0, 5.0).tolist()
    [1.0, 2.0, 0.0]
    """
    s = events.window(start, stop)
    return np.bincount(events.cell[s], minlength=n_cells).astype(np.float64)


def _second_ring(w: sp.csr_matrix) -> sp.csr_matrix:
    """Cells two steps away in ``w`` that are neither neighbours nor the cell itself."""
    b = (w != 0).astype(np.float64)
    reach = ((b @ b + b) != 0).astype(np.float64).tolil()
    reach.setdiag(0.0)
    out = sp.csr_matrix(reach) - b
    out.eliminate_zeros()
    return sp.csr_matrix((out > 0).astype(np.float64))


def _nnls_gram(gram: FloatArray, cross: FloatArray) -> FloatArray:
    r"""Solve NNLS from the Gram matrix :math:`G = X^\top X` and :math:`c = X^\top y` only.

    Minimises :math:`\lVert X\beta - y\rVert^2` over :math:`\beta \ge 0`.

    With :math:`G = Q \Lambda Q^\top`, :math:`A = \Lambda^{1/2} Q^\top` and
    :math:`d = \Lambda^{-1/2} Q^\top c` (over :math:`\lambda > 0`),
    :math:`\lVert A\beta - d\rVert^2 = \beta^\top G \beta - 2 c^\top \beta + \text{const}`
    (``c`` lies in the range of ``G``), so NNLS on ``(A, d)`` is the same problem.
    """
    lam, q = np.linalg.eigh(gram)
    keep = lam > lam.max(initial=0.0) * 1e-12
    if not keep.any():
        return np.zeros(gram.shape[0])
    a = np.sqrt(lam[keep])[:, None] * q[:, keep].T
    d = (q[:, keep].T @ cross) / np.sqrt(lam[keep])
    beta, _ = nnls(a, d, maxiter=50 * gram.shape[0])
    return np.asarray(beta, dtype=np.float64)
