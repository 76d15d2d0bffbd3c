"""The service's licence, EUPL-1.2, as plain text at ``/licence``.

EUPL-1.2 article 11 asks a service that communicates the Work to tell the public the
licence; the OpenAPI ``info.license`` and the OGC landing page's ``license`` link point here.
The text is the ``LICENSE`` file that setuptools copies into the installed distribution's
metadata (``*.dist-info/licenses/LICENSE``, PEP 639), so it is there in a wheel install as
well as an editable one; a source tree that was never installed reads the repository file.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

LICENCE_ID = "EUPL-1.2"
LICENCE_PATH = "/licence"
# OpenAPI 3.1 info.license: an SPDX identifier (FastAPI's ``license_info``).
LICENSE_INFO = {"name": LICENCE_ID, "identifier": LICENCE_ID}
SOURCE_TREE_LICENSE = Path(__file__).resolve().parents[2] / "LICENSE"

router = APIRouter(tags=["licence"])


@lru_cache(maxsize=1)
def licence_text() -> str:
    """Return the full EUPL-1.2 text the project is distributed under.

    Returns
    -------
    str
        The ``LICENSE`` file of the installed ``geo-service`` distribution, or of the
        source tree when the package is not installed.

    Raises
    ------
    FileNotFoundError
        Neither the installed metadata nor the source tree holds the file.
    """
    try:
        text = distribution("geo-service").read_text("licenses/LICENSE")
    except PackageNotFoundError:
        text = None
    if text is None and SOURCE_TREE_LICENSE.is_file():
        text = SOURCE_TREE_LICENSE.read_text(encoding="utf-8")
    if text is None:
        raise FileNotFoundError("LICENSE not found in the installed package nor the source tree")
    return text


@router.get(
    LICENCE_PATH,
    response_class=PlainTextResponse,
    summary="Licence (EUPL-1.2), full text",
)
def licence() -> PlainTextResponse:
    """Return the full text of the European Union Public Licence v. 1.2."""
    return PlainTextResponse(licence_text())
