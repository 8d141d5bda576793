"""A gradio session's per-component config is built when it is first read, not at its first request.

Why: gradio 6 builds, for every new session, the config of every component in the app
(`SessionState.__init__` → `config_for_block` for all 384 of ours: ~21 ms on a quiet core,
~100 ms under load, and a few hundred kB kept per session). It needs that only to serve a
deep link (`SessionState.components`) or to update one component's value. A program calling
`/score_pair` never does — yet a classroom of 40 new API sessions at once spent ~4.6 s of the
event loop on it (py-spy of `tests.load.classroom_burst`), so the `/queue/join` answers came
after gradio_client's 5 s HTTP timeout and those requests were lost.

Here the same values are computed on first use, per component (an update) or all at once
(a deep link), from the session's own `blocks_config` — the values the eager code would have
computed, since a session's config only changes through the keys it sets. Installed once by
`app.py`; `install` refuses a gradio whose `SessionState` no longer looks like the one this
was written against (then nothing is patched and gradio behaves as shipped).
"""
from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable
from copy import copy
from typing import Any

from gradio import state_holder


class LazyConfigValues(dict):
    """`config_values` that fills each component's entry when asked, and all when iterated.

    `keys` is shared by every session of one app (a frozenset of ~400 ids is ~32 kB; one per
    session would be most of what a lazy session costs).
    """

    def __init__(self, compute: Callable[[int], Any], keys: tuple[tuple[int, ...], frozenset[int]]) -> None:
        super().__init__()
        self._compute = compute
        self._order, self._keys = keys
        self._completed = False

    def _complete(self) -> None:
        """All entries, in the app's component order (as gradio's eager dict has them)."""
        if not self._completed:
            for key in self._order:
                if not dict.__contains__(self, key):
                    dict.__setitem__(self, key, self._compute(key))
            self._completed = True

    def __missing__(self, key: int) -> Any:
        if self._completed or key not in self._keys:
            raise KeyError(key)
        value = self._compute(key)
        dict.__setitem__(self, key, value)
        return value

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (not self._completed and key in self._keys)

    def items(self):  # type: ignore[override]
        self._complete()
        return super().items()

    def values(self):  # type: ignore[override]
        self._complete()
        return super().values()

    def keys(self):  # type: ignore[override]
        self._complete()
        return super().keys()

    def __iter__(self):
        self._complete()
        return super().__iter__()

    def __len__(self) -> int:
        self._complete()
        return super().__len__()


_shared_keys: dict[tuple[int, int, int], tuple[tuple[int, ...], frozenset[int]]] = {}


def _keys_of(blocks: Any, config_blocks: dict) -> tuple[tuple[int, ...], frozenset[int]]:
    """The component ids a session's config covers (in order, and as a set), one per app."""
    tag = (id(blocks), len(blocks.blocks), len(config_blocks))
    keys = _shared_keys.get(tag)
    if keys is None:
        order = tuple(k for k in config_blocks if k in blocks.blocks)
        keys = _shared_keys[tag] = (order, frozenset(order))
    return keys


def _lazy_init(self: Any, blocks: Any) -> None:
    _eager_init(self, blocks, lazy=True)


def _eager_init(self: Any, blocks: Any, lazy: bool = False) -> None:
    """gradio's `SessionState.__init__` (6.x), with `config_values` lazy when asked."""
    self.blocks_config = copy(blocks.default_config)
    keys = _keys_of(blocks, self.blocks_config.blocks)

    def compute(key: int) -> Any:
        return self.blocks_config.config_for_block(key, [], self.blocks_config.blocks[key])

    self.config_values = LazyConfigValues(compute, keys) if lazy else {k: compute(k) for k in keys[0]}
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


_EXPECTED = ("blocks_config", "config_values", "state_data", "_state_ttl", "is_closed", "STATE_TTL_WHEN_CLOSED")


def install() -> bool:
    """Make new sessions' component configs lazy; False (and nothing changed) on a gradio whose
    `SessionState.__init__` sets other attributes than the ones mirrored here."""
    if state_holder.SessionState.__init__ is _lazy_init:
        return True
    source = inspect.getsource(state_holder.SessionState.__init__)
    if set(re.findall(r"self\.(\w+)\s*(?::[^=\n]+)?=(?!=)", source)) != set(_EXPECTED):
        return False
    state_holder.SessionState.__init__ = _lazy_init  # type: ignore[method-assign]
    return True
