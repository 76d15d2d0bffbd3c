"""Pure spatial computation: H3 grids, kernel density, Getis-Ord Gi*, CRS handling.

Arrays, DataFrames and GeoDataFrames go in, frozen dataclasses come out. This
package never imports duckdb, fastapi or folium.
"""
