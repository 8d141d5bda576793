"""Same-template negatives: a title with exactly ONE identity attribute changed.

Why: on marketplaces one seller lists every variant of a product (volume, viscosity grade,
lamp socket, wattage, pack count, flavour) with one template, so the hardest wrong match
for a title is its sibling written in the same words. Mined corpus neighbours
(`tuning.contrastive`) teach that only where the catalog happens to hold such siblings; a
negative made from the title itself teaches it in every batch, even in a small catalog.

One attribute, chosen at random among those the title has (each rule generic, for any
catalog; nothing is copied from our example generator):
- **amount**: a number written with a unit (`tuning.quantity`) gets another value of the
  same unit — one the corpus itself uses for that unit within a factor of 10 (learned),
  else doubled or halved;
  "4 л" → "1 л", "4/128 ГБ" → "4/256 ГБ";
- **code digit**: a number without a unit, inside or beside a model code ("E27", "5W-30",
  "Note 13", "Q30"), has its last non-zero digit moved by one, which keeps its scale:
  30 → 40, 27 → 26, 1000 → 2000;
- **code letter**: a single Latin letter glued to digits in a code ("S24", "A55") becomes
  another letter the corpus uses in that position of codes (learned);
- **letter size or grade**: a letter standing alone (`tuning.identity.LETTER_MARK`:
  "размер M", "XL", "база A") becomes another one of its kind (size or grade) that the
  corpus writes alone (learned): "M" → "L", "база A" → "база C";
- **variant word**: a word the corpus uses for variants — learned as words that differ
  between titles identical in every other word (numbers masked), in at least two such
  title pairs, e.g. flavours, editions, sub-lines — is swapped for one of its
  alternatives. Not counted: the first word (the product noun, whose synonyms sellers
  swap), a word right after a number (a unit or a pack noun: "30 таблеток" / "30 капсул"),
  colours and seller filler in any gender (`tuning.identity.NON_IDENTITY`), and two
  spellings of one word (another script, or a shared start of 4+ letters).

Everything else in the title stays character for character (`tests/test_variants.py`).
"""
from __future__ import annotations

import os
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from hashlib import blake2b

from tuning.identity import CYRILLIC, LETTER_MARK, NON_IDENTITY, UNIT_WORDS, letter_marks
from tuning.quantity import YEAR, amounts

WORD_TOKEN = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_CODE_LETTER = re.compile(r"(?<![A-Za-z])[A-Za-z](?=\d)|(?<=\d)[A-Za-z](?![A-Za-z])")
_MAX_ALTERNATIVES = 12
_MIN_SUPPORT = 2
"""A variant word pair must be seen in at least this many otherwise-identical title pairs."""
VARIANT_CATALOG_SHARE = 0.25
"""A catalog where at least this share of titles has a one-word sibling lists variants in
seller templates: measured 0.07 for examples/products_corpus.csv (many sellers' wordings,
where the ranking term cost 0.03 Recall@1) against 0.67 and 0.84 for the hand-written
dev_variants*.csv titles (where it gained; examples/adapters/README.md)."""
SIBLING_POOL = 20_000
"""At most this many titles are compared (tuning.contrastive.MINING_POOL: what a run trains on)."""
SIBLING_MAX_WORDS = 32
"""Longer texts are descriptions, not titles: they count as having no sibling (and a hostile
file of 5,000-character rows costs seconds, not hours: the work per text is words × length)."""


def template_sibling_share(texts: list[str]) -> float:
    """Share of distinct titles that another title repeats in every word but one, in place.

    Why: such a sibling ("… 4 л" / "… 1 л", "… размер S" / "… размер M") is how one seller
    template lists a product's variants; a catalog full of them needs the ranking term
    (`TrainConfig.ranking_weight`), a catalog of many sellers' wordings does not."""
    titles = list(dict.fromkeys(t.lower() for t in texts))[:SIBLING_POOL]
    first: dict[bytes, int] = {}  # digest of (gap, the other words) → first title with it
    paired: set[int] = set()
    for i, title in enumerate(titles):
        words = title.split()
        if len(words) > SIBLING_MAX_WORDS:
            continue
        for j in range(len(words)):
            # an 8-byte digest, not the tuple: a fifth of the memory, the same in every process
            key = blake2b(f"{j}\0{' '.join(words[:j])}\0{' '.join(words[j + 1:])}".encode(),
                          digest_size=8).digest()
            k = first.setdefault(key, i)
            if k != i:
                paired.update((i, k))
    return len(paired) / len(titles) if titles else 0.0


