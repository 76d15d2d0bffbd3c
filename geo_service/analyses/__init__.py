"""One module per analysis: read the store, call :mod:`spatial`, return a typed result.

An adapter only filters, projects and calls the pure computation (``Params`` and
``compute(store, params)`` to a frozen result); the CLI (:mod:`geo_service.commands`) and
the web layer (:mod:`geo_service.web`) call these, never the other way round.
:mod:`.targeting` holds what the targeting analyses share (years, wording, equity).
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["default_of"]


def default_of(cls: type[Any], name: str) -> Any:
    """Return the default of field ``name`` of the dataclass ``cls``.

    A parameter's default lives once, in its analysis's ``*Params`` class; the API's query
    parameters, the pages and the CLI read it from there.

    Examples
    --------
    >>> from geo_service.analyses.camera_plan import CameraPlanParams
    >>> default_of(CameraPlanParams, "count")
    22

    Raises
    ------
    KeyError
        ``cls`` has no field ``name``, or the field has no default.
    """
    for field in dataclasses.fields(cls):
        if field.name == name:
            if field.default is not dataclasses.MISSING:
                return field.default
            if field.default_factory is not dataclasses.MISSING:
                return field.default_factory()
            break
    raise KeyError(f"{cls.__name__}.{name} has no default")
