"""One module per analysis: read the store, call :mod:`spatial`, return a typed result.

An adapter only filters, projects and calls the pure computation (``Params`` and
``compute(store, params)`` to a frozen result); the CLI (:mod:`geo_service.commands`) and
the web layer (:mod:`geo_service.web`) call these, never the other way round.
:mod:`.targeting` holds what the targeting analyses share (years, wording, equity).
"""
