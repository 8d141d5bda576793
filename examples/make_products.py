"""Write the synthetic marketplace example data: ``python examples/make_products.py``.

Why synthetic: real Wildberries / Ozon listings are not ours to redistribute, and a
seeded generator lets anyone rebuild byte-identical files and see exactly how the
evaluation pairs were labelled. Vocabulary lives in ``product_catalog.py``.

Outputs (all in this folder): ``products_corpus.csv`` / ``.txt`` (unlabelled training
text, 140 titles for each of the 40 categories), ``products_corpus_cp1251.csv`` (a sample of
those titles, Windows-1251, ``;``-separated, for encoding tests), ``dev_pairs.csv`` (held-out
retrieval triples, never trained on; only the 24 categories that have held-out families),
``pairs.csv`` and ``list_demo.csv`` (inputs for the Similarity tab).
"""
from __future__ import annotations

import csv
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from product_catalog import CATEGORIES, Category, Family  # noqa: E402

SEED = 20240601
CORPUS_PER_CATEGORY = 140
DEV_PER_CATEGORY = 14
CP1251_ROWS = 300
MIN_WORDS, MAX_WORDS = 4, 20

PLACEHOLDER = re.compile(r"\{(\w+)(\?)?\}")
Product = tuple[Category, Family, int, dict[str, int]]


def norm(title: str) -> str:
    """Key for "same title": case, ё/е and spacing differences do not make a new title."""
    return " ".join(title.lower().replace("ё", "е").split())


def pick(aliases: tuple[str, ...], rng: random.Random, varied: bool) -> str:
    """Choose a spelling with exactly one ``rng.random()`` call, so two products rendered
    from the same seed make the same choices everywhere except where they differ."""
    u = rng.random()
    if not varied and u < 0.7:
        return aliases[0]
    return aliases[int(u * len(aliases)) % len(aliases)]


def slot_values(cat: Category, fam: Family, slot: str) -> tuple[tuple[str, ...], ...]:
    return fam.slots.get(slot, cat.slots.get(slot, (("",),)))


def render(product: Product, template: str, rng: random.Random, varied: bool, dev: bool) -> str:
    """Fill a template. Optional ``{slot?}`` parts may be dropped, except identity slots
    in dev mode: a query and its positive may omit a colour, never the memory size."""
    cat, fam, variant, values = product
    starts_with_noun = template.startswith("{noun")

    def fill(m: re.Match[str]) -> str:
        name, optional = m.group(1), bool(m.group(2))
        drop = rng.random() < (0.4 if dev else 0.3)
        if name == "noun":
            text = pick(cat.nouns[fam.noun], rng, varied)
            if not starts_with_noun and not (len(text) > 1 and text[1].isupper()) and re.match("[А-Я]", text):
                text = text[0].lower() + text[1:]
        elif name == "brand":
            text = pick(fam.brand, rng, varied)
        elif name == "model":
            text = pick(fam.variants[variant], rng, varied)
        elif name == "extra":
            text = pick(cat.extras, rng, True)
        else:
            text = pick(slot_values(cat, fam, name)[values[name]], rng, varied)
        keep = not optional or not drop or (dev and name in cat.identity)
        return text if keep else ""

    title = PLACEHOLDER.sub(fill, template)
    title = re.sub(r"\s+", " ", title)
    title = re.sub(r"\s+([,.)])", r"\1", title)
    title = re.sub(r"\(\s*\)|«\s*»", "", title)
    for _ in range(3):
        title = re.sub(r"([,/|])\s*[,/|]", r"\1", title)
    title = re.sub(r"^[\s,/|.]+|[\s,/|]+$", "", title).strip()
    return title[:1].upper() + title[1:]


def typo(title: str, rng: random.Random) -> str:
    """One keyboard slip in one long Cyrillic word: swapped, dropped or doubled letter."""
    words = title.split(" ")
    spots = [i for i, w in enumerate(words) if len(w) >= 6 and re.fullmatch("[а-яё]+", w)]
    if not spots:
        return title
    i = rng.choice(spots)
    w, j = words[i], rng.randrange(1, len(words[i]) - 2)
    kind = rng.randrange(3)
    words[i] = (w[:j] + w[j + 1] + w[j] + w[j + 2:] if kind == 0 else
                w[:j] + w[j + 1:] if kind == 1 else w[:j] + w[j] + w[j:])
    return " ".join(words)


def random_product(cat: Category, fams: tuple[Family, ...], rng: random.Random) -> Product:
    fam = rng.choice(fams)
    slots = set(cat.slots) | set(fam.slots)
    values = {s: rng.randrange(len(slot_values(cat, fam, s))) for s in sorted(slots)}
    return cat, fam, rng.randrange(len(fam.variants)), values


def ok_length(title: str) -> bool:
    return MIN_WORDS <= len(title.split()) <= MAX_WORDS


