"""What the Training tab says about a run: the plan line before it, the live line during it,
the summary and the /train metrics after it. Words only: the tab's events are `ui.training`."""
from __future__ import annotations

from tuning import runner
from tuning.config import TrainConfig
from tuning.model import BF16_OFF_LABEL, PLAIN_OFF_LABEL, QLORA_LABEL
from tuning.plan import RunPlan, plan_run
from tuning.variants import auto_ranking_weight
from ui.common import fmt_seconds
from ui.locales import plural, t


def plan_text(cfg: TrainConfig, info: dict, lang: str) -> str:
    """The plan line for a previewed corpus (`info`) and the form's settings: time and steps,
    and what a catalog of variants switches on by itself."""
    share = float(info.get("variant_share") or 0.0)
    automatic = cfg.ranking_weight is None and "contrastive" in cfg.objective
    note = (t("plan_variants", lang, share=round(100 * share))
            if automatic and auto_ranking_weight(share) > 0 else "")
    run = plan_run(cfg, int(info["n_texts"]), share=share)
    plan = plan_md(run, cfg.epochs is None, lang)
    longer = run.target
    if longer is not None and longer != cfg.auto_steps and run.steps == longer:  # not capped
        note += t("plan_variant_steps", lang, steps=longer,
                  steps_word=plural(longer, "steps", lang), auto=cfg.auto_steps)
    return plan + note


def plan_md(plan: RunPlan, auto: bool, lang: str) -> str:
    """'≈ 6 min, 315 steps (3 epochs, chosen from the corpus size)'."""
    secs = round(plan.seconds)
    time_ = t("plan_min", lang, m=round(secs / 60)) if secs >= 90 else t("plan_s", lang, s=secs)
    return t("plan_md", lang, time=time_, steps=plan.steps, steps_word=plural(plan.steps, "steps", lang),
             epochs=plan.epochs, epochs_word=plural(plan.epochs, "epochs", lang),
             auto=t("plan_auto", lang) if auto else "", capped=t("plan_capped", lang) if plan.capped_by_budget else "")


def mode_words(label: str, lang: str) -> str:
    if label == QLORA_LABEL:
        return t("mode_qlora", lang)
    if label == BF16_OFF_LABEL:
        return t("mode_plain_bf16", lang)
    return t("mode_plain_off" if label == PLAIN_OFF_LABEL else "mode_plain_nobackend", lang)


def progress_line(rep: runner.TrainingReport, lang: str) -> str:
    """The live status line: place in the queue, or step / loss / time with a bar."""
    if rep.ahead:
        return t("queued", lang, n=rep.ahead, n_word=plural(rep.ahead, "trainings", lang))
    p = rep.last
    if p is None:
        return t("starting", lang)
    text = t("progress", lang, step=p.step, total=p.total_steps, epoch=p.epoch,
             loss="…" if p.loss is None else f"{p.loss:.3f}",
             elapsed=fmt_seconds(p.elapsed_s, lang), eta=fmt_seconds(p.eta_s, lang))
    return f"<progress value='{p.step}' max='{max(p.total_steps, 1)}' style='width:100%'></progress>\n\n{text}"


def summary_md(rep: runner.TrainingReport, lang: str) -> str:
    res = rep.result
    text = t("done_md", lang, status=t(f"status_{res.status}", lang),
             elapsed=fmt_seconds(res.elapsed_s, lang), steps=res.steps,
             steps_word=plural(res.steps, "steps", lang), n=rep.n_texts,
             n_word=plural(rep.n_texts, "texts", lang),
             mode=mode_words(res.mode_label, lang) if res.mode_label else "-",
             saved="✅" if res.adapter_saved else "❌")
    if res.info.get("ranking_weight_used"):
        share = res.info.get("template_sibling_share") or 0.0
        text += t("done_ranking", lang, weight=f"{res.info['ranking_weight_used']:g}",
                  share=round(100 * share))
    if res.info.get("twin_positives_used"):
        n = int(res.info.get("titles_with_twin") or 0)
        text += t("done_twins", lang, n=n, n_word=plural(n, "titles_gen", lang),
                  total=rep.n_texts)
    if res.info.get("sibling_negatives_found") and res.info.get("template_negatives_used", 1) < 1:
        n = int(res.info["sibling_negatives_found"])
        text += t("done_siblings", lang, n=n, n_word=plural(n, "titles_gen", lang),
                  total=rep.n_texts)
    return text if res.adapter_saved else f"{text}  \n{t('nothing_saved', lang)}"


def run_metrics(rep: runner.TrainingReport) -> dict:
    res = rep.result
    return {"status": res.status, "steps": res.steps, "total_steps": res.total_steps,
            "n_texts": rep.n_texts, "mode": res.mode_label, "quantized": res.quantized,
            "elapsed_s": round(res.elapsed_s, 1),
            "first_loss": round(res.losses[0], 4) if res.losses else None,
            "last_loss": round(res.losses[-1], 4) if res.losses else None,
            **{k: res.info[k] for k in ("template_sibling_share", "ranking_weight_used",
                                        "template_negatives_used", "twin_positives_used",
                                        "titles_with_twin", "sibling_negatives_used",
                                        "sibling_negatives_found")
               if k in res.info}}
