"""The JSON/GeoJSON API under ``/api/v1`` (:mod:`.routes`, :mod:`.targeting`) and its docs pages."""