def make_corpus(rng: random.Random) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for cat in CATEGORIES:
        n, attempts = 0, 0
        while n < CORPUS_PER_CATEGORY:
            attempts += 1
            assert attempts < 50_000, f"{cat.name}: vocabulary too small for {CORPUS_PER_CATEGORY} titles"
            product = random_product(cat, cat.train, rng)
            title = render(product, rng.choice(cat.templates), rng, varied=False, dev=False)
            if rng.random() < 0.05:
                title = typo(title, rng)
            if ok_length(title) and norm(title) not in seen:
                seen.add(norm(title))
                rows.append((title, cat.name))
                n += 1
    rng.shuffle(rows)
    return rows


def hard_negative(product: Product, rng: random.Random) -> Product | None:
    """The same listing with ONE identity attribute changed to a neighbouring value
    (128 → 256 ГБ, 1.7 → 1.2 л, мужские → женские) or a sibling model (15 → 15 Pro)."""
    cat, fam, variant, values = product
    changes: list[tuple[str, int]] = []
    for j in (variant - 1, variant + 1):
        if 0 <= j < len(fam.variants):
            changes.append(("model", j))
    for slot in cat.identity:
        for j in (values[slot] - 1, values[slot] + 1):
            if 0 <= j < len(slot_values(cat, fam, slot)):
                changes.append((slot, j))
    if not changes:
        return None
    what, j = rng.choice(changes)
    if what == "model":
        return cat, fam, j, values
    return cat, fam, variant, {**values, what: j}


