"""The first admin key of a running service: ``POST /api/v1/keys/bootstrap``.

A fresh deployment has no key, and ``geo-service keys create`` needs a shell on the machine
that holds the store (DuckDB lets one process write it, and the server is that process). With
``GEO_SERVICE_BOOTSTRAP_SECRET`` set, one ``POST`` with that secret in the header
``X-Bootstrap-Secret`` creates an admin key and returns its secret, once: the use is recorded
in the store's ``meta`` table (``bootstrap_used_at``), and it is also refused when any admin
key exists already. Remove the variable after use.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from geo_service.errors import AuthenticationError, AuthorizationError
from geo_service.store.core import utc_now
from geo_service.web.deps import SettingsDep, StoreDep, reject_unknown_params

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(reject_unknown_params)])

USED_META_KEY = "bootstrap_used_at"


@router.post("/keys/bootstrap", status_code=201)
def bootstrap_admin_key(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    x_bootstrap_secret: Annotated[
        str | None,
        Header(description="the value of GEO_SERVICE_BOOTSTRAP_SECRET", max_length=500),
    ] = None,
) -> dict[str, Any]:
    """Create the first admin key with the one-time bootstrap secret; returns its secret once.

    401 without the right secret (or when none is configured); 403 once it was used or when
    an admin key exists. The secret of the new key is shown only in this answer.
    """
    configured = settings.bootstrap_secret
    sent = (x_bootstrap_secret or "").strip()
    if (
        configured is None
        or not sent
        or not hmac.compare_digest(
            sent.encode("utf-8"), configured.get_secret_value().encode("utf-8")
        )
    ):
        store.audit("anonymous", None, "key.bootstrap_refused", {"reason": "secret"})
        raise AuthenticationError(
            "wrong or no bootstrap secret (header X-Bootstrap-Secret) / onjuist of geen "
            "opstartgeheim (header X-Bootstrap-Secret)"
        )

    def block() -> tuple[str, str]:
        # Checked and made in one write transaction of the store: of several workers (or
        # machines) answering a bootstrap at once, one makes the key; the other runs again on
        # its result and is refused.
        if store.meta(USED_META_KEY) is not None or store.has_admin_key():
            raise AuthorizationError(
                "the bootstrap secret was used, or an admin key exists; create keys with an "
                "admin key / het opstartgeheim is al gebruikt of er is al een beheerderssleutel"
            )
        made = store.create_key("admin", "bootstrap", actor="bootstrap")
        store.set_meta(USED_META_KEY, utc_now().isoformat())
        return made

    try:
        key_id, secret = store.write(block)
    except AuthorizationError:
        store.audit("bootstrap", None, "key.bootstrap_refused", {"reason": "used"})
        raise
    return {
        "key_id": key_id,
        "role": "admin",
        "secret": secret,
        "note": "bewaar deze sleutel nu: hij wordt niet nog eens getoond / store this key now",
    }