def is_variant_catalog(share: float) -> bool:
    """A catalog whose titles have one-word siblings this often lists variants in seller
    templates: the one rule behind every automatic choice below."""
    return share >= VARIANT_CATALOG_SHARE


def auto_ranking_weight(share: float) -> float:
    """The ranking term's weight for a catalog with `share` one-word siblings (0 or 1)."""
    return 1.0 if is_variant_catalog(share) else 0.0


def auto_template_negatives(share: float) -> float:
    """The share of made-up one-attribute negatives for a catalog with `share` one-word
    siblings: 0 for a catalog of one-template variants, whose mined neighbours are its own
    siblings (a Training-tab run on either hand-written set's titles gained ~0.1 of Recall@1
    and AUC with them instead of made-up ones), else 1 (many sellers' wordings, where a
    mined neighbour is more often another product than a sibling)."""
    return 0.0 if is_variant_catalog(share) else 1.0


def auto_sibling_negatives(share: float) -> bool:
    """Whether template siblings are mined as negatives (`tuning.contrastive`) for a catalog
    with `share` one-word siblings: in a catalog of one-template variants a sibling is
    another flavour, line or grade (a Training-tab run on either hand-written set's titles
    gained 0.08–0.13 of Recall@1 with them), in one of many sellers' wordings it is mostly
    the same product with a filler word changed."""
    return is_variant_catalog(share)


def auto_twin_positives(share: float) -> float:
    """The share of twin views (`tuning.twins`) for a catalog with `share` one-word siblings:
    the same rule as the ranking term (they gain together on template catalogs, and twins
    cost Recall@1 on a catalog of many sellers' wordings: examples/adapters/README.md)."""
    return auto_ranking_weight(share)


