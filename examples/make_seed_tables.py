"""Transcribe seed 001's results into ``seed001_results.csv`` and ``seed001_configs.csv``.

Why a parser rather than typing the tables in: the seed's wording (typos included) is
the record of what was judged by hand, so the cells are copied verbatim from the
markdown. Only ``before_score`` / ``after_score`` / ``hallucination`` are ours, derived
by the fixed rules in ``score()`` and ``hallucinated()`` so the app can chart the tables.

Usage: ``python examples/make_seed_tables.py [path/to/001_*.md]`` (default: the seed in
``../shared/seeds/`` next to the repository).
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SEED_GLOB = "001_*.md"
HEADER = re.compile(r"^### \[(\w+)\]\(([^)]+)\) \((.*)\)\s*$")
PARAM = re.compile(r"(lora_r|lora_alpha|lora_dropout|max_length|num_epochs)\s*=\s*([\d.]+)")
BEST = re.compile(r"\*\*Ноутбук:\*\*\s*`(\w+)`")


def score(cell: str) -> float | None:
    """Fraction of questions answered right, from the seed's phrasing; None if unstated.

    "правильный ответ на 2 из 3 вопросов" → 2/3; "... на все вопросы" → 1;
    "... на 0 вопросов" → 0; "неправильный ответ на все вопросы" → 0.
    """
    text = cell.lower()
    if text.startswith("неправильный ответ на все"):
        return 0.0
    m = re.search(r"(\d+)\s+(?:вопрос\w*\s+)?из\s+(\d+)", text)
    if m:
        return int(m.group(1)) / int(m.group(2))
    if re.search(r"правильный ответ (?:на )?все\b", text):
        return 1.0
    m = re.search(r"на (\d+) вопрос", text)
    if m and m.group(1) == "0":
        return 0.0
    return None


def hallucinated(text: str) -> bool:
    """The seed reports a confusion: "галюцинация" not negated ("отсутсвие галюцинаций"),
    or "назвал" (the model named another character)."""
    text = text.lower()
    named = re.search(r"гал+юцинац", text) and not re.search(r"(отсутс\w*|без)\s+гал+юцинац", text)
    return bool(named or "назвал" in text)


def roles(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for label, role in (("Целевые персонажи", "целевой"), ("Контрольные персонажи", "контрольный")):
        m = re.search(rf"\*\*{label}:\*\*\s*(.+)", text)
        assert m, f"seed has no '{label}' line"
        for name in m.group(1).split(","):
            out[name.strip()] = role
    return out


def parse(text: str) -> tuple[list[dict], list[dict]]:
    role_of = roles(text)
    best = BEST.search(text)
    configs: list[dict] = []
    results: list[dict] = []
    current: dict | None = None
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            name, notebook, inside = m.groups()
            params = dict(PARAM.findall(inside))
            images = re.search(r"~\s*(\d+)\s+изображений", inside)
            note = inside.split(", конфиг обучения")[0].strip()
            if best and best.group(1) == name:
                note += "; лучший подход по выводам отчёта"
            current = {"config": name, "notebook": notebook, "r": int(params["lora_r"]),
                       "alpha": int(params["lora_alpha"]), "dropout": float(params["lora_dropout"]),
                       "max_len": int(params["max_length"]), "epochs": int(params["num_epochs"]),
                       "images_per_class": int(images.group(1)) if images else None, "notes": note}
            configs.append(current)
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current is None or len(cells) != 4 or cells[0] in ("Персонаж", "") or set(cells[0]) <= {"-"}:
            continue
        character, before, after, status = cells
        assert character in role_of, f"unknown character {character!r} in {current['config']}"
        results.append({"config": current["config"], "character": character, "role": role_of[character],
                        "before": before, "after": after, "status": status,
                        "before_score": score(before), "after_score": score(after),
                        "hallucination": hallucinated(f"{after} {status}")})
    return configs, results


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str]) -> None:
    if argv:
        seed = Path(argv[0])
    else:
        found = sorted((HERE.parent.parent / "shared" / "seeds").glob(DEFAULT_SEED_GLOB))
        assert found, "seed 001 not found; pass its path"
        seed = found[0]
    configs, results = parse(seed.read_text(encoding="utf-8"))
    assert len(configs) == 4 and len(results) == 28, (len(configs), len(results))
    write(HERE / "seed001_configs.csv", configs)
    write(HERE / "seed001_results.csv", results)
    print(f"{len(configs)} configs, {len(results)} result rows from {seed.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
