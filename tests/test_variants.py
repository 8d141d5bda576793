"""Same-template negatives: exactly one attribute changed, everything else identical."""
from __future__ import annotations

import difflib
import random
from pathlib import Path

import pytest

from tuning.data import load_corpus
from tuning.identity import same_identity
from tuning.variants import (VARIANT_CATALOG_SHARE, VariantMaker, auto_ranking_weight,
                             auto_template_negatives, template_sibling_share)

CORPUS = Path(__file__).resolve().parents[1] / "examples" / "products_corpus.csv"
CATALOG = [
    "Влажный корм для кошек Whiskas с курицей в соусе 85 г",
    "Влажный корм для кошек Whiskas с говядиной в соусе 85 г",
    "Влажный корм для кошек Whiskas с кроликом в соусе 85 г",
    "Сухой корм для кошек Felix с курицей 600 г",
    "Сухой корм для кошек Felix с говядиной 600 г",
    "Масло моторное Shell Helix HX8 5W-30 4 л",
    "Лампа светодиодная Gauss 9 Вт E27",
    "Батарейки Duracell AA LR6 4 шт",
    "Кабель Ugreen USB Type-C 1 м",
    "Кабель Ugreen USB Type-C 2 м",
]


def _changed_spans(a: str, b: str) -> list[tuple[str, str]]:
    ops = difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False).get_opcodes()
    return [(" ".join(a.split()[i1:i2]), " ".join(b.split()[j1:j2])) for op, i1, i2, j1, j2 in ops
            if op != "equal"]


@pytest.fixture(scope="module")
def maker() -> VariantMaker:
    return VariantMaker.learn(CATALOG)


def test_learns_variant_words_amounts_and_code_letters(maker: VariantMaker) -> None:
    assert "говядиной" in maker.alternatives["курицей"]
    assert "кроликом" not in maker.alternatives["курицей"]  # one title pair only: not enough
    assert "кошек" not in maker.alternatives and "whiskas" not in maker.alternatives
    assert maker.unit_values["meter"] == ["1", "2"]
    assert {"E", "W"} <= set(maker.code_letters)


@pytest.mark.parametrize("title", CATALOG)
def test_every_variant_changes_exactly_one_token_and_keeps_the_rest(maker: VariantMaker,
                                                                    title: str) -> None:
    rng = random.Random(0)
    made = {maker.make(title, rng) for _ in range(30)}
    assert None not in made and title not in made
    for variant in made:
        spans = _changed_spans(title, variant)
        assert len(spans) == 1 and len(spans[0][0].split()) == 1, (title, variant)
        assert len(variant.split()) == len(title.split())


def test_amount_and_code_digit_changes_make_another_product(maker: VariantMaker) -> None:
    rng = random.Random(1)
    digits_and_amounts = VariantMaker(maker.unit_values, [], maker.alternatives)
    for title in CATALOG[5:]:
        for _ in range(10):
            variant = digits_and_amounts.make(title, rng)
            assert same_identity(title, variant) is False, (title, variant)


def test_a_viscosity_grade_changes_by_one_step() -> None:
    maker = VariantMaker()
    sites = {title for _, _, title in maker.sites("Масло Shell Helix 5W-30 4 л")}
    assert {"20", "40", "4", "6"} <= sites          # 30 → 20 / 40, 5W → 4W / 6W
    assert "2" in sites and "8" in sites             # 4 л doubled or halved (no corpus values)


def test_corpus_titles_mostly_get_a_variant() -> None:
    texts = load_corpus(CORPUS, "title").texts
    maker = VariantMaker.learn(texts)
    rng = random.Random(2)
    made = [maker.make(t, rng) for t in texts]
    assert sum(m is not None for m in made) / len(made) > 0.8
    assert all(m != t for m, t in zip(made, texts) if m is not None)


def test_one_word_siblings_are_counted_and_switch_the_ranking_term_on() -> None:
    titles = ["Масло Shell Helix HX8 5W-30 4 л", "Масло Shell Helix HX8 5W-30 1 л",
              "масло shell helix hx8 5w-30 4 л",  # the first again in other case: one title
              "Лампа Gauss 9 Вт E27", "Кабель USB Type-C 2 м"]
    assert template_sibling_share(titles) == pytest.approx(2 / 4)
    assert template_sibling_share([]) == 0.0
    long = " ".join(f"слово{i}" for i in range(40))  # a description, not a title
    assert template_sibling_share([long + " 1 л", long + " 4 л"]) == 0.0
    assert auto_ranking_weight(0.5) == 1.0 and auto_ranking_weight(0.1) == 0.0
    # a catalog of template variants mines its own siblings instead of making variants up
    assert auto_template_negatives(0.5) == 0.0 and auto_template_negatives(0.1) == 1.0


def test_the_example_corpus_reads_as_many_sellers_the_variant_sets_as_templates() -> None:
    """The threshold sits between what was measured on each side (tuning/variants.py)."""
    import pandas as pd

    examples = CORPUS.parent
    corpus = load_corpus(CORPUS, "title").texts
    assert template_sibling_share(corpus) < VARIANT_CATALOG_SHARE / 2
    for name in ("dev_variants.csv", "dev_variants_b.csv"):
        dev = pd.read_csv(examples / name)
        titles = sorted(set(dev["query"]) | set(dev["positive"]) | set(dev["hard_negative"]))
        assert template_sibling_share(titles) > 2 * VARIANT_CATALOG_SHARE


def test_a_letter_size_or_grade_becomes_another_of_its_kind() -> None:
    maker = VariantMaker.learn(["Перчатки Benovy размер S, 100 шт", "Футболка Uniqlo XL",
                                "Краска Tikkurila база A, 2,7 л", "Краска Dulux база C, 2,5 л",
                                "Антифриз Sintec G 12 до -40 °C"])  # no size: a code, a unit
    assert maker.letter_marks == ["A", "C", "S", "XL"]
    title = "Перчатки нитриловые Benovy размер M, 100 шт"
    made = {new for s, e, new in maker.sites(title) if title[s:e] == "M"}
    assert made == {"S", "XL"}  # sizes only: "A" and "C" are grades
    for new in made:
        assert same_identity(title, title.replace(" M,", f" {new},")) is False
