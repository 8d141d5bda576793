"""Words for the explorer's facts: the plain-words reading, a taken-apart LoRA, the attribution.

The numbers and the choices (which band, which token, which part) are made by the package
(`comparison.explorer.reading`, `comparison.explorer.take_apart`); here they only become
sentences in the user's language, with Russian plurals. No gradio here: the API and the
tab share these functions.
"""
from __future__ import annotations

from typing import Any

from ui.locales import plural, t


def pct(x: float | None, lang: str) -> str:
    """A share as a percentage (Russian uses a decimal comma); "—" when undefined."""
    if x is None:
        return "—"
    text = f"{100 * x:.0f} %"
    return text if lang != "ru" else text.replace(".", ",")


def _tok(token: str) -> str:
    """A token as the reader sees it: line breaks and bare spaces made visible."""
    return token.strip() or token.replace("\n", "⏎").replace(" ", "␣") or "∅"


def _one_line(text: str) -> str:
    """An answer inside a table cell: line breaks shown as ⏎, pipes escaped."""
    return (text or "∅").replace("\n", " ⏎ ").replace("|", "\\|")


def part_label(modules: str, layers: str, lang: str) -> str:
    """A part's name in `lang`: "o_proj · слои 12–17", "mlp", "слои 0–5"."""
    names = {"all", "none"}
    kinds = "" if modules == "all" else modules if modules in names else \
        "+".join(k if k == "mlp" else f"{k}_proj" for k in modules.split(","))
    if layers == "all":
        return kinds or modules
    lo, hi = layers.split("-")
    span = f"{t('part_layer', lang)} {lo}" if lo == hi else f"{t('part_layers', lang)} {lo}–{hi}"
    return f"{kinds} · {span}" if kinds else span


def summary(facts: dict[str, Any], lang: str) -> str:
    """The plain-words reading of one compare report (markdown, one statement per line)."""
    lines = [t("rd_title", lang)]
    answer = facts.get("answer")
    if answer is not None:
        if answer["changed"]:
            lines.append(t("rd_answer_changed", lang, word=answer["word"],
                           base=answer["base_word"] or t("rd_end", lang),
                           lora=answer["lora_word"] or t("rd_end", lang)))
        else:
            lines.append(t("rd_same_answer", lang))
    nt = facts["next_token"]
    parts = [t("rd_top_changed", lang, base=_tok(nt["base_top"]), lora=_tok(nt["lora_top"])) if nt["top_changed"]
             else t("rd_top_same", lang, tok=_tok(nt["base_top"]))]
    for key in ("gained", "lost"):
        if key in nt:
            parts.append(t(f"rd_{key}", lang, tok=_tok(nt[key]["token"]), b=pct(nt[key]["base"], lang),
                           l=pct(nt[key]["lora"], lang)))
    if "gained" not in nt and "lost" not in nt:
        parts.append(t("rd_no_move", lang))
    lines.append(" ".join(parts))
    size = facts["size"]
    lines.append(t("rd_size", lang, band=t(f"rd_band_{size['band']}", lang), kl=size["kl"],
                   meaning=t(f"rd_mean_{size['band']}", lang)))
    writes = facts.get("writes")
    if writes and writes["zero"]:
        lines.append(t("rd_writes_none", lang))
    elif writes:
        n = len(writes["layers"])
        kind = writes["kind"] if writes["kind"] in ("mlp", "other") else f"{writes['kind']}_proj"
        lines.append(t("rd_writes", lang, kind=kind, share=pct(writes["kind_share"], lang), n_layers=n,
                       layers_word=plural(n, "layers_in", lang), layers=", ".join(map(str, writes["layers"])),
                       lshare=pct(writes["layers_share"], lang)))
    att = facts["attention"]
    lines.append(t("rd_att_moved", lang, layer=att["layer"], js=att["js"]) if att["moved"]
                 else t("rd_att_still", lang))
    prompt = facts.get("prompt")
    if prompt:
        if prompt["kind"] == "nothing":
            lines.append(t("rd_prompt_nothing", lang))
        else:
            tail = t("rd_top_same_tail" if prompt["same_top1"] else "rd_top_diff_tail", lang)
            lines.append(t(f"rd_prompt_{prompt['kind']}", lang, x=pct(max(prompt["closed"], 0.0), lang), top=tail))
    return "\n\n".join(lines)


def take_apart_text(result: dict[str, Any], lang: str) -> str:
    """A taken-apart LoRA (`TakeApart.to_json()`) in words."""
    survives = t("ta_survives", lang) if result["survives"] else \
        t("ta_lost", lang, n=result["matched"], steps=plural(result["matched"], "steps", lang))
    modules, layers = result["parts_modules"], result["parts_layers"]
    return t("ta_result", lang, on=result["layers_on"], parts=part_label(modules, layers, lang),
             base=_one_line(result["answers"]["base"]), full=_one_line(result["answers"]["full"]),
             part=_one_line(result["answers"]["part"]), kl_b=result["kl_to_base"], kl_f=result["kl_to_full"],
             share=pct(result["share"], lang), survives=survives)


def attribution_text(result: dict[str, Any], lang: str) -> str:
    """The attribution's one sentence plus how the shares add up (`Attribution.to_json()`)."""
    facts = result["conclusion"]
    if facts["kind"] == "none":
        return t("at_none", lang)
    fill: dict[str, Any] = {}
    if "module" in facts:
        m = facts["module"]
        fill.update(part=part_label(m["modules"], "all", lang), share=pct(m["share"], lang))
    if "layers" in facts:
        g = facts["layers"]
        fill.update(lpart=part_label("all", g["layers"], lang), lshare=pct(g["share"], lang))
    if facts["kind"] == "concentrated":
        c = facts["combined"]
        sentence = t("at_concentrated", lang, part=part_label(facts["module"]["modules"], facts["layers"]["layers"],
                                                              lang),
                     share=pct(c["share"], lang),
                     survives=t("at_survives_yes" if c["survives"] else "at_survives_no", lang))
    else:
        fill.setdefault("part", "—"), fill.setdefault("share", "—")
        fill.setdefault("lpart", "—"), fill.setdefault("lshare", "—")
        sentence = t(f"at_{facts['kind']}", lang, **fill)
    sums = result.get("share_sums", {})
    if sums:
        sentence += " " + t("at_sums", lang, m=pct(sums.get("module"), lang), l=pct(sums.get("layers"), lang))
    return sentence
