"""Failed sign-ins, counted per client address: a client that presents `limit` different wrong
tokens within `window` seconds is refused (429, Retry-After) until the oldest of them is
`window` seconds old, whatever token it sends meanwhile, so tokens cannot be guessed at speed.
The same wrong token sent again (a script with a stale token) counts once."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

MAX_CLIENTS = 10_000  # addresses remembered at most (the oldest are forgotten first)


class FailedSignIns:
    def __init__(self, *, limit: int = 10, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, dict[str, float]] = OrderedDict()  # client -> token hash -> when

    def retry_after(self, client: str) -> int | None:
        """Seconds until the client may try again, or None when it may now."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) < self.limit:
                return None
            return max(1, math.ceil(min(failures.values()) + self.window - now))

    def failed(self, client: str, token_hash: str) -> None:
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            failures.setdefault(token_hash, now)
            self._failures[client] = failures
            self._failures.move_to_end(client)
            while len(self._failures) > MAX_CLIENTS:
                self._failures.popitem(last=False)

    def _recent(self, client: str, now: float) -> dict[str, float]:
        failures = self._failures.get(client, {})
        return {k: at for k, at in failures.items() if now - at < self.window}
