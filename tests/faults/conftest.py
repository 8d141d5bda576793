"""Registers the `fault` marker (pyproject.toml is the lead's file) for tests under tests/faults."""
from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fault: reliability/security fault test (GUIDE §5); run all with python -m tests.faults")
