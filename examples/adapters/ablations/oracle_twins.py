"""Ablation (not kept): train with the example generator's own other wordings as positives.

`python examples/adapters/ablations/oracle_twins.py train --corpus examples/products_corpus.csv
--out X --twin-positives 1` — the catalog twins (`tuning.twins.find_twins`) are replaced by
an oracle: for each corpus title, a random other corpus title of the same product, known by
replaying `examples/make_products.py` with its product keys (category, family, variant,
identity values). It asks whether real other-seller wordings as positives, instead of
rewrites of the title, would carry the shipped default to unseen categories.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT), str(ROOT / "examples")]

import make_products as mp  # noqa: E402

import tuning.objectives as objectives  # noqa: E402
from tuning.cli import cli  # noqa: E402


def product_keys() -> dict[str, tuple]:
    """Each corpus title's product, from the generator's own loop (same seed, same draws)."""
    rng, seen, keys = random.Random(mp.SEED), set(), {}
    for cat in mp.CATEGORIES:
        n = 0
        while n < mp.CORPUS_PER_CATEGORY:
            product = mp.random_product(cat, cat.train, rng)
            title = mp.render(product, rng.choice(cat.templates), rng, varied=False, dev=False)
            if rng.random() < 0.05:
                title = mp.typo(title, rng)
            if mp.ok_length(title) and mp.norm(title) not in seen:
                seen.add(mp.norm(title))
                _, fam, variant, values = product
                keys[title] = (cat.name, id(fam), variant,
                               tuple(sorted((k, v) for k, v in values.items() if k in cat.identity)))
                n += 1
    return keys


def oracle_twins(texts: list[str], base_emb, **_: object) -> list[int | None]:
    keys, groups = product_keys(), {}
    for i, title in enumerate(texts):
        groups.setdefault(keys.get(title), []).append(i)
    rng = random.Random(0)
    mates = [[j for j in groups[keys[t]] if j != i] if t in keys else [] for i, t in enumerate(texts)]
    return [rng.choice(m) if m else None for m in mates]


if __name__ == "__main__":
    objectives.find_twins = oracle_twins
    raise SystemExit(cli(sys.argv[1:]))
