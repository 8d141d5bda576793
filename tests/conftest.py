"""Shared fixtures: tiny local models, isolated caches, offline environment."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tests.tiny_models import tiny_encoder_dir  # noqa: E402


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of a random tiny XLM-R encoder with its tokenizer (session-wide, read-only)."""
    return tiny_encoder_dir(tmp_path_factory.mktemp("tiny_encoder"))
