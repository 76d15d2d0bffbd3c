r"""Statistical disclosure control for published counts: the cell key method.

Every record carries a fixed pseudo-random *record key* :math:`r_i \in \{0, \dots, 2^{32}-1\}`
(a keyed hash of its identity, made by the store). A published count :math:`n` of a set of
records :math:`S` gets the *cell key*

.. math::

    c(S) = \Bigl(\sum_{i \in S} r_i\Bigr) \bmod 2^{32}, \qquad u = c / 2^{32} \in [0, 1),

and is shown as :math:`n + p(n, u)`, where :math:`p` is read from a perturbation table: the
quantile :math:`u` of a fixed discrete distribution of noise for counts of size :math:`n`. The
same records always give the same key and so the same shown value, however often and in
whichever query they are asked for: repeating a query averages nothing out, and two outputs
of the same set of records agree. Shown values below ``k`` are withheld (suppression after
perturbation, so "withheld" covers true counts up to :math:`k - 1 + D`).

The noise distribution (:class:`CellKeyPerturbation`): :math:`p \in \{-D, \dots, D\}` with
probabilities proportional to :math:`D + 1 - |p|` (a discrete triangle), zero mean and variance
:math:`D(D + 2)/6` (:math:`D = 2`: probabilities 1/9, 2/9, 3/9, 2/9, 1/9, variance 4/3). For
:math:`n < D` the negative tail is cut at :math:`-n` and folded onto :math:`p = 0` (no negative
counts; such values are withheld in any case when :math:`n + D < k`). Zero stays zero (an empty
set of records has no key).

What a viewer can learn (with the time lattice of :mod:`geo_service.web.policy`): a shown value
:math:`v` says :math:`n \in [v - D, v + D]`; a withheld one says :math:`n \le k - 1 + D`. The
difference of two shown values of nested sets bounds the records in between only to a window
of width :math:`4D + 1`, so an exact small count is never derived from two outputs.

References
----------
.. [1] Fraser, B. & Wooton, J. (2005). A proposed method for confidentialising tabular output
       to protect against differencing. UNECE/Eurostat Work Session on Statistical Data
       Confidentiality, Geneva (the ABS TableBuilder cell key method).
.. [2] Thompson, G., Broadfoot, S. & Elazar, D. (2013). Methodology for the automatic
       confidentialisation of statistical outputs from remote servers at the Australian
       Bureau of Statistics. Joint UNECE/Eurostat Work Session, Ottawa.
.. [3] Eurostat (2021). Guidelines for statistical disclosure control methods applied on
       geo-referenced data (census 2021 grid data; cell key method, ptable design).
.. [4] Hundepool, A. et al. (2012). Statistical Disclosure Control. Wiley (chapter 5,
       tabular data; tau-ARGUS, developed at CBS).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from spatial.errors import InvalidParameterError

#: Cell keys live in [0, 2**32).
KEY_MODULUS = 2**32


def cell_keys(
    record_keys: npt.ArrayLike, groups: npt.ArrayLike, n_groups: int
) -> npt.NDArray[np.uint64]:
    """Return the cell key of each group: the sum of its records' keys modulo :math:`2^{32}`.

    Parameters
    ----------
    record_keys
        One key per record, integers in ``[0, 2**32)``.
    groups
        The group (cell) index of each record, ``0 <= g < n_groups``; ``-1`` = in no group.
    n_groups
        Number of groups.

    Returns
    -------
    ndarray of uint64
        Keys in ``[0, 2**32)``; 0 for empty groups.

    Notes
    -----
    Sums are taken in unsigned 64-bit integers, which wrap modulo :math:`2^{64}`; since
    :math:`2^{32}` divides :math:`2^{64}` the result modulo :math:`2^{32}` is exact for any
    number of records. The key of a union of disjoint groups is the sum of their keys modulo
    :math:`2^{32}` (what :func:`combine_keys` does).

    Examples
    --------
    >>> cell_keys([2**32 - 1, 5, 7], [0, 0, 1], 3).tolist()
    [4, 7, 0]
    """
    rk = np.asarray(record_keys, dtype=np.uint64)
    g = np.asarray(groups, dtype=np.int64)
    if rk.shape != g.shape:
        raise InvalidParameterError(f"one group per record key, got {rk.shape} and {g.shape}")
    ok = g >= 0
    out = np.zeros(n_groups, dtype=np.uint64)
    np.add.at(out, g[ok], rk[ok])  # wraps modulo 2**64
    return out % np.uint64(KEY_MODULUS)


def combine_keys(keys: npt.ArrayLike, axis: int | None = None) -> npt.NDArray[np.uint64]:
    """Return the cell key of a union of disjoint cells (sum of keys modulo :math:`2^{32}`).

    Examples
    --------
    >>> int(combine_keys([2**32 - 1, 2]))
    1
    """
    k = np.asarray(keys, dtype=np.uint64)
    return np.asarray(k.sum(axis=axis, dtype=np.uint64) % np.uint64(KEY_MODULUS))


def impute_withheld(
    shown: npt.ArrayLike,
    withheld: npt.ArrayLike,
    parent: npt.ArrayLike,
    parent_shown: npt.ArrayLike,
    cap: float,
) -> npt.NDArray[np.float64]:
    r"""Fill withheld cells from the published count of their parent cell, for statistics.

    A withheld cell's value for a statistic computed from published counts (a Gi* class, a
    density) is the part of its parent's published count that its shown siblings do not
    account for, shared equally among the parent's withheld children and capped at the
    largest count a withheld value can hide:

    .. math::

        \hat n_c = \min\Bigl(\mathrm{cap},\ rac{\max(0,\ v_P - \sum_{s \in S_P} v_s)}
        {|W_P|}\Bigr), \qquad c \in W_P

    with :math:`v` the published values, :math:`S_P` and :math:`W_P` the shown and withheld
    children of :math:`P`. Only published values go in, so the result says nothing the
    published counts do not; it keeps the many small counts of a dense area (which a zero
    would erase) in the statistic.

    Parameters
    ----------
    shown
        Published counts per cell (any value where withheld).
    withheld
        Where the cell's count is withheld.
    parent
        Index of each cell's parent in ``parent_shown`` (-1: none).
    parent_shown
        Published counts of the parents (0 where withheld).
    cap
        Largest value a withheld cell gets (``k - 1 + D``).

    Returns
    -------
    ndarray of float64
        ``shown`` where shown, the imputed value where withheld.

    Examples
    --------
    >>> impute_withheld([7, 0, 0, 0], [False, True, True, True], [0, 0, 0, -1], [13], 6)
    array([7., 3., 3., 0.])
    """
    v = np.asarray(shown, dtype=np.float64)
    w = np.asarray(withheld, dtype=bool)
    par = np.asarray(parent, dtype=np.int64)
    pv = np.asarray(parent_shown, dtype=np.float64)
    ok = par >= 0
    n_par = pv.size
    covered = np.bincount(par[ok & ~w], weights=v[ok & ~w], minlength=n_par)
    n_withheld = np.bincount(par[ok & w], minlength=n_par)
    residual = np.maximum(pv - covered, 0.0)
    share = np.divide(residual, n_withheld, out=np.zeros(n_par), where=n_withheld > 0)
    out = v.copy()
    out[w] = 0.0
    fill = w & ok
    out[fill] = np.minimum(share[par[fill]], cap)
    return out


@dataclass(frozen=True)
class CellKeyPerturbation:
    """The cell key method's parameters: noise range ``D`` and suppression threshold ``k``.

    Attributes
    ----------
    max_noise
        :math:`D`: shown values differ from the true count by at most this.
    min_count
        :math:`k`: shown values below it are withheld.
    shape
        Exponent of the noise weights :math:`(D + 1 - |p|)^{shape}`: 1 is the triangle
        (variance 4/3 at :math:`D = 2`), larger values concentrate on "no change". The
        guarantee (:meth:`interval`) depends on :math:`D` only.

    Examples
    --------
    >>> ck = CellKeyPerturbation(max_noise=2, min_count=5)
    >>> ck.noise_values.tolist(), [round(p * 9) for p in ck.noise_probabilities(10)]
    ([-2, -1, 0, 1, 2], [1, 2, 3, 2, 1])
    >>> shown, withheld = ck.perturb([0, 3, 12, 12], [0, 0, 0, 2**32 - 1])
    >>> shown.tolist(), withheld.tolist()
    ([nan, nan, 10.0, 14.0], [True, True, False, False])
    """

    max_noise: int = 2
    min_count: int = 5
    shape: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.max_noise <= 10:
            raise InvalidParameterError(f"max_noise must be in 0..10, got {self.max_noise!r}")
        if self.min_count < 1:
            raise InvalidParameterError(f"min_count must be >= 1, got {self.min_count!r}")

    @property
    def noise_values(self) -> npt.NDArray[np.int64]:
        """Return the possible perturbations, -D to D."""
        return np.arange(-self.max_noise, self.max_noise + 1, dtype=np.int64)

    @property
    def variance(self) -> float:
        """Variance of the noise for counts of at least ``D`` (:math:`D(D+2)/6` for shape 1)."""
        return float((self.noise_probabilities(self.max_noise) * self.noise_values**2).sum())

    def noise_probabilities(self, n: int) -> npt.NDArray[np.float64]:
        """Return the noise distribution for a true count ``n`` (a probability per value)."""
        p = (self.max_noise + 1 - np.abs(self.noise_values)).astype(np.float64) ** self.shape
        p /= p.sum()
        if n < self.max_noise:
            # no negative counts: the tail below -n folds onto "no change"
            cut = self.noise_values < -n
            p[self.noise_values == 0] += p[cut].sum()
            p[cut] = 0.0
        return p

    @cached_property
    def _cdf(self) -> npt.NDArray[np.float64]:
        """Cumulative probabilities, rows n = 0..D (row D serves every larger count)."""
        rows = np.array([np.cumsum(self.noise_probabilities(n)) for n in range(self.max_noise + 1)])
        rows[:, -1] = 1.0
        return rows

    def noise(self, counts: npt.ArrayLike, keys: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Return the perturbation of each count from its cell key (0 for a zero count)."""
        n = np.asarray(counts, dtype=np.int64)
        u = np.asarray(keys, dtype=np.uint64).astype(np.float64) / KEY_MODULUS
        if n.shape != u.shape:
            raise InvalidParameterError(f"one key per count, got {n.shape} and {u.shape}")
        if (n < 0).any():
            raise InvalidParameterError("counts must be non-negative")
        cdf = self._cdf[np.minimum(n, self.max_noise)]
        idx = (u[..., None] >= cdf).sum(axis=-1)
        p = self.noise_values[np.minimum(idx, self.max_noise * 2)]
        return np.where(n == 0, 0, p)

    def perturb(
        self, counts: npt.ArrayLike, keys: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Return the published values (NaN where withheld) and which are withheld.

        Parameters
        ----------
        counts
            True counts (non-negative integers).
        keys
            Their cell keys (:func:`cell_keys`).

        Returns
        -------
        shown : ndarray of float64
            :math:`n + p(n, u)`, NaN where below ``k``.
        withheld : ndarray of bool
        """
        n = np.asarray(counts, dtype=np.int64)
        shown = (n + self.noise(n, keys)).astype(np.float64)
        withheld = shown < self.min_count
        return np.where(withheld, np.nan, shown), withheld

    def interval(self, shown: float | None) -> tuple[int, int]:
        """Return what a published value says of the true count: the interval a viewer derives.

        Examples
        --------
        >>> ck = CellKeyPerturbation(max_noise=2, min_count=5)
        >>> ck.interval(None), ck.interval(5), ck.interval(12)
        ((0, 6), (3, 7), (10, 14))
        """
        if shown is None or not np.isfinite(shown):
            return 0, self.min_count - 1 + self.max_noise
        v = int(shown)
        return max(0, v - self.max_noise), v + self.max_noise
