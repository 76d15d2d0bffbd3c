"""Where incidents concentrate now: Getis-Ord Gi*, kernel density, hotspot clusters."""

from spatial.hotspots.clusters import (
    cell_clusters,
    cluster_sums,
)
from spatial.hotspots.gistar import (
    CONFIDENCE_LEVELS,
    P_SIM_METHODS,
    GiStarResult,
    benjamini_hochberg,
    classify,
    gistar,
    gistar_permutation_p,
    gistar_z,
    permutation_p,
    with_self,
)
from spatial.hotspots.kde import (
    M2_PER_KM2,
    MIN_BANDWIDTH_CELLS,
    KDEResult,
    kde_grid,
    mean_per_cell,
    quartic_kernel,
    silverman_spatial_bandwidth,
)

__all__ = [
    "CONFIDENCE_LEVELS",
    "M2_PER_KM2",
    "MIN_BANDWIDTH_CELLS",
    "P_SIM_METHODS",
    "GiStarResult",
    "KDEResult",
    "benjamini_hochberg",
    "cell_clusters",
    "classify",
    "cluster_sums",
    "gistar",
    "gistar_permutation_p",
    "gistar_z",
    "kde_grid",
    "mean_per_cell",
    "permutation_p",
    "quartic_kernel",
    "silverman_spatial_bandwidth",
    "with_self",
]
