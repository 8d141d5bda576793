"""What every tab shares: the shared models, per-session folders, errors in the user's
language, progress callbacks and the label registry that re-renders on a language switch."""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import gradio as gr

from comparison.basics import LensError, Progress
from comparison.explorer.loading import ModelLoadError
from comparison.runtime import EncoderService, ExplorerService, SessionError, session_dir
from tuning.jobs import TrainingQueue
from ui.locales import localize_label, t

SESSIONS = Path(tempfile.gettempdir()) / "lora-lens-sessions"
PRIVATE = {"api_visibility": "private"}

encoders = EncoderService()
explorers = ExplorerService()
jobs = TrainingQueue(slots=1)


def session_of(request: gr.Request) -> str:
    return str(request.session_hash)


def user_dir(request: gr.Request, lang: str = "en") -> Path:
    """A private folder per browser session: files of one user are never served to another.

    The session hash is sent by the client, so a hand-made one ("../x") is refused here
    instead of becoming a path outside SESSIONS.
    """
    try:
        d = session_dir(SESSIONS, session_of(request))
    except SessionError as exc:
        raise user_error(exc, lang) from exc
    d.touch()  # keeps an active session's folder out of the sweep of abandoned ones
    return d


def message(exc: BaseException, lang: str, kind: str = "input") -> str:
    """A package exception in `lang`: its code's text when there is one, else a wrapper.

    Package messages are English already, so English (and the API) gets them unchanged.
    """
    if lang == "en":
        return str(exc)
    code = getattr(exc, "code", "")
    key = f"err_{code}"
    from ui.locales import TEXT

    if code and key in TEXT:
        try:
            params = {k: localize_label(v, lang) if isinstance(v, str) else v
                      for k, v in getattr(exc, "params", {}).items()}
            return t(key, lang, **params)
        except (KeyError, IndexError, ValueError):
            pass
    return t(f"err_{kind}", lang, detail=str(exc))


def user_error(exc: BaseException, lang: str, kind: str = "input") -> gr.Error:
    return gr.Error(message(exc, lang, kind))


def guarded(kind: str, lang: str, call: Callable[[], Any]) -> Any:
    """Run `call`; a package error (LensError/ValueError) becomes a localized gr.Error."""
    try:
        return call()
    except (LensError, ValueError, ModelLoadError) as exc:
        raise user_error(exc, lang, kind) from exc


def progress_cb(progress: gr.Progress | None, lang: str) -> Progress | None:
    """A package progress callback shown as the localized loading message."""
    if progress is None:
        return None
    return lambda frac, _msg: progress(frac, desc=t("loading_progress", lang))


def encoder(lang: str = "en", progress: gr.Progress | None = None):
    try:
        return encoders.get(progress_cb(progress, lang))
    except Exception as exc:  # a failed load must reach the user, not kill the worker
        raise user_error(exc, lang, "model_load") from exc


def adapter_choices(session: str, lang: str) -> list[tuple[str, str]]:
    """The adapter picker's options with their labels in the page's language (names unchanged).

    The service's labels are English ("example: …", "your upload: …"); the picker shows the
    chosen one, so a Russian page would read English there without this.
    """
    return [(localize_label(label, lang), name) for label, name in encoders.adapter_choices(session)]


def status_md(lang: str, session: str | None = None, picked: str | None = None) -> str:
    """The header: base model and the adapter this session is comparing with."""
    st = encoders.status(session, picked)
    adapter = t("lbl_none", lang) if st.adapter_label == "none" else localize_label(st.adapter_label, lang)
    return t("models", lang, base=localize_label(st.base_label, lang), adapter=adapter)


def fmt_seconds(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "…"
    seconds = int(seconds)
    if seconds >= 60:
        return t("time_min_s", lang, m=seconds // 60, s=seconds % 60)
    return t("time_s", lang, s=seconds)


class Labels:
    """Remembers which component shows which text, so the language switch can redo them all."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, str, str]] = []

    def __call__(self, component: Any, key: str, attr: str = "label") -> Any:
        self.items.append((component, key, attr))
        return component

    def choices(self, component: Any, prefix: str, values: Iterable[str]) -> Any:
        """A dropdown whose option words are `t(prefix + value)` (the values stay the same)."""
        self.items.append((component, (prefix, tuple(values)), "choices"))
        return component

    def components(self) -> list[Any]:
        return [c for c, _, _ in self.items]

    def updates(self, lang: str) -> list[Any]:
        return [gr.update(choices=[(t(key[0] + v, lang), v) for v in key[1]]) if attr == "choices"
                else gr.update(**{attr: t(key, lang)}) for _, key, attr in self.items]


def vlm_offer_md(lang: str) -> str:
    """The report's VLM as an option, with its memory need and time estimate ("" without a Hub)."""
    from comparison.defaults import vlm_offer

    offer = vlm_offer()
    if offer is None:
        return ""
    key = "exp_vlm_fits" if offer.fits else "exp_vlm_no_fit"
    return "  \n" + t(key, lang, model=offer.model, device=offer.device.upper(), dtype=offer.dtype,
                      need=offer.need_gb, have=offer.have_gb, load=fmt_seconds(offer.load_s, lang),
                      answer=fmt_seconds(offer.answer_s, lang))
