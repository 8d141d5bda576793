"""Strings of the Space-ready work (Hub states, memory guard, the VLM offer), ru + en.

SPACE_PHRASES translate the English words packages put into model labels and error
parameters ("Hub unavailable (HTTP 503): offline: …"); they go before the general phrases.
"""
from __future__ import annotations


def _s(ru: str, en: str) -> dict[str, str]:
    return {"ru": ru, "en": en}


SPACE: dict[str, dict[str, str]] = {
    "err_memory_too_big": _s(
        "Модель {model} не загружена: ей нужно около {need} ГБ памяти ({dtype}), а свободно только "
        "{have} ГБ (лимит {limit} ГБ). Приложение работает дальше.",
        "{model} not loaded: it needs about {need} GB of memory ({dtype}), but only {have} GB is "
        "left (limit {limit} GB). The app carries on."),
    "err_memory_unknown": _s(
        "Не удалось оценить, сколько памяти нужно модели {model} (нет заголовков safetensors и "
        "config.json), поэтому она не загружена.",
        "Cannot tell how much memory {model} needs (no safetensors headers, no config.json): not loaded."),
    "err_hub_failed": _s(
        "Hub не отдал {model}: {reason}. Приложение работает дальше — проверьте имя или попробуйте позже.",
        "The Hub could not deliver {model}: {reason}. The app carries on — check the name or try later."),
    "lbl_hub_http": _s("Hub недоступен (HTTP", "Hub unavailable (HTTP"),
    "lbl_hub_404": _s("не найдено в Hub (HTTP 404)", "not found on the Hub (HTTP 404)"),
    "lbl_hub_denied": _s("нет доступа в Hub (HTTP", "no access on the Hub (HTTP"),
    "lbl_hub_stalled": _s("Hub не отвечает (время ожидания истекло)", "Hub not answering (timed out)"),
    "lbl_hub_unreachable": _s("Hub недоступен по сети", "Hub unreachable"),
    "lbl_hub_offline": _s("офлайн-режим (HF_HUB_OFFLINE)", "offline mode (HF_HUB_OFFLINE)"),
    "lbl_hub_cached": _s("сохранённая копия", "cached copy of"),
    "lbl_report_adapter": _s("адаптер из отчёта (TSDAE), Hub:", "the report's adapter (TSDAE), Hub:"),
    "exp_vlm_fits": _s(
        "Модель из отчёта **{model}** здесь помещается ({device}, {dtype}): нужно ≈ {need} ГБ, "
        "свободно {have} ГБ; загрузка ≈ {load} после скачивания, один щелчок (два ответа) ≈ {answer}. "
        "Включить: переменная `LORA_LENS_LM={model}` и перезапуск. Готовые адаптеры здесь — для "
        "маленькой модели.",
        "The report's model **{model}** fits here ({device}, {dtype}): needs ≈ {need} GB of {have} GB "
        "free; loading ≈ {load} once downloaded, one click (two answers) ≈ {answer}. To use it: set "
        "`LORA_LENS_LM={model}` and restart. The shipped adapters are for the small model."),
    "exp_vlm_no_fit": _s(
        "Модель из отчёта **{model}** здесь не помещается: нужно ≈ {need} ГБ ({dtype}), свободно "
        "{have} ГБ. Поэтому здесь маленькая офлайн-модель; модель из отчёта — на Space с GPU.",
        "The report's model **{model}** does not fit here: it needs ≈ {need} GB ({dtype}), {have} GB "
        "is free. So the small offline model runs here; the report's model needs a GPU Space."),
}

SPACE_PHRASES: list[tuple[str, str]] = [
    ("Hub unavailable (HTTP", "lbl_hub_http"),
    ("not found on the Hub (HTTP 404)", "lbl_hub_404"),
    ("no access on the Hub (HTTP", "lbl_hub_denied"),
    ("Hub not answering (timed out)", "lbl_hub_stalled"),
    ("Hub unreachable", "lbl_hub_unreachable"),
    ("offline mode (HF_HUB_OFFLINE)", "lbl_hub_offline"),
    ("cached copy of", "lbl_hub_cached"),
    ("the report's adapter (TSDAE), Hub:", "lbl_report_adapter"),
]
