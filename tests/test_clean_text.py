"""One text cleaner: a corpus line trains as exactly the text the similarity tab scores.

The odd characters are the ones pasted product titles carry (web pages, Excel, 1C exports).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from comparison import similarity
from comparison.basics import clean_text
from tuning.data import load_corpus

ODD = [
    "Смарт\u200cфон Apple",          # ZWNJ inside a word
    "Теле\u00adфон Samsung",          # soft hyphen
    "\u200fНоутбук\u200e Lenovo",     # bidi marks
    "\ufeffКофемашина Nespresso",     # BOM
    "Наушники\u00a0Xiaomi  Pro",      # NBSP and a double space
    "Ёлка е\u0308лочная",             # combining diaeresis (NFC → ё)
    "Чайник\u200bBosch",              # zero-width space: a word break
    "Пылесос\tDyson\x07 V15",         # tab and a control character
    "Утюг\u202eTefal\u202c",          # bidi override and pop
]


@pytest.mark.parametrize("text", ODD)
def test_clean_text_is_idempotent(text: str) -> None:
    assert clean_text(clean_text(text)) == clean_text(text)


def test_expected_cleaning() -> None:
    assert clean_text("a\u200cb") == "ab"
    assert clean_text("a\u200bb") == "a b"
    assert clean_text("Теле\u00adфон") == "Телефон"
    assert clean_text("е\u0308") == "ё"
    assert clean_text("a\u00a0 b\n") == "a b"


def test_training_and_scoring_clean_identically(tmp_path: Path) -> None:
    corpus_file = tmp_path / "odd.txt"
    corpus_file.write_text("\n".join(ODD) + "\n", encoding="utf-8")
    trained_on = load_corpus(corpus_file).texts
    scored = similarity.check_texts(list(ODD))
    assert trained_on == scored
    assert trained_on == [clean_text(t) for t in ODD]
