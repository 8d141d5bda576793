"""Strings of the catalog view (Similarity tab → Catalog), merged into ui.locales.TEXT."""
from __future__ import annotations


def _s(ru: str, en: str) -> dict[str, str]:
    return {"ru": ru, "en": en}


CATALOG: dict[str, dict[str, str]] = {
    "plural_titles": _s("название|названия|названий", "title|titles"),
    "plural_times": _s("раз|раза|раз", "time|times"),
    "plural_titles_loc": _s("названии|названиях|названиях", "title|titles"),  # ru: after «на» (prepositional)
    "plural_titles_gen": _s("названия|названий|названий", "title|titles"),  # ru: after «для» (genitive)
    "cat_tab": _s("Каталог", "Catalog"),
    "cat_help": _s(
        "Загрузите свой каталог (до 100 000 названий; те же форматы и кодировки, что на вкладке «Обучение») — "
        "он будет переведён в векторы базовой моделью и моделью с адаптером, выбранным наверху, при выбранной силе. "
        "Потом ищите по нему и сравнивайте выдачу, смотрите, что сдвинулось, и получите вердикт по своим отметкам.",
        "Upload your own catalog (up to 100,000 titles; the Training tab's formats and encodings) — it is embedded "
        "by the base model and by the adapter chosen above, at the chosen strength. Then search it and compare the "
        "results, see what moved, and get a verdict from your own marks."),
    "cat_file": _s("Файл каталога", "Catalog file"),
    "cat_from_training": _s("Взять корпус с вкладки «Обучение»", "Use the Training tab's corpus"),
    "cat_no_training_corpus": _s("На вкладке «Обучение» ещё не загружен корпус.",
                                 "No corpus is loaded in the Training tab yet."),
    "cat_taken": _s("Взят корпус с вкладки «Обучение»: {name}. Нажмите «Проиндексировать».",
                    "Took the Training tab's corpus: {name}. Press \"Index\"."),
    "cat_index": _s("Проиндексировать каталог", "Index the catalog"),
    "cat_cancel": _s("Отменить", "Cancel"),
    "cat_no_file": _s("Сначала загрузите файл каталога.", "Upload a catalog file first."),
    "cat_progress": _s("Векторы: {done} из {total}, осталось ≈ {eta}", "Vectors: {done} of {total}, ≈ {eta} left"),
    "cat_indexed": _s(
        "В каталоге **{n}** {titles_word}. Векторы базовой модели и адаптера «{adapter}» (сила {scale}) — "
        "за {seconds}; в памяти {mb} МБ.",
        "The catalog has **{n}** {titles_word}. Base and adapter '{adapter}' (strength {scale}) vectors in "
        "{seconds}; {mb} MB in memory."),
    "cat_indexed_base": _s("В каталоге **{n}** {titles_word}; векторы базовой модели за {seconds} (адаптер не выбран).",
                           "The catalog has **{n}** {titles_word}; base vectors in {seconds} (no adapter chosen)."),
    "cat_reused": _s("Векторы базовой модели взяты из прошлой индексации.", "Base vectors reused from the last run."),
    "cat_variants": _s(
        "🔀 В этом каталоге {share} % названий повторяют шаблон продавца, отличаясь одним словом (размер, "
        "объём, вкус, сорт): так один продавец перечисляет варианты товара. Адаптер, обученный на других категориях, "
        "часто путает такие варианты; адаптер, обученный на самом каталоге, различает их гораздо лучше. "
        "Кнопка ниже передаст каталог на вкладку «Обучение» — там видно, сколько займёт обучение.",
        "🔀 {share} % of this catalog's titles repeat a seller's template with one other word (size, volume, "
        "flavour, grade): that is how one seller lists a product's variants. An adapter trained on other "
        "categories often mixes such variants up; one trained on this catalog itself tells them apart far "
        "better. The button below hands the catalog to the Training tab, which says how long training takes."),
    "cat_to_training": _s("Обучить адаптер на этом каталоге", "Train an adapter on this catalog"),
    "cat_cancelled": _s("Индексация отменена; ничего не сохранено.", "Indexing cancelled; nothing was kept."),
    "cat_query": _s("Запрос", "Query"),
    "cat_k": _s("Сколько результатов", "How many results"),
    "cat_search": _s("Найти", "Search"),
    "cat_base_list": _s("Базовая модель", "Base model"),
    "cat_tuned_list": _s("С адаптером", "With the adapter"),
    "cat_col_rank": _s("№", "#"),
    "cat_col_title": _s("Название", "Title"),
    "cat_col_score": _s("Сходство", "Score"),
    "cat_col_other_base": _s("Место с адаптером", "Rank with adapter"),
    "cat_col_other_tuned": _s("Место у базовой", "Rank in base"),
    "cat_search_note": _s(
        "Подсвечено то, чего нет в первых {k} у другой модели. Справа — место этого названия в выдаче другой модели.",
        "Highlighted: not in the other model's top {k}. Right column: where the other model ranks the title."),
    "cat_first_changed": _s("Первый результат у адаптера другой.", "The adapter's first result is different."),
    "cat_first_same": _s("Первый результат тот же.", "The first result is the same."),
    "cat_moved": _s("Что сдвинулось", "What moved"),
    "cat_moved_run": _s("Показать, что сдвинулось", "Show what moved"),
    "cat_share": _s("Дубли: доля самых похожих пар, %", "Duplicates: share of the closest pairs, %"),
    "cat_moved_md": _s(
        "У каждого названия взяты {k} ближайших соседей до и после адаптера. В среднем сохранилось {mean}% соседей; "
        "у {changed} из {n} {titles_word} сменился хотя бы один сосед, у {all} — все.",
        "Each title's {k} nearest neighbours before and after the adapter: on average {mean}% stayed; "
        "{changed} of {n} {titles_word} changed at least one neighbour, {all} changed all."),
    "cat_moved_sampled": _s("Каталог большой: посчитано для {m} случайных названий (соседи — из всего каталога).",
                            "Large catalog: computed for {m} random titles (neighbours from the whole catalog)."),
    "cat_changed_table": _s("Названия, у которых сильнее всего сменились соседи",
                            "Titles whose neighbours changed most"),
    "cat_col_overlap": _s("Соседей осталось", "Neighbours kept"),
    "cat_col_before": _s("Соседи до (база)", "Neighbours before (base)"),
    "cat_col_after": _s("Соседи после (адаптер)", "Neighbours after (adapter)"),
    "cat_dup_tuned": _s("Вероятные дубли, которые видит адаптер, а базовая модель — нет",
                        "Likely duplicates the adapter finds and the base does not"),
    "cat_dup_base": _s("…и наоборот: их видит только базовая модель", "…and the reverse: only the base finds them"),
    "cat_dup_md": _s(
        "Дубль — название и его ближайший сосед, если их сходство в верхних {share}% таких пар у этой модели "
        "(порог у базы {tb}, у адаптера {tt}: у каждой модели своя шкала). База отмечает {nb}, адаптер {nt} {pairs_word}.",
        "A duplicate: a title and its nearest neighbour whose similarity is in the model's top {share}% of such pairs "
        "(threshold {tb} for the base, {tt} for the adapter: each model has its own scale). The base flags {nb}, "
        "the adapter {nt} {pairs_word}."),
    "plural_pairs": _s("пару|пары|пар", "pair|pairs"),
    "cat_col_a": _s("Название А", "Title A"),
    "cat_col_b": _s("Название Б", "Title B"),
    "cat_col_base": _s("База", "Base"),
    "cat_col_tuned": _s("Адаптер", "Adapter"),
    "cat_need_adapter": _s("Для этого нужен адаптер: выберите его наверху вкладки и проиндексируйте каталог.",
                           "This needs an adapter: pick one above and index the catalog."),
    "chart_catalog_map_title": _s("Ваш каталог с адаптером (PCA); цвет — насколько сменились соседи",
                                  "Your catalog under the adapter (PCA); colour = how much the neighbours changed"),
    "chart_catalog_change": _s("соседи сменились", "neighbours changed"),
    "chart_catalog_found": _s("найденное", "found title"),
    "chart_catalog_axis_x": _s("компонента 1", "component 1"),
    "chart_catalog_axis_y": _s("компонента 2", "component 2"),
    "cat_verdict": _s("Вердикт без разметки", "A verdict without labels"),
    "cat_verdict_help": _s(
        "Приложение предложит около 20 пар из вашего каталога. Отметьте, один ли это товар — и получите вердикт: "
        "чья первая находка чаще оказывалась тем же товаром.",
        "The app proposes about 20 pairs from your catalog. Mark whether each is the same product and get a verdict: "
        "whose first hit was more often the same product."),
    "cat_propose": _s("Предложить пары", "Propose pairs"),
    "cat_how_chosen": _s(
        "{n} {pairs_word}: для {d} {titles_word} базовая модель и адаптер ставят первыми разное (показаны обе находки; "
        "выбраны те, где модели расходятся сильнее всего), ещё {r} — случайные. Какая модель что нашла, не сказано, "
        "чтобы не подсказывать.",
        "{n} {pairs_word}: for {d} {titles_word} the base and the adapter put different titles first (both shown; "
        "those where they disagree most), {r} more are random. Which model found what is hidden, so as not to sway you."),
    "cat_mark_same": _s("Один товар", "Same"),
    "cat_mark_different": _s("Разные", "Different"),
    "cat_mark_unsure": _s("Не уверен", "Not sure"),
    "cat_judge": _s("Вердикт", "Verdict"),
    "cat_no_marks": _s("Отметьте хотя бы одну пару.", "Mark at least one pair."),
    "cat_no_proposal": _s("Сначала нажмите «Предложить пары».", "Press \"Propose pairs\" first."),
    "cat_verdict_counts": _s(
        "На {n} {titles_word}, где отмечены первые находки обеих моделей, адаптер поставил первым тот же товар "
        "**{tr}** {tr_word} ({trp}%, 95% интервал {tlo}–{thi}%), базовая модель — **{br}** {br_word} "
        "({brp}%, {blo}–{bhi}%). Отмечено пар: {m}.",
        "On the {n} {titles_word} whose first hits you marked for both models, the adapter put the same product first "
        "**{tr}** {tr_word} ({trp}%, 95% interval {tlo}–{thi}%), the base **{br}** {br_word} ({brp}%, {blo}–{bhi}%). "
        "Pairs marked: {m}."),
    "cat_verdict_sign": _s(
        "Где права ровно одна модель ({d}): адаптер — {w}, база — {l}; точный знаковый тест p = {p}.",
        "Where exactly one model was right ({d}): adapter {w}, base {l}; exact sign test p = {p}."),
    "cat_outcome_better": _s("**Вывод: адаптер находит ваши товары лучше.**",
                             "**Verdict: the adapter finds your products better.**"),
    "cat_outcome_worse": _s("**Вывод: адаптер находит ваши товары хуже базовой модели.**",
                            "**Verdict: the adapter finds your products worse than the base.**"),
    "cat_outcome_unclear": _s("**Вывод: пока нельзя сказать** — отметок мало или модели ошибаются поровну.",
                              "**Verdict: cannot tell yet** — too few marks, or both models err equally."),
    "cat_verdict_note": _s(
        "Пары выбраны в основном там, где модели спорят, поэтому доли описывают спорные случаи, а не весь каталог.",
        "The pairs were chosen mostly where the models disagree, so the rates describe disputed cases, "
        "not the whole catalog."),
    "cat_marks_file": _s("Отметки — файл пар для панели оценки", "Marks as a pairs file for the evaluation panel"),
    "cat_export": _s("Скачать модель целиком (sentence-transformers)", "Download the merged model (sentence-transformers)"),
    "cat_export_file": _s("Модель: адаптер влит в базовую (zip)", "Model: adapter merged into the base (zip)"),
    "cat_export_done": _s(
        "Готово: адаптер «{adapter}» влит в базовую модель при силе {scale}. "
        "Распакуйте и загрузите: `SentenceTransformer(\"папка\")`.",
        "Done: adapter '{adapter}' merged into the base at strength {scale}. "
        "Unzip and load: `SentenceTransformer(\"folder\")`."),
    "err_catalog_empty": _s("В каталоге нет названий.", "The catalog has no titles."),
    "err_catalog_too_big": _s("В каталоге {n} названий; предел — {limit}.", "The catalog has {n} titles; the limit is {limit}."),
    "err_catalog_none": _s("В этой сессии каталог ещё не проиндексирован.", "No catalog is indexed in this session yet."),
    "err_catalog_stale": _s("Каталог не проиндексирован для этого адаптера и силы: нажмите «Проиндексировать» "
                            "(векторы базовой модели возьмутся из прошлого раза).",
                            "The catalog is not indexed for this adapter and strength yet: press \"Index\" "
                            "(base vectors are reused)."),
    "err_catalog_cancelled": _s("Индексация отменена.", "Indexing was cancelled."),
    "err_catalog_marks_both": _s("Чтобы скачать файл пар, отметьте хотя бы одну пару «Один товар» и одну «Разные».",
                                 "Mark at least one pair 'Same' and one 'Different' to download a pairs file."),
}
CATALOG["cat_empty_query"] = _s("Введите запрос.", "Type a query.")
CATALOG["cat_embedded_other"] = _s(
    "Этот каталог посчитан другой моделью (база: {base}; адаптер: {adapter}). Выберите тот же адаптер или "
    "проиндексируйте каталог здесь.",
    "This catalog was embedded by another model (base: {base}; adapter: {adapter}). Pick the same adapter or "
    "index the catalog here.")
CATALOG["err_catalog_not_embedded"] = _s(
    "Это не посчитанный каталог: нет manifest.json или не хватает частей (shard-…parquet).",
    "Not an embedded catalog: manifest.json or some shard-…parquet parts are missing.")