def make_dev(rng: random.Random, corpus_keys: set[str]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for cat in CATEGORIES:
        # Corpus-only categories (no held-out families) teach the corpus more seller templates
        # and units; dev_pairs.csv stays the 24-category set, so its numbers stay comparable.
        if not cat.heldout:
            continue
        templates = [t for t in cat.templates if all("{" + s for s in cat.identity)]
        templates = [t for t in templates if all(("{" + s) in t for s in cat.identity)]
        assert len(templates) >= 2, f"{cat.name}: need two templates that show every identity slot"
        n, attempts = 0, 0
        while n < DEV_PER_CATEGORY:
            attempts += 1
            assert attempts < 20_000, f"{cat.name}: cannot build {DEV_PER_CATEGORY} dev rows"
            product = random_product(cat, cat.heldout, rng)
            negative = hard_negative(product, rng)
            if negative is None:
                continue
            tq, tp = rng.sample(templates, 2)
            query = render(product, tq, random.Random(rng.random()), varied=True, dev=True)
            if rng.random() < 0.1:
                query = typo(query, rng)
            seed_p = rng.random()
            positive = render(product, tp, random.Random(seed_p), varied=True, dev=True)
            neg = render(negative, tp, random.Random(seed_p), varied=True, dev=True)
            keys = {norm(query), norm(positive), norm(neg)}
            if len(keys) < 3 or keys & corpus_keys or norm(query) in seen:
                continue
            if not all(ok_length(t) for t in (query, positive, neg)):
                continue
            seen.add(norm(query))
            rows.append({"query": query, "positive": positive, "hard_negative": neg, "category": cat.name})
            n += 1
    return rows


def check_heldout_disjoint() -> None:
    """Dev products must be unseen: no held-out (brand, model) spelling occurs in train."""
    for cat in CATEGORIES:
        train = {(b.lower(), m.lower()) for f in cat.train for b in f.brand for v in f.variants for m in v}
        held = {(b.lower(), m.lower()) for f in cat.heldout for b in f.brand for v in f.variants for m in v}
        assert not train & held, f"{cat.name}: held-out models also in train: {sorted(train & held)[:3]}"


PAIRS = [  # seed 000's three pairs first, in its order; then look-alikes and paraphrases.
    # The third field, "same product?", follows the catalog's identity rule: the same product
    # only when the model and every identity attribute (memory, volume, gender, animal, size,
    # cover…) agree; colour, word order, transliteration and seller filler do not count.
    ("Смартфон Apple iPhone", "Телефон Apple iPhone", "yes"),
    ("Телефон Apple iPhone", "Кофемашина Nespresso", "no"),
    ("Наушники Xiaomi", "Умные часы Samsung", "no"),
    ("Смартфон Apple iPhone 15 128 ГБ черный", "Телефон Айфон 15 128гб Black", "yes"),
    ("Смартфон Apple iPhone 15 128 ГБ", "Смартфон Apple iPhone 15 Pro 128 ГБ", "no"),
    ("Чайник электрический Polaris 1.7 л", "Чайник электрический Polaris 1.2 л", "no"),
    ("Кроссовки мужские Nike Air Force 1", "Кроссовки женские Nike Air Force 1", "no"),
    ("Робот-пылесос Xiaomi с влажной уборкой", "Пылесос робот Сяоми моющий", "yes"),
    ("Корм сухой для собак Royal Canin 3 кг", "Корм сухой для кошек Royal Canin 3 кг", "no"),
    ("Шины зимние Nokian Hakkapeliitta 10 205/55 R16", "Шины летние Nokian Hakka Green 3 205/55 R16", "no"),
    ("Книга Булгаков «Мастер и Маргарита»", "Мастер и Маргарита | Михаил Булгаков, твердый переплет", "yes"),
    # One seller's template, one attribute changed (issue #18): another product; and one
    # amount in two units: the same product.
    ("Масло моторное Shell Helix HX8 5W-30 синтетическое 4 л",
     "Масло моторное Shell Helix HX8 5W-40 синтетическое 4 л", "no"),
    ("Лампа светодиодная Gauss 9 Вт E27 4100K", "Лампа светодиодная Gauss 9 Вт E14 4100K", "no"),
    ("Влажный корм для кошек Whiskas с курицей в желе 85 г",
     "Влажный корм для кошек Whiskas с говядиной в желе 85 г", "no"),
    ("Средство для мытья посуды Fairy Апельсин 500 мл", "Фейри апельсин 0,5 л жидкость для посуды", "yes"),
]

LIST_DEMO = {
    "Смартфоны": ["Смартфон Apple iPhone 14 128 ГБ черный", "Телефон Samsung Galaxy A54 8/256 ГБ",
                  "Смартфон Xiaomi Redmi Note 12 6/128 ГБ синий", "Смартфон HONOR X8a 6/128GB серебристый"],
    "Наушники": ["Наушники беспроводные Apple AirPods Pro 2", "Беспроводные наушники JBL Tune 520BT черные",
                 "Наушники TWS Xiaomi Redmi Buds 4 Lite", "Наушники Sony WH-1000XM4 с шумоподавлением"],
    "Кофемашины": ["Кофемашина автоматическая De'Longhi Magnifica S ECAM 22.110.B",
                   "Капсульная кофемашина Nespresso Essenza Mini", "Кофеварка рожковая Polaris PCM 1527E",
                   "Кофемашина Philips EP2231/40 с капучинатором"],
    "Кроссовки": ["Кроссовки мужские Nike Air Max 90 белые 42", "Кроссовки женские adidas Superstar 38 размер",
                  "Кроссовки New Balance 574 серые", "Кроссовки беговые ASICS Gel-Kayano 29 мужские"],
    "Корм для собак": ["Сухой корм для собак Royal Canin Medium Adult 3 кг", "Корм для собак Pedigree говядина 2.2 кг",
                       "Корм сухой Pro Plan для собак мелких пород курица 1.5 кг",
                       "Влажный корм для собак Cesar паштет 85 г"],
    "Книги": ["Книга Булгаков «Мастер и Маргарита» твердый переплет", "Достоевский Ф.М. Преступление и наказание",
              "Книга Толстой «Война и мир» в 2 томах", "Оруэлл Дж. 1984, мягкая обложка"],
}


def write_csv(path: Path, header: list[str], rows: list, **kw) -> None:
    with path.open("w", newline="", encoding=kw.pop("encoding", "utf-8")) as f:
        w = csv.writer(f, **{"lineterminator": "\n", **kw})
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    check_heldout_disjoint()
    rng = random.Random(SEED)
    corpus = make_corpus(rng)
    corpus_keys = {norm(t) for t, _ in corpus}
    dev = make_dev(random.Random(SEED + 1), corpus_keys)
    dev_titles = {norm(r[k]) for r in dev for k in ("query", "positive", "hard_negative")}
    assert not dev_titles & corpus_keys, "dev set shares titles with the corpus"

    write_csv(HERE / "products_corpus.csv", ["title", "category"], corpus)
    (HERE / "products_corpus.txt").write_text("".join(t + "\n" for t, _ in corpus), encoding="utf-8")
    sample = random.Random(SEED + 2).sample(corpus, CP1251_ROWS)
    write_csv(HERE / "products_corpus_cp1251.csv", ["Название", "Категория"], sample,
              encoding="cp1251", delimiter=";", lineterminator="\r\n")
    write_csv(HERE / "dev_pairs.csv", ["query", "positive", "hard_negative", "category"],
              [[r["query"], r["positive"], r["hard_negative"], r["category"]] for r in dev])
    write_csv(HERE / "pairs.csv", ["text_a", "text_b", "same"], PAIRS)
    write_csv(HERE / "list_demo.csv", ["text", "category"],
              [(t, c) for c, titles in LIST_DEMO.items() for t in titles])
    print(f"corpus {len(corpus)} titles / {len({c for _, c in corpus})} categories; "
          f"dev {len(dev)} rows; cp1251 {CP1251_ROWS}; pairs {len(PAIRS)}; list {sum(map(len, LIST_DEMO.values()))}")


if __name__ == "__main__":
    main()
