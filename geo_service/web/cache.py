"""A small in-process response cache keyed by (data version, path, parameters, role).

Entries never go stale: a change in the store bumps its data version, which is
part of the key. Old versions simply age out of the LRU.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedBody:
    """A rendered response body with its media type and strong ETag."""

    body: bytes
    media_type: str
    etag: str


class ResponseCache:
    """Thread-safe LRU of rendered bodies.

    Parameters
    ----------
    max_entries
        How many bodies to keep; the least recently used goes first.
    """

    def __init__(self, max_entries: int = 256) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries!r}")
        self._max = max_entries
        self._items: OrderedDict[Hashable, CachedBody] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> CachedBody | None:
        """Return the cached body for ``key``, or None."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: Hashable, body: bytes, media_type: str) -> CachedBody:
        """Store ``body`` under ``key`` and return it with its ETag."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        entry = CachedBody(body=body, media_type=media_type, etag=etag)
        with self._lock:
            self._items[key] = entry
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
