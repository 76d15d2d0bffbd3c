"""Where to act: rates, ranks, priorities, IHA, coverage, cameras, equity, monitor, evaluation."""

from spatial.targeting.camera_plan import (
    CameraPlan,
    counts_near,
    merge_identical,
    plan_flexible_cameras,
    recency_weights,
    review_fixed,
)
from spatial.targeting.coverage import (
    MAX_GRID_POINTS,
    CoverageCurve,
    MCLPResult,
    coverage_curve,
    coverage_matrix,
    greedy_mclp,
    grid_candidates,
    mclp_from_matrix,
)
from spatial.targeting.equity import (
    EquityTable,
    equity_table,
)
from spatial.targeting.evaluation import (
    CameraRule,
    WDQResult,
    YearlyTrend,
    camera_rule,
    weighted_displacement,
    yearly_trend,
)
from spatial.targeting.iha import (
    IHAProposals,
    composite_z,
    disk_matrix,
    disk_rings,
    propose_iha_areas,
)
from spatial.targeting.monitor import (
    MonitorResult,
    rates_against_target,
)
from spatial.targeting.priorities import (
    PriorityTable,
    area_priorities,
    counts_by_year,
    points_in_areas,
    share_per_area,
)
from spatial.targeting.ranking import (
    RankIntervals,
    TrendResult,
    priority_score,
    rank_intervals,
    trend_per_area,
)
from spatial.targeting.smoothing import (
    EBResult,
    eb_rates,
    empirical_bayes,
)

__all__ = [
    "MAX_GRID_POINTS",
    "CameraPlan",
    "CameraRule",
    "CoverageCurve",
    "EBResult",
    "EquityTable",
    "IHAProposals",
    "MCLPResult",
    "MonitorResult",
    "PriorityTable",
    "RankIntervals",
    "TrendResult",
    "WDQResult",
    "YearlyTrend",
    "area_priorities",
    "camera_rule",
    "composite_z",
    "counts_by_year",
    "counts_near",
    "coverage_curve",
    "coverage_matrix",
    "disk_matrix",
    "disk_rings",
    "eb_rates",
    "empirical_bayes",
    "equity_table",
    "greedy_mclp",
    "grid_candidates",
    "mclp_from_matrix",
    "merge_identical",
    "plan_flexible_cameras",
    "points_in_areas",
    "priority_score",
    "propose_iha_areas",
    "rank_intervals",
    "rates_against_target",
    "recency_weights",
    "review_fixed",
    "share_per_area",
    "trend_per_area",
    "weighted_displacement",
    "yearly_trend",
]
