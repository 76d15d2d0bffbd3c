"""Settings, read from the environment with the ``GEO_SERVICE_`` prefix.

Nothing is read at import time: call :func:`get_settings` (cached) or build a
:class:`Settings` explicitly (tests do, with a ``tmp_path`` database).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from spatial.grid.h3grid import MAX_RES, MIN_RES

Role = Literal["viewer", "analyst", "admin"]

#: How a store catalogued in PostgreSQL is named (``--db``, ``GEO_SERVICE_DB``):
#: ``postgres:<libpq key=value string>`` or a libpq URI ``postgres://`` / ``postgresql://``.
POSTGRES_DB_PREFIXES = ("postgres:", "postgresql://")


def db_target(value: str | Path) -> Path | str:
    """Return ``--db`` as given: a PostgreSQL store as its text, anything else as a path.

    A :class:`~pathlib.Path` would fold the ``//`` of a URI (``postgres://geo@db/geo``
    became ``postgres:/geo@db/geo``), so a PostgreSQL store is never made a path.

    Examples
    --------
    >>> db_target("postgres://geo@db:5432/geo")
    'postgres://geo@db:5432/geo'
    >>> db_target("data/hotspots.duckdb")
    PosixPath('data/hotspots.duckdb')
    """
    if isinstance(value, str) and value.startswith(POSTGRES_DB_PREFIXES):
        return value
    return Path(value)


def is_postgres_db(value: str | Path) -> bool:
    """Whether ``value`` names a store catalogued in PostgreSQL (see :func:`db_target`)."""
    return str(value).startswith(POSTGRES_DB_PREFIXES)


PDOK_BRT_TILES = (
    "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"
)


class Settings(BaseSettings):
    """Service configuration.

    Every field can be set as an environment variable ``GEO_SERVICE_<FIELD>``,
    e.g. ``GEO_SERVICE_DB=/var/lib/geo/hotspots.duckdb``.
    """

    model_config = SettingsConfigDict(env_prefix="GEO_SERVICE_", extra="ignore")

    db: Path | str = Field(
        default=Path("hotspots.duckdb"),
        description="store: a file (shared DuckLake store, or a DuckDB file of before) or "
        "postgres:<libpq connection string> or a postgres:// URI (data files in "
        "$GEO_SERVICE_DATA_PATH)",
    )
    data_version_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="seconds between checks for data committed by another process or worker",
    )
    demo_as_of: date | None = Field(
        default=None,
        description="the demo's 'today' for `geo-service demo` (default: today); the store "
        "records it and the pages of a demo store read their clock from there",
    )
    anonymous_role: Role | None = Field(
        default="viewer", description="role of requests without an API key; None refuses them"
    )
    min_count_k: int = Field(
        default=5,
        ge=1,
        description="viewers never see a count below this (small-count suppression)",
    )
    viewer_max_res: int = Field(
        default=10,
        ge=MIN_RES,
        le=MAX_RES,
        description="finest H3 resolution without an analyst key",
    )
    viewer_disclosure: Literal["cellkey", "rounding"] = Field(
        default="cellkey",
        description="disclosure control of viewer counts: 'cellkey' (perturbation by the cell "
        "key method on a fixed lattice of quarters and years; README 'Privacy model') or "
        "'rounding' (the old rule: rounded counts on any period of whole months -- NOT safe "
        "against differencing, kept only to show the attack in the tests)",
    )
    viewer_noise: int = Field(
        default=2, ge=1, le=10, description="cell key method: shown counts differ by at most this"
    )
    viewer_min_period_months: int = Field(
        default=3, ge=1, le=120, description="'rounding' only: shortest period in whole months"
    )
    viewer_round_to: int = Field(
        default=5, ge=1, le=100, description="'rounding' only: counts rounded to a multiple of this"
    )
    public_url: str | None = Field(
        default=None,
        description="URL clients reach the service at (e.g. https://hotspots.gemeente.nl); "
        "links are built from it and the Host header is ignored",
    )
    allowed_hosts: list[str] = Field(
        default=["localhost", "127.0.0.1", "[::1]", "testserver"],
        description="Host headers accepted when no public_url is set ('*' = any)",
    )
    max_upload_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1024, description="largest incident upload"
    )
    max_upload_decompressed_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1024,
        description="largest size an upload may expand to when read (a .csv.gz decompressed)",
    )
    max_upload_rows: int = Field(
        default=1_000_000,
        ge=1,
        description="most rows one upload may hold (CSV: lines after the header)",
    )
    stale_upload_age_s: int = Field(
        default=3600,
        ge=0,
        description="at start, remove upload folders unchanged this long whose process is gone",
    )
    anonymous_budget_requests: int = Field(
        default=600,
        ge=0,
        description="requests per window one client address may make without an API key "
        "(token bucket; 0 = no limit); past it 429 with Retry-After",
    )
    anonymous_budget_window_s: int = Field(
        default=600, ge=1, description="window of anonymous_budget_requests, in seconds"
    )
    anonymous_budget_burst: int = Field(
        default=120,
        ge=1,
        description="requests one client address may make at once without an API key",
    )
    cache_max_bytes: int = Field(
        default=128 * 1024 * 1024, ge=1024 * 1024, description="response cache size in bytes"
    )
    compute_workers: int = Field(
        default=2, ge=1, le=64, description="hotspot computations running at the same time"
    )
    warm_up: bool = Field(
        default=True, description="precompute the standard layers in the background at start"
    )
    timezone: str = Field(
        default="Europe/Amsterdam",
        description="IANA zone of naive timestamps in Dutch files, and of OGC datetime instants",
    )
    max_cells_viewer: int = Field(
        default=60_000,
        ge=100,
        description="largest study grid (H3 cells) one anonymous/viewer request may compute",
    )
    max_cells_analyst: int = Field(
        default=300_000,
        ge=100,
        description="largest study grid (H3 cells) one analyst/admin request may compute",
    )
    tile_url: str = Field(default=PDOK_BRT_TILES, description="basemap XYZ tile URL ('' = none)")
    tile_attribution: str = Field(
        default="Kaartgegevens &copy; Kadaster / PDOK (BRT-Achtergrondkaart)"
    )
    max_features: int = Field(default=10_000, ge=1, description="OGC API items page size limit")
    default_h3_res: int = Field(default=10, ge=MIN_RES, le=MAX_RES)
    permutations: int = Field(default=999, ge=0)
    alert_max_zone_radius_m: float = Field(
        default=400.0,
        ge=50.0,
        le=5_000.0,
        description="largest near-repeat alert zone (radius of the enclosing disc, metres): "
        "one leafleting round; longer chains of circles are split",
    )
    bootstrap_secret: SecretStr | None = Field(
        default=None,
        description="one-time secret that lets `POST /api/v1/keys/bootstrap` create the first "
        "admin key while the service runs (refused once used, or when an admin key exists)",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="secret that signs the pages' session and CSRF cookies (default: one made "
        "at first start and kept in the store's meta table)",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer URL for signing in on the pages (optional; with "
        "oidc_client_id, oidc_client_secret and oidc_role_groups)",
    )
    oidc_client_id: str | None = Field(default=None, description="OpenID Connect client id")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="OpenID Connect client secret (client_secret_basic)"
    )
    oidc_role_groups: dict[str, Role] = Field(
        default_factory=dict,
        description="groups of the identity provider and the role each gives, as JSON: "
        '{"geo-analisten": "analyst", "geo-beheer": "admin"}; the highest role wins, an '
        "account in none of them is refused",
    )
    oidc_groups_claim: str = Field(
        default="groups", description="ID token claim that lists the account's groups"
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="the per-request log line: 'json' (one JSON object a line: time, "
        "request_id, method, route, status, duration_ms, role) or 'text'",
    )
    metrics_access: Literal["loopback", "admin"] = Field(
        default="loopback",
        description="who may read /metrics: 'loopback' (callers on 127.0.0.1 / ::1, e.g. a "
        "Prometheus beside the service) or 'admin' (an admin API key, from anywhere)",
    )
    session_max_age_s: int = Field(
        default=8 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        description="how long a sign-in on the pages (/inloggen) lasts, in seconds",
    )

    @field_validator("db", mode="before")
    @classmethod
    def _db_target(cls, value: object) -> object:
        """Keep a PostgreSQL store as text, make anything else a path (:func:`db_target`)."""
        return db_target(value) if isinstance(value, str | Path) else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
