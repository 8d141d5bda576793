"""Strings of the explorer's plain-words reading, "take it apart" and attribution (merged
into ui.locales.TEXT). Sentences are filled from facts the package computes
(`comparison.explorer.reading`, `comparison.explorer.take_apart`); plurals by `ui.locales.plural`.
"""
from __future__ import annotations


def _s(ru: str, en: str) -> dict[str, str]:
    return {"ru": ru, "en": en}


EXPLAIN: dict[str, dict[str, str]] = {
    # ---- plurals: ru "one|few|many", en "one|many"
    "plural_layers_in": _s("слое|слоях|слоях", "layer|layers"),  # ru: after «в»
    # ---- the reading
    "rd_title": _s("### Что сделал адаптер — простыми словами", "### What the adapter did — in plain words"),
    "rd_same_answer": _s("**Ответ не изменился**: с LoRA модель пишет то же, что и без неё.",
                         "**The answer did not change**: with the LoRA the model writes the same as without it."),
    "rd_answer_changed": _s("**Ответ изменился, начиная со слова № {word}**: без адаптера «{base}», с LoRA «{lora}».",
                            "**The answer changed from word {word}**: the base writes “{base}”, the LoRA “{lora}”."),
    "rd_end": _s("(конец ответа)", "(end of answer)"),
    "rd_top_same": _s("Самый вероятный следующий токен тот же: «{tok}».",
                      "The most likely next token stays “{tok}”."),
    "rd_top_changed": _s("Самый вероятный следующий токен сменился: «{base}» → «{lora}».",
                         "The most likely next token changed: “{base}” → “{lora}”."),
    "rd_gained": _s("Больше всех выиграл «{tok}»: {b} → {l}.", "“{tok}” gained most: {b} → {l}."),
    "rd_lost": _s("Больше всех потерял «{tok}»: {b} → {l}.", "“{tok}” lost most: {b} → {l}."),
    "rd_no_move": _s("Ни один кандидат не сдвинулся больше чем на 0,5 п.п.",
                     "No candidate moved by more than half a percentage point."),
    "rd_size": _s("Размер изменения следующего токена: **{band}** (KL = {kl:.3f} нат; {meaning}).",
                  "Size of the change at the next token: **{band}** (KL = {kl:.3f} nats; {meaning})."),
    "rd_band_none": _s("почти нет", "almost none"),
    "rd_band_slight": _s("слабое", "slight"),
    "rd_band_noticeable": _s("заметное", "noticeable"),
    "rd_band_strong": _s("сильное", "strong"),
    "rd_band_drastic": _s("очень сильное", "drastic"),
    "rd_mean_none": _s("база бы не заметила разницы", "the base would not notice"),
    "rd_mean_slight": _s("база находит типичный токен LoRA менее вероятным, но меньше чем на 10 %",
                         "the base finds a typical LoRA token under 10 % less likely"),
    "rd_mean_noticeable": _s("база находит типичный токен LoRA на 10–65 % менее вероятным",
                             "the base finds a typical LoRA token 10–65 % less likely"),
    "rd_mean_strong": _s("база находит типичный токен LoRA в 1,6–7 раз менее вероятным",
                         "the base finds a typical LoRA token 1.6–7 times less likely"),
    "rd_mean_drastic": _s("LoRA пишет то, что база почти не стала бы писать (разница больше чем в 7 раз)",
                          "the LoRA writes what the base would hardly write (more than 7 times less likely)"),
    "rd_writes": _s("Адаптер пишет больше всего в **{kind}** ({share} от ‖ΔW‖²), "
                    "сильнее всего — в {n_layers} {layers_word}: {layers} ({lshare}).",
                    "The adapter writes most in **{kind}** ({share} of ‖ΔW‖²), hardest in "
                    "{n_layers} {layers_word}: {layers} ({lshare})."),
    "rd_writes_none": _s("Обновление адаптера нулевое: он ничего не меняет.",
                         "The adapter's update is zero: it changes nothing."),
    "rd_att_moved": _s("Внимание сдвинулось сильнее всего в слое {layer} (JS = {js:.4f} нат).",
                       "Attention moved most in layer {layer} (JS = {js:.4f} nats)."),
    "rd_att_still": _s("Внимание почти не сдвинулось ни в одном слое.", "Attention hardly moved in any layer."),
    "rd_prompt_nothing": _s("Контекстному промпту нечего имитировать: LoRA почти не меняет следующий токен.",
                            "The context prompt has nothing to imitate: the LoRA barely changes the next token."),
    "rd_prompt_imitates": _s("Контекстный промпт **имитирует** LoRA: закрывает {x} разрыва и выбирает тот же первый токен.",
                             "The context prompt **imitates** the LoRA: it closes {x} of the gap and picks the same top token."),
    "rd_prompt_partly": _s("Контекстный промпт имитирует LoRA **лишь отчасти**: закрывает {x} разрыва{top}.",
                           "The context prompt imitates the LoRA **only partly**: it closes {x} of the gap{top}."),
    "rd_prompt_no": _s("Контекстный промпт **не имитирует** LoRA: закрывает {x} разрыва{top}.",
                       "The context prompt **does not imitate** the LoRA: it closes {x} of the gap{top}."),
    "rd_top_same_tail": _s(", первый токен тот же", ", same top token"),
    "rd_top_diff_tail": _s(", первый токен другой", ", a different top token"),
    # ---- hints for the charts' terms
    "rd_hints_title": _s("Как читать графики: термины", "How to read the charts: the terms"),
    "rd_hints": _s(
        "**Как читать графики.** "
        "*Токен* — кусочек слова, который модель выбирает следующим. "
        "*top-k* — k самых вероятных токенов. "
        "*Δ* — вероятность с LoRA минус без неё (красное — выросла, синее — упала). "
        "*KL* (нат) — насколько распределение с LoRA отличается от исходного: 0 — совпадают. "
        "*JS* — то же, но симметрично и не больше ln 2 ≈ 0,69. "
        "*Внимание* — на какие слова вопроса смотрит модель, считая ответ. "
        "*Слой* — один из блоков модели по порядку, от входа к выходу. "
        "*q, k, v, o* — проекции внимания (запрос, ключ, значение, выход); *MLP* — полносвязная часть слоя. "
        "*‖ΔW‖* — величина поправки адаптера к весам модуля. "
        "*Сингулярные числа* — сколько независимых направлений поправки реально используется. "
        "*Доля изменения* — какую часть полного эффекта LoRA воспроизводит одна её часть (1 — весь, 0 — ничего).",
        "**How to read the charts.** "
        "*Token* — a piece of a word the model picks next. "
        "*top-k* — the k most likely tokens. "
        "*Δ* — probability with the LoRA minus without it (red up, blue down). "
        "*KL* (nats) — how far the LoRA's distribution is from the base's: 0 = identical. "
        "*JS* — the same, symmetric and at most ln 2 ≈ 0.69. "
        "*Attention* — which words of the question the model looks at while answering. "
        "*Layer* — one of the model's blocks, in order from input to output. "
        "*q, k, v, o* — attention projections (query, key, value, output); *MLP* — the layer's feed-forward part. "
        "*‖ΔW‖* — the size of the adapter's correction to a module's weights. "
        "*Singular values* — how many independent directions of the correction are really used. "
        "*Share of the change* — how much of the full LoRA's effect one part reproduces (1 = all, 0 = none)."),
    # ---- take it apart
    "ta_title": _s("### Разобрать LoRA на части", "### Take the LoRA apart"),
    "ta_help": _s("Оставьте включёнными только выбранные модули и слои — остальная часть LoRA выключается "
                  "(веса не копируются). Сравните ответы и расстояния до базы и до полной LoRA.",
                  "Keep only the chosen modules and layers on — the rest of the LoRA is switched off "
                  "(no weights are copied). Compare answers and the distances to the base and to the full LoRA."),
    "ta_modules": _s("Включённые модули", "Modules kept on"),
    "ta_layers": _s("Слои (например 0-5 или all)", "Layers (e.g. 0-5 or all)"),
    "ta_run": _s("Разобрать", "Take apart"),
    "ta_attr": _s("Какая часть несёт изменение?", "Which part carries the change?"),
    "ta_result": _s("**Слоёв LoRA включено: {on}** ({parts}).\n\n"
                    "| | ответ |\n|---|---|\n| без адаптера | {base} |\n| полная LoRA | {full} |\n| только части | {part} |\n\n"
                    "KL до базы: **{kl_b:.4f}** нат · KL до полной LoRA: **{kl_f:.4f}** нат · "
                    "доля изменения: **{share}** · ответ полной LoRA {survives}.",
                    "**LoRA layers on: {on}** ({parts}).\n\n"
                    "| | answer |\n|---|---|\n| base | {base} |\n| full LoRA | {full} |\n| parts only | {part} |\n\n"
                    "KL to base: **{kl_b:.4f}** nats · KL to the full LoRA: **{kl_f:.4f}** nats · "
                    "share of the change: **{share}** · the full LoRA's answer {survives}."),
    "ta_survives": _s("сохраняется", "survives"),
    "ta_lost": _s("не сохраняется (совпадает {n} {steps})", "does not survive (matches for {n} {steps})"),
    "ta_no_change": _s("—", "—"),
    # ---- attribution sentence
    "at_none": _s("Полная LoRA не меняет ответ этого вопроса — делить нечего.",
                  "The full LoRA does not change this question's text — there is no change to split."),
    "at_concentrated": _s("Большая часть изменения живёт в **{part}**: одна эта часть воспроизводит {share} "
                          "полного изменения, и ответ полной LoRA {survives}.",
                          "Most of the change lives in **{part}**: this part alone reproduces {share} of the "
                          "full change, and the full LoRA's answer {survives}."),
    "at_module": _s("Большая часть изменения живёт в **{part}** ({share}); по слоям больше всего даёт {lpart} ({lshare}).",
                    "Most of the change lives in **{part}** ({share}); by layers, {lpart} gives most ({lshare})."),
    "at_layers": _s("Большая часть изменения живёт в **{lpart}** ({lshare}); из модулей больше всего даёт {part} ({share}).",
                    "Most of the change lives in **{lpart}** ({lshare}); of the modules, {part} gives most ({share})."),
    "at_spread": _s("Изменение распределено: ни один тип модулей и ни одна треть слоёв сама по себе не даёт половины. "
                    "Больше всего — {part} ({share}) и {lpart} ({lshare}).",
                    "The change is spread out: no module kind and no third of the layers gives half of it alone. "
                    "The largest: {part} ({share}) and {lpart} ({lshare})."),
    "at_sums": _s("Сумма долей: модули {m}, трети слоёв {l} (≈ 100 % — части складываются; больше — перекрываются; "
                  "меньше — нужны друг другу).",
                  "Shares add up to: modules {m}, thirds of the layers {l} (≈ 100 % — the parts add up; more — "
                  "they overlap; less — they need each other)."),
    "at_survives_yes": _s("сохраняется", "survives"),
    "at_survives_no": _s("не сохраняется", "does not survive"),
    "chart_explorer_attr_title": _s("Какую долю изменения воспроизводит каждая часть в одиночку",
                                    "Share of the full change each part reproduces alone"),
    "chart_explorer_attr_share": _s("доля изменения", "share of the change"),
    "chart_explorer_attr_survives": _s("ответ сохраняется", "answer survives"),
    "chart_explorer_attr_lost": _s("ответ меняется", "answer changes"),
    "chart_explorer_part": _s("только части", "parts only"),
    "chart_explorer_full": _s("полная LoRA", "full LoRA"),
    "chart_explorer_ta_title": _s("Следующий токен: база, полная LoRA и только выбранные части",
                                  "Next token: base, full LoRA and the chosen parts only"),
    "chart_explorer_learn_step": _s("шаг {step}", "step {step}"),
    "chart_explorer_learn_title": _s("Следующий токен на шаге обучения {step}", "Next token at training step {step}"),
    "chart_explorer_learn_kl_base": _s("KL(шаг ‖ база)", "KL(step ‖ base)"),
    "chart_explorer_learn_kl_final": _s("KL(финал ‖ шаг)", "KL(final ‖ step)"),
    "chart_explorer_learn_curve_title": _s("Насколько каждый чекпойнт далёк от базы и от итоговой LoRA",
                                           "How far each checkpoint is from the base and from the final LoRA"),
    "chart_explorer_learn_x": _s("шаг обучения", "training step"),
    # ---- watch it learn
    "ln_title": _s("### Как адаптер учился", "### Watch it learn"),
    "ln_help": _s("Демо-адаптер сохранён на нескольких шагах обучения. Нажмите кнопку, затем двигайте ползунок: "
                  "ответ, вероятности следующего токена и KL на каждом шаге (0 — модель без адаптера).",
                  "The demo adapter was saved at a few training steps. Press the button, then move the slider: "
                  "the answer, the next-token probabilities and the KL at each step (0 = the model without adapter)."),
    "ln_run": _s("Воспроизвести обучение", "Replay the training"),
    "ln_slider": _s("Чекпойнт (0 — без адаптера, последний — итоговая LoRA)",
                    "Checkpoint (0 = no adapter, last = the final LoRA)"),
    "ln_text": _s("**Шаг {step} из {total}**{loss}. Ответ: «{answer}». KL до базы **{kl_b:.3f}** нат, "
                  "до итоговой LoRA **{kl_f:.3f}** нат.",
                  "**Step {step} of {total}**{loss}. Answer: “{answer}”. KL to the base **{kl_b:.3f}** nats, "
                  "to the final LoRA **{kl_f:.3f}** nats."),
    "ln_loss": _s(" (loss {loss:.2f})", " (loss {loss:.2f})"),
    "ln_none": _s("У этого адаптера нет сохранённых чекпойнтов обучения (они есть у демо-адаптера lm-cartoons-demo).",
                  "This adapter has no saved training checkpoints (the demo adapter lm-cartoons-demo has them)."),
    "part_layers": _s("слои", "layers"),
    "part_layer": _s("слой", "layer"),
}
