r"""Equity check of a proposal set: which wijken get more than their share.

Effort :math:`e_w` (cameras, action areas, priority areas, split over wijken) is compared,
as shares of the total, with each wijk's share of the incidents :math:`c_w` and of the
dwellings :math:`b_w`:

.. math::

    s^e_w = e_w / \sum e, \quad s^c_w = c_w / \sum c, \quad s^b_w = b_w / \sum b .

A wijk *gets more than its share* when :math:`s^e_w > r\, s^c_w` and
:math:`s^e_w - s^c_w \ge m` (default :math:`r = 1.5`, :math:`m` = 2 percentage points): more
effort than its incidents explain, by a margin that one camera more or less does not
create. The dwelling share is reported beside it (effort per dwelling), not tested: the
incidents are the need the proposals answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spatial.errors import InvalidParameterError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class EquityTable:
    """Shares per wijk (arrays aligned with the wijken given).

    Attributes
    ----------
    effort_share, incident_share, dwelling_share
        Shares of the totals (0 where a total is 0).
    over
        The wijk gets more than its share (see the module docstring).
    """

    effort: FloatArray
    effort_share: FloatArray
    incident_share: FloatArray
    dwelling_share: FloatArray
    over: npt.NDArray[np.bool_]


def _share(x: FloatArray) -> FloatArray:
    total = x.sum()
    return x / total if total > 0 else np.zeros_like(x)


def equity_table(
    effort: npt.ArrayLike,
    incidents: npt.ArrayLike,
    dwellings: npt.ArrayLike,
    *,
    ratio: float = 1.5,
    min_points: float = 0.02,
) -> EquityTable:
    """Shares of effort, incidents and dwellings per wijk, and which get more than theirs.

    Parameters
    ----------
    effort, incidents, dwellings
        One non-negative value per wijk (NaN dwellings count as 0).
    ratio, min_points
        A wijk is *over* when its effort share exceeds ``ratio`` times its incident share and
        the difference is at least ``min_points`` (a share, 0.02 = 2 percentage points).

    Returns
    -------
    EquityTable

    Raises
    ------
    InvalidParameterError
        Mismatched lengths or negative values.

    Examples
    --------
    Four wijken; ten proposals, five in the first, which has 20 % of the incidents:

    >>> t = equity_table([5, 3, 2, 0], [20, 40, 30, 10], [1000, 3000, 4000, 2000])
    >>> t.effort_share.tolist(), t.incident_share.tolist(), t.over.tolist()
    ([0.5, 0.3, 0.2, 0.0], [0.2, 0.4, 0.3, 0.1], [True, False, False, False])
    """
    e = np.asarray(effort, dtype=np.float64)
    c = np.asarray(incidents, dtype=np.float64)
    b = np.nan_to_num(np.asarray(dwellings, dtype=np.float64), nan=0.0)
    if not e.shape == c.shape == b.shape or e.ndim != 1:
        raise InvalidParameterError(
            f"effort, incidents and dwellings must be 1-d of one length: {e.shape} {c.shape} "
            f"{b.shape}"
        )
    if (e < 0).any() or (c < 0).any() or (b < 0).any():
        raise InvalidParameterError("effort, incidents and dwellings must be non-negative")
    se, sc, sb = _share(e), _share(c), _share(b)
    return EquityTable(
        effort=e,
        effort_share=se,
        incident_share=sc,
        dwelling_share=sb,
        over=(se > ratio * sc) & (se - sc >= min_points),
    )
