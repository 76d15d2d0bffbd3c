"""Map layers (folium FeatureGroups) and GeoJSON documents built from :mod:`spatial` results.

No I/O happens here.
"""
