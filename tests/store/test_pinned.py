"""One snapshot per read: ``StoreBase.pinned`` while another process commits.

Expected values are counted by hand: the store holds 20 incidents at data version 1 (one
batch); the second process commits one batch of 5 more (version 2).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from geo_service.store import Store
from tests.store.test_shared import _incidents, _write

COMMIT = """
import sys
from tests.store.test_shared import _incidents, _write
from geo_service.store import Store
with Store.open(sys.argv[1]) as store:
    _write(store, "other", _incidents(100, 5))
"""


def _commit_from_another_process(db: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", COMMIT, db], capture_output=True, text=True, timeout=180, check=False
    )
    assert out.returncode == 0, out.stderr


def test_a_pinned_read_sees_one_commit_while_another_process_commits(store_db: str) -> None:
    with Store.open(store_db) as store:
        _write(store, "own", _incidents(0, 20))
        reader = store.cursor()  # as a request's store
        with reader.pinned():
            version, count = reader.data_version(), reader.count_incidents()
            assert (version, count) == ("1", 20)
            _commit_from_another_process(store_db)
            # Between two reads of one response: the same data and the same version.
            assert reader.count_incidents() == 20
            assert reader.data_version() == "1"
            assert store.cursor().count_incidents() == 25  # an unpinned cursor sees the commit
        # After the block the reader follows again, and the version probe was not left with
        # the new snapshot filed under the old version.
        assert (reader.data_version(), reader.count_incidents()) == ("2", 25)
        assert store.data_version() == "2"


def test_a_pinned_read_refuses_to_write_and_the_store_stays_usable(store_db: str) -> None:
    with Store.open(store_db) as store:
        with pytest.raises(RuntimeError, match="pinned"), store.pinned():
            store.set_meta("x", "1")
        store.set_meta("x", "2")  # the read transaction ended with the block
        assert store.meta("x") == "2"
        with store.pinned(), store.pinned():  # nested: joins
            assert store.meta("x") == "2"
