"""How patterns move in time: Mann-Kendall trend, emerging hotspots, Knox and near repeat."""

from spatial.spacetime.emerging import (
    PATROON,
    PATTERNS,
    EmergingHotSpotResult,
    classify_patterns,
    emerging_hotspots,
    spacetime_gistar_z,
)
from spatial.spacetime.knox import (
    KnoxNull,
    KnoxResult,
    knox_test,
    spatial_pairs,
)
from spatial.spacetime.nearrepeat import (
    DEFAULT_DAYS,
    DEFAULT_MAX_ZONE_RADIUS_M,
    DEFAULT_RADIUS_M,
    MIN_INCIDENTS,
    MIN_PAIRS,
    AlertZones,
    NearRepeatExtent,
    areal_estimate,
    merge_alert_zones,
    near_repeat_extent,
)
from spatial.spacetime.trend import (
    MannKendallResult,
    mann_kendall,
)

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_MAX_ZONE_RADIUS_M",
    "DEFAULT_RADIUS_M",
    "MIN_INCIDENTS",
    "MIN_PAIRS",
    "PATROON",
    "PATTERNS",
    "AlertZones",
    "EmergingHotSpotResult",
    "KnoxNull",
    "KnoxResult",
    "MannKendallResult",
    "NearRepeatExtent",
    "areal_estimate",
    "classify_patterns",
    "emerging_hotspots",
    "knox_test",
    "mann_kendall",
    "merge_alert_zones",
    "near_repeat_extent",
    "spacetime_gistar_z",
    "spatial_pairs",
]
