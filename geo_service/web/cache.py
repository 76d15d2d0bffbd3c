"""A small in-process response cache keyed by (data version, path, parameters, role).

Entries never go stale: a change in the store bumps its data version, which is
part of the key. Old versions simply age out of the LRU.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedBody:
    """A rendered response body with its media type and strong ETag."""

    body: bytes
    media_type: str
    etag: str


class ResponseCache:
    """Thread-safe LRU of rendered bodies, bounded in entries AND in bytes.

    Parameters
    ----------
    max_entries
        How many bodies to keep; the least recently used goes first.
    max_bytes
        Total size of the kept bodies; a body larger than a quarter of it is not kept
        (it is still served), so one huge answer cannot flush the cache.
    on_lookup
        Called with True (hit) or False (miss) after each :meth:`get` (the metrics).
    """

    def __init__(
        self,
        max_entries: int = 256,
        max_bytes: int = 256 * 1024 * 1024,
        on_lookup: Callable[[bool], None] | None = None,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries!r}")
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, got {max_bytes!r}")
        self._max = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._items: OrderedDict[Hashable, CachedBody] = OrderedDict()
        self._lock = threading.Lock()
        self._on_lookup = on_lookup

    @property
    def size_bytes(self) -> int:
        """Total size of the kept bodies."""
        with self._lock:
            return self._bytes

    def get(self, key: Hashable) -> CachedBody | None:
        """Return the cached body for ``key``, or None."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
        if self._on_lookup is not None:
            self._on_lookup(hit is not None)
        return hit

    def put(self, key: Hashable, body: bytes, media_type: str) -> CachedBody:
        """Store ``body`` under ``key`` and return it with its ETag."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        entry = CachedBody(body=body, media_type=media_type, etag=etag)
        if len(body) > self._max_bytes // 4:
            return entry
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._items[key] = entry
            self._bytes += len(body)
            while len(self._items) > self._max or self._bytes > self._max_bytes:
                _, gone = self._items.popitem(last=False)
                self._bytes -= len(gone.body)
        return entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
