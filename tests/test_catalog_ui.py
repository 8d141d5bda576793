"""The catalog view's wording: highlighted hits, the verdict in plain Russian and English."""
from __future__ import annotations

from comparison.catalog.search import Hit
from comparison.catalog.verdict import LabelFreeVerdict
from ui.catalog import hits_html
from ui.catalog_verdict import verdict_md


def test_hits_highlight_what_the_other_list_lacks() -> None:
    hits = [Hit("Кроссовки <Puma>", 3, 0.91, 1, 4, 0.5), Hit("Кеды", 7, 0.88, 2, 1, 0.9)]
    out = hits_html(hits, other_set={7}, lang="ru", side="base", k=5)
    assert "Кроссовки &lt;Puma&gt;" in out  # titles are escaped
    assert out.count('class="hit changed"') == 1 and "0,9100" in out and "4 ↑" in out
    assert "Место с адаптером" in out


def test_verdict_words() -> None:
    v = LabelFreeVerdict(n_marked=18, n_titles=11, base_right=5, tuned_right=10, tuned_only=6, base_only=1,
                         p_value=0.125, base_ci=(0.2, 0.7), tuned_ci=(0.6, 0.98), outcome="unclear",
                         n_disputed=8, n_random=3)
    ru = verdict_md(v, "ru")
    assert "На 11 названиях" in ru and "**10** раз" in ru and "**5** раз" in ru
    assert "p = 0,125" in ru and "пока нельзя сказать" in ru
    en = verdict_md(v, "en")
    assert "On the 11 titles" in en and "**10** times" in en and "cannot tell yet" in en
    one = verdict_md(LabelFreeVerdict(1, 1, 0, 1, 1, 0, 1.0, (0.0, 0.8), (0.2, 1.0), "unclear", 1, 0), "ru")
    assert "На 1 названии" in one and "**1** раз" in one


def test_a_catalog_of_variants_is_offered_to_training(monkeypatch) -> None:
    from types import SimpleNamespace

    from ui import catalog_handover
    from ui.common import encoders

    variants = [f"Лампа светодиодная Gauss {w} Вт E27" for w in (7, 9, 12)] + [
        "Сок Добрый апельсиновый 1 л", "Сок Добрый яблочный 1 л", "Кабель USB Type-C 2 м"]
    shop = ["Кабель USB Type-C 2 м", "Чай черный Ahmad Tea 100 пакетиков", "Смартфон Apple iPhone 15 128 ГБ",
            "Кроссовки Nike Air Max 90 белые", "Пылесос Dyson V15 Detect"]
    owned: set[str] = set()
    monkeypatch.setattr(encoders, "owns", lambda session, name: name in owned)
    words, offer = catalog_handover.variant_hint("s", SimpleNamespace(titles=variants, adapter="default"), "c.csv", "ru")
    assert offer and "83 % названий повторяют шаблон продавца" in words  # 5 of 6 titles
    words, offer = catalog_handover.variant_hint("s", SimpleNamespace(titles=variants, adapter=None), "c.TXT", "en")
    assert offer and "83 % of this catalog's titles" in words
    assert catalog_handover.variant_hint("s", SimpleNamespace(titles=shop, adapter="default"), "c.csv", "ru") == ("", False)
    zipped = SimpleNamespace(titles=variants, adapter="default")  # vectors built elsewhere: no corpus to train on
    assert catalog_handover.variant_hint("s", zipped, "emb.zip", "ru") == ("", False)
    owned.add("mine")  # the session's own adapter (trained on this catalog, say): nothing to offer
    assert catalog_handover.variant_hint("s", SimpleNamespace(titles=variants, adapter="mine"), "c.csv", "ru") == ("", False)
