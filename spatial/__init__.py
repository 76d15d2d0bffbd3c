"""Pure spatial computation, one package per family of methods.

``grid`` (CRS, H3 grid, point-in-polygon, time zones), ``hotspots`` (Gi*, KDE,
clusters), ``spacetime`` (trend, emerging hotspots, Knox, near repeat), ``forecast``
(methods, backtest, evaluation), ``targeting`` (smoothing, ranking, priorities, IHA,
coverage, camera plan, equity, monitor) and ``privacy`` (disclosure control);
``errors`` holds the exceptions that every family raises.

Arrays, DataFrames and GeoDataFrames go in, frozen dataclasses come out. This
package never imports duckdb, fastapi or folium. A module inside a family imports its
siblings by their module path, never through the family's ``__init__``, so that the
faces add no import cycle.
"""
