"""One lazy shared-model service for the encoder and the explorer, with exact ownership."""
from __future__ import annotations

import threading
from pathlib import Path

from comparison.runtime import SharedModel


class FakeHost:
    def __init__(self) -> None:
        self.adapters: dict[str, str] = {}
        self.loads = 0

    def add_adapter(self, name: str, path: object, label: str) -> str:
        assert name not in self.adapters or self.adapters[name] == label
        self.adapters[name] = label
        return label

    def remove_adapter(self, name: str) -> None:
        del self.adapters[name]


def _service() -> tuple[SharedModel[FakeHost], FakeHost]:
    host = FakeHost()

    def load(_progress: object) -> FakeHost:
        host.loads += 1
        return host

    return SharedModel(load), host


def test_sessions_with_a_long_common_prefix_never_collide() -> None:
    svc, host = _service()
    a, b = "A" * 16 + "x", "A" * 16 + "y"  # the old 16-character cut made these one owner
    name_a, _ = svc.add_session_adapter(a, "mine", Path("."), replace=True)
    name_b, _ = svc.add_session_adapter(b, "mine", Path("."), replace=True)
    assert name_a != name_b and svc.owned(a) == [name_a] and svc.owned(b) == [name_b]
    svc.drop_session(a)
    assert list(host.adapters) == [name_b]


def test_replace_keeps_one_adapter_per_session_and_same_label_reuses_the_name() -> None:
    svc, host = _service()
    first, _ = svc.add_session_adapter("s1", "one", Path("."), replace=True)
    second, _ = svc.add_session_adapter("s1", "two", Path("."), replace=True)
    assert svc.owned("s1") == [second] and first not in host.adapters
    again, _ = svc.add_session_adapter("s1", "two", Path("."))
    assert again == second


def test_loads_once_under_concurrent_first_calls() -> None:
    svc, host = _service()
    threads = [threading.Thread(target=svc.get) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert host.loads == 1 and svc.loaded
