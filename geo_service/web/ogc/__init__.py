"""OGC API - Features (:mod:`.features`): the published layers as OGC collections under ``/ogc``."""
