"""``--db`` and ``GEO_SERVICE_DB`` take a file, ``postgres:<libpq string>`` or a libpq URI.

A :class:`~pathlib.Path` folds the ``//`` of ``postgres://geo@db/geo`` into
``postgres:/geo@db/geo``, which libpq cannot read; the URI must reach libpq whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo_service.cli import build_parser, default_db, main
from geo_service.config import Settings
from geo_service.store import Store
from geo_service.store.core import resolve_location
from tests.postgres import PostgresServer

URI = "postgres://geo:s3cr3t@db.example:5432/geo"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (URI, URI),
        ("postgresql://geo@db.example/geo", "postgresql://geo@db.example/geo"),
        ("postgres:host=db user=geo dbname=geo", "postgres:host=db user=geo dbname=geo"),
        ("data/hotspots.duckdb", Path("data/hotspots.duckdb")),
    ],
)
def test_the_cli_keeps_a_postgres_store_as_text_and_a_file_as_a_path(
    given: str, expected: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = build_parser().parse_args(["--db", given, "status"])
    assert args.db == expected
    assert type(args.db) is type(expected)
    monkeypatch.setenv("GEO_SERVICE_DB", given)
    assert default_db() == expected
    assert Settings().db == expected  # the service's workers read it from the environment
    assert Settings(db=given).db == expected


def test_a_uri_goes_to_libpq_whole_and_a_key_value_string_without_its_prefix() -> None:
    assert resolve_location(URI).catalog == URI
    assert resolve_location("postgres:host=db dbname=geo").catalog == "host=db dbname=geo"
    assert resolve_location(URI).kind == "postgres"
    assert "s3cr3t" not in resolve_location(URI).display()
    assert resolve_location(URI).display() == "postgres://geo:***@db.example:5432/geo"


def test_a_store_opens_on_postgres_through_a_uri(
    postgres_server: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GEO_SERVICE_DATA_PATH", str(tmp_path / "files"))
    (tmp_path / "files").mkdir()
    name = postgres_server.create_database()
    sock = postgres_server.root / "sock"
    uri = f"postgresql://{postgres_server.user}@/{name}?host={sock}&port={postgres_server.port}"
    with Store.open(uri) as store:
        store.set_meta("opened_through", "uri")
    # The same catalog through the key=value form: what the URI wrote is there.
    with Store.open("postgres:" + postgres_server.conninfo(name)) as store:
        assert store.meta("opened_through") == "uri"
    assert main(["--db", uri, "status"]) == 0
    assert "Traceback" not in capsys.readouterr().err