@dataclass
class VariantMaker:
    """Learns what varies in a catalog, then makes one-attribute variants of its titles."""

    unit_values: dict[str, list[str]] = field(default_factory=dict)
    code_letters: list[str] = field(default_factory=list)
    alternatives: dict[str, list[str]] = field(default_factory=dict)
    letter_marks: list[str] = field(default_factory=list)

    @classmethod
    def learn(cls, texts: list[str], min_support: int = _MIN_SUPPORT) -> "VariantMaker":
        """Values per unit, code letters and variant words, from the corpus alone (a word pair
        seen in `min_support` otherwise-identical title pairs; `tuning.twins` takes one, as
        it only refuses pairs with them)."""
        values: dict[str, set[str]] = defaultdict(set)
        letters: set[str] = set()
        marks: set[str] = set()
        slots: dict[tuple[str, ...], set[str]] = defaultdict(set)
        stems = {w[:-2] for w in NON_IDENTITY if len(w) > 4}
        for text in texts:
            for a in amounts(text):
                if a.unit:
                    values[a.unit].add(text[a.start:a.end])
            letters.update(m.group().upper() for m in _CODE_LETTER.finditer(text))
            marks.update(letter_marks(text))
            tokens = [re.sub(r"\d+(?:[.,]\d+)?", "#", t.lower()) for t in text.split()]
            for i, tok in enumerate(tokens):
                if (i and tokens[i - 1] != "#" and WORD_TOKEN.fullmatch(tok) and tok not in NON_IDENTITY
                        and tok not in UNIT_WORDS and tok[:-2] not in stems):
                    slots[(*tokens[:i], "*", *tokens[i + 1:])].add(tok)
        support: Counter[tuple[str, str]] = Counter()
        for words in slots.values():
            support.update((w, o) for w in words for o in words if w != o and not _same_word(w, o))
        alternatives: dict[str, set[str]] = defaultdict(set)
        for (w, o), n in support.items():
            if n >= min_support:
                alternatives[w].add(o)
        return cls({u: sorted(v) for u, v in values.items() if len(v) > 1}, sorted(letters),
                   {w: sorted(o)[:_MAX_ALTERNATIVES] for w, o in alternatives.items()},
                   sorted(marks))

    def sites(self, title: str) -> list[tuple[int, int, str]]:
        """Every (start, end, replacement) that changes one attribute of `title`."""
        out: list[tuple[int, int, str]] = []
        for a in amounts(title):
            written = title[a.start:a.end]
            if a.unit:
                value = _value(written)
                seen = [v for v in self.unit_values.get(a.unit, [])
                        if _value(v) != value and value / 10 <= _value(v) <= value * 10]
                out.extend((a.start, a.end, v) for v in (seen or _scaled(written)))
            elif not YEAR.match(a.raw):
                out.extend((a.start, a.end, d) for d in _digit_moves(written))
        for m in _CODE_LETTER.finditer(title):
            old = m.group()
            for new in self.code_letters:
                if new != old.upper():
                    out.append((m.start(), m.end(), new if old.isupper() else new.lower()))
        for m in LETTER_MARK.finditer(title):
            out.extend((m.start(), m.end(), new) for new in self.letter_marks
                       if new != m.group() and _is_size(new) == _is_size(m.group()))
        for m in WORD_TOKEN.finditer(title):
            for alt in self.alternatives.get(m.group().lower(), []):
                out.append((m.start(), m.end(), _like(alt, m.group())))
        return out

    def make(self, title: str, rng: random.Random) -> str | None:
        """One variant of `title` (a random attribute kind, then a random change), or None."""
        sites = self.sites(title)
        if not sites:
            return None
        by_span: dict[tuple[int, int], list[str]] = defaultdict(list)
        for start, end, new in sites:
            by_span[(start, end)].append(new)
        start, end = rng.choice(sorted(by_span))
        return title[:start] + rng.choice(by_span[(start, end)]) + title[end:]


def _same_word(a: str, b: str) -> bool:
    """Two spellings of one word rather than two variants: another script (transliteration:
    "bridgestone" / "бриджстоун"), or a shared start of 4+ letters (inflection, abbreviation,
    synonym stem: "аккумулятор" / "аккумулятора", "кроссовки" / "кроссы")."""
    if bool(CYRILLIC.search(a)) != bool(CYRILLIC.search(b)):
        return True
    common = len(os.path.commonprefix([a, b]))
    return common >= min(4, len(a), len(b))


def _is_size(mark: str) -> bool:
    """A clothing-style size ("S", "XL") rather than a grade letter ("A", "C")."""
    return mark[-1] in "SML"


def _value(written: str) -> float:
    return float(written.replace(",", "."))


def _fmt(value: float, like: str) -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if "," in like else text


def _scaled(written: str) -> list[str]:
    """Doubled and halved (a plausible other size when the corpus shows no other value)."""
    value = _value(written)
    return [_fmt(v, written) for v in (value * 2, value / 2) if v != value and v >= 0.1]


def _digit_moves(written: str) -> list[str]:
    """The number with its last non-zero digit moved by one (0 → 1 for a zero); a decimal
    moves its last digit ("1.7" → "1.6" / "1.8")."""
    if "," in written or "." in written:
        head, last = written[:-1], int(written[-1])
        return [head + str(d) for d in (last - 1, last + 1) if 0 < d <= 9]
    digits = written.rstrip("0")
    zeros = len(written) - len(digits)
    if not digits:
        return ["1" + written[1:]]
    last = int(digits[-1])
    out = []
    for d in (last - 1, last + 1):
        if 0 <= d <= 9:
            new = (digits[:-1] + str(d)).lstrip("0") + "0" * zeros
            if new and new != written and not (zeros and new.strip("0") == ""):
                out.append(new)
    return out


def _like(word: str, model: str) -> str:
    """`word` in the case pattern of `model` (Capitalised, UPPER or lower)."""
    if model.isupper() and len(model) > 1:
        return word.upper()
    return word.capitalize() if model[:1].isupper() else word
