"""Invariants of the shipped example data (examples/): sizes, disjointness, encodings.

These guard the evaluation: a dev pair that leaks into the training corpus, or an eval
question that appears in the training QA, would make every reported gain meaningless.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

EX = Path(__file__).resolve().parent.parent / "examples"


def norm(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def read_csv(name: str, **kw) -> list[dict[str, str]]:
    with (EX / name).open(newline="", encoding=kw.pop("encoding", "utf-8")) as f:
        return list(csv.DictReader(f, **kw))


def read_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (EX / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_corpus_size_categories_uniqueness_and_lengths() -> None:
    rows = read_csv("products_corpus.csv")
    assert list(rows[0]) == ["title", "category"]
    titles = [r["title"] for r in rows]
    assert len(titles) >= 3000
    assert len({norm(t) for t in titles}) == len(titles), "duplicate titles (ignoring case / ё)"
    assert len({r["category"] for r in rows}) >= 20
    assert all(4 <= len(t.split()) <= 20 for t in titles)
    mixed = sum(any("a" <= ch.lower() <= "z" for ch in t) and any("а" <= ch.lower() <= "я" for ch in t)
                for t in titles)
    assert mixed > len(titles) // 2, "titles should mix Cyrillic and Latin like real listings"


def test_txt_matches_csv() -> None:
    lines = (EX / "products_corpus.txt").read_text(encoding="utf-8").splitlines()
    assert lines == [r["title"] for r in read_csv("products_corpus.csv")]


def test_cp1251_file_is_cp1251_not_utf8() -> None:
    raw = (EX / "products_corpus_cp1251.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = list(csv.DictReader(raw.decode("cp1251").splitlines(), delimiter=";"))
    assert list(rows[0]) == ["Название", "Категория"]
    assert 200 <= len(rows) <= 1000
    corpus = {r["title"] for r in read_csv("products_corpus.csv")}
    assert all(r["Название"] in corpus for r in rows)


def test_dev_pairs_are_held_out_and_well_formed() -> None:
    dev = read_csv("dev_pairs.csv")
    assert list(dev[0]) == ["query", "positive", "hard_negative", "category"]
    assert len(dev) >= 300
    assert len({r["category"] for r in dev}) >= 20
    corpus = {norm(r["title"]) for r in read_csv("products_corpus.csv")}
    for r in dev:
        q, p, n = norm(r["query"]), norm(r["positive"]), norm(r["hard_negative"])
        assert len({q, p, n}) == 3, r
        assert not {q, p, n} & corpus, f"dev title found in the training corpus: {r}"
    assert len({norm(r["query"]) for r in dev}) == len(dev)


def test_pairs_start_with_seed_000_and_list_demo_has_six_categories() -> None:
    pairs = [(r["text_a"], r["text_b"]) for r in read_csv("pairs.csv")]
    assert pairs[:3] == [("Смартфон Apple iPhone", "Телефон Apple iPhone"),
                         ("Телефон Apple iPhone", "Кофемашина Nespresso"),
                         ("Наушники Xiaomi", "Умные часы Samsung")]
    assert 8 <= len(pairs) <= 15
    same = [r["same"] for r in read_csv("pairs.csv")]
    assert set(same) == {"yes", "no"} and same[:3] == ["yes", "no", "no"]
    demo = read_csv("list_demo.csv")
    assert list(demo[0]) == ["text", "category"] and 20 <= len(demo) <= 30
    assert len({r["category"] for r in demo}) == 6


SEED_CONFIGS = {  # GUIDE §2, checked against seed 001's headings
    "lora_init": (16, 16, 0.05, 128, 30), "lora_v1": (8, 16, 0.05, 256, 30),
    "lora_v2": (16, 32, 0.1, 256, 25), "lora_v3": (32, 32, 0.15, 128, 25),
}
SEED_CHARACTERS = {"Чебурашка", "Колобок", "Алеша Попович", "Крокодил Гена", "Матрешка", "Человек-паук", "Супермен"}


def test_seed001_tables() -> None:
    configs = {r["config"]: (int(r["r"]), int(r["alpha"]), float(r["dropout"]), int(r["max_len"]),
                             int(r["epochs"])) for r in read_csv("seed001_configs.csv")}
    assert configs == SEED_CONFIGS
    results = read_csv("seed001_results.csv")
    assert {(r["config"], r["character"]) for r in results} == {(c, ch) for c in SEED_CONFIGS for ch in SEED_CHARACTERS}
    by = {(r["config"], r["character"]): r for r in results}
    gena = by[("lora_v2", "Крокодил Гена")]
    assert gena["after"] == "правильный ответ на все вопросы" and gena["hallucination"] == "False"
    assert float(by[("lora_init", "Колобок")]["after_score"]) == 0.75
    assert float(by[("lora_v1", "Колобок")]["after_score"]) == 0.0  # "неправильный ответ на все вопросы"
    assert all(r["status"] and 0 <= float(r["before_score"]) <= 1 for r in results)


def test_cartoon_qa_and_eval_are_disjoint() -> None:
    train = read_jsonl("cartoon_qa.jsonl")
    evals = read_jsonl("cartoon_eval.jsonl")
    assert 150 <= len(train) <= 300 and len(evals) >= 30
    assert all(set(r) == {"question", "answer", "character"} and r["answer"] for r in train)
    assert all(set(r) == {"question", "expected", "character", "role"} and r["expected"] for r in evals)
    roles = {r["character"]: r["role"] for r in evals}
    assert {c for c, role in roles.items() if role == "control"} == {"Матрешка", "Человек-паук", "Супермен", "Столицы"}
    # "Столицы": general knowledge the base LM gets right, so a control can degrade (never trained on)
    assert {r["character"] for r in train} == {r["character"] for r in evals} - {"Столицы"} == SEED_CHARACTERS
    assert not {norm(r["question"]) for r in evals} & {norm(r["question"]) for r in train}
    for r in evals:
        assert not any(a.lower() in r["question"].lower() for a in r["expected"]), r
    assert all(len(r["answer"].split()) <= 40 for r in train)


def test_examples_are_small() -> None:
    data = [p for p in EX.iterdir() if p.suffix in {".csv", ".txt", ".jsonl"}]
    assert sum(p.stat().st_size for p in data) < 2_000_000


@pytest.mark.parametrize("script", ["make_products.py", "make_cartoon_qa.py"])
def test_generators_reproduce_the_committed_files(script: str, tmp_path: Path) -> None:
    """Run a generator on a copy of examples/ and compare bytes: the files are what the
    seeded script makes, not hand-edited."""
    import shutil

    work = tmp_path / "examples"
    shutil.copytree(EX, work, ignore=shutil.ignore_patterns("adapters", "__pycache__"))
    subprocess.run([sys.executable, str(work / script)], check=True, capture_output=True, timeout=120)
    changed = [p.name for p in work.iterdir() if p.is_file() and (EX / p.name).exists()
               and p.read_bytes() != (EX / p.name).read_bytes()]
    assert not changed, f"{script} output differs from the committed files: {changed}"
