"""One validated training configuration for (Q)LoRA with a contrastive and/or TSDAE objective.

Every knob the UI, the CLI and the tests can turn lives in `TrainConfig`, with its help
text and its bounds in the field metadata (as peft's `LoraConfig` does), so the CLI parser
(`tuning/cli.py`) and the UI form are generated from one place and cannot drift apart.
Checks are driven by the real type hints (`typing.get_type_hints`: `Literal` choices,
`int | None`, `bool`…), never by sniffing type names from strings: a bool is not an int,
a string is not a number, and every refusal is a `ValueError` that names the field,
because the UI shows it as is. Only `from_dict` / `from_ui` / the CLI turn text into values.
"""
from __future__ import annotations

import math
import types
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

DEFAULT_TARGETS: tuple[str, ...] = ("query", "key", "value", "dense")
Pooling = Literal["mean", "cls"]
DecoderVocab = Literal["corpus", "full"]
Objective = Literal["contrastive", "tsdae", "tsdae+contrastive"]
Precision = Literal["auto", "bf16", "fp32"]
POOLINGS: tuple[str, ...] = get_args(Pooling)
DECODER_VOCABS: tuple[str, ...] = get_args(DecoderVocab)
OBJECTIVES: tuple[str, ...] = get_args(Objective)
TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _f(default: Any = None, help: str = "", factory: Any = None, **bounds: Any) -> Any:
    """A field with help text and bounds (ge / gt / le / lt / max_len) as metadata."""
    meta = {"help": help, **bounds}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """Hyper-parameters of one (Q)LoRA training run (contrastive and/or TSDAE objective)."""

    objective: Objective = _f(
        "contrastive", "Training objective: 'contrastive' (views + mined hard negatives; measured "
                       "best for matching), 'tsdae' (the source report's denoising auto-encoder) "
                       "or 'tsdae+contrastive' (weighted sum).")

    r: int = _f(8, "LoRA rank: width of the low-rank update.", ge=1, le=512)
    lora_alpha: float = _f(16.0, "LoRA scaling numerator; the update is scaled by alpha / r.", gt=0)
    lora_dropout: float = _f(0.0, "Dropout on the LoRA input, 0 <= p < 1 (0 is ~25% faster on CPU).",
                             ge=0, lt=1)
    target_modules: list[str] = _f(help="Module names that get LoRA (comma-separated on the CLI).",
                                   factory=lambda: list(DEFAULT_TARGETS))
    learning_rate: float = _f(5e-4, "AdamW learning rate for LoRA and the decoder's cross-attention.",
                              gt=0, le=1)
    epochs: int | None = _f(None, "Passes over the corpus; empty = chosen from the corpus size "
                                  "(`auto_steps` steps in all).", ge=1, le=1000)
    auto_steps: int = _f(60, "With epochs empty: train this many steps (a small catalog gets "
                             "more passes, a large one part of a pass; 60 keeps the default run "
                             "on 3,360 titles within 2 minutes on 2 cores).",
                         ge=1, le=100_000)
    variant_steps: int = _f(100, "With epochs empty, on a catalog of one-template variants (the "
                                 "rule of ranking_weight; contrastive objectives): train this many "
                                 "steps instead of auto_steps. Its sibling negatives, twins and "
                                 "ranking term keep gaining past 60 steps, and a small catalog "
                                 "spends almost nothing on mining (examples/adapters/README.md).",
                            ge=1, le=100_000)
    batch_size: int = _f(32, "Texts per optimisation step.", ge=1, le=4096)
    max_length: int = _f(32, "Tokens kept per text (longer texts are truncated).", ge=4, le=512)
    contrastive_weight: float = _f(1.0, "Weight of the contrastive loss in 'tsdae+contrastive'.",
                                   ge=0)
    tsdae_weight: float = _f(1.0, "Weight of the TSDAE loss in 'tsdae+contrastive'.", ge=0)
    anchor_weight: float = _f(0.1, "Keep tuned vectors of clean titles near the base: weight of "
                                   "mean(1 - cos(tuned, base)); 0 = off.", ge=0)
    hard_negatives: bool = _f(True, "Contrastive: add each title's mined hard negative (the nearest "
                                    "title whose numbers or model words differ).")
    template_negatives: float | None = _f(
        None, "Contrastive: share of hard negatives made from the title itself, with exactly one "
              "attribute changed (an amount, a model-code digit or letter, a letter size or "
              "grade, a variant word: tuning/variants.py); the rest are mined corpus neighbours. "
              "Empty = auto: 0 for a catalog of one-template variants (its own siblings, mined, "
              "beat made-up ones there: examples/adapters/README.md), else 1; 0 = mined only.",
        ge=0, le=1)
    sibling_negatives: bool | None = _f(
        None, "Contrastive: a mined hard negative may also be the title's template sibling (the "
              "same words around one short slot that differs: '… апельсиновый 1 л' / '… яблочный "
              "1 л', tuning/siblings.py), not only a title whose numbers or model words conflict. "
              "Empty = auto: on for a catalog of one-template variants (the rule of "
              "ranking_weight; +0.08 to +0.13 Recall@1 there), off for many sellers' wordings "
              "(there a one-slot difference is mostly a seller's filler word: "
              "examples/adapters/README.md).")
    ranking_weight: float | None = _f(
        None, "Contrastive: weight of a batch-wide ranking term (sentence-transformers CoSENT): every "
              "title's two views must score above every title-and-its-hard-negative pair. It gains "
              "on catalogs that list variants in one seller template and costs ~0.03 Recall@1 on "
              "many sellers' wordings (examples/adapters/README.md); empty = auto: 1 when a "
              "quarter of the titles have a one-word sibling (tuning/variants.py), else 0; "
              "0 = off.", ge=0, le=10)
    twin_positives: float | None = _f(
        None, "Contrastive: share of second views taken from the title's catalog twin (the same "
              "product as another seller wrote it, found by tuning/twins.py) instead of a rewrite "
              "of the title itself. Empty = auto: 1 for a catalog of one-template variants (the "
              "rule of ranking_weight), else 0 (on many sellers' wordings it cost up to 0.018 "
              "of Recall@1: examples/adapters/README.md); 0 = rewrites only.", ge=0, le=1)
    negatives_as_rows: bool = _f(True, "Contrastive: put each title's hard negative in the batch as a "
                                        "row of its own (clean vs augmented views, symmetric loss; "
                                        "2 encodes per row instead of 3).")
    group_by_length: bool = _f(True, "Contrastive: batch titles of similar length together (random "
                                     "batches of e5 product titles are padded to 1.5x their real tokens).")
    temperature: float = _f(0.1, "Contrastive softmax temperature (scale = 1 / temperature); 0.1 "
                                 "beat 0.05 and 0.2 on both dev sets (examples/adapters/README.md).",
                            ge=0.001, le=10)
    deletion_ratio: float = _f(0.6, "TSDAE noise: share of words deleted (0.6 in the TSDAE paper).",
                               ge=0, lt=1)
    pooling: Pooling = _f("mean", "Sentence vector from token states: 'mean' (e5) or 'cls'.")
    prefix: str = _f("query: ", "Text prepended before encoding (e5 expects 'query: ').", max_len=64)
    use_4bit: bool = _f(False, "Load the frozen base in 4-bit NF4 (QLoRA) when a backend works. Off by "
                               "default: on CPU NF4 matmuls are slower and save ~60 MB of e5-small's "
                               "~470 MB (its 250k-token embedding stays fp32); on a GPU turn it on.")
    precision: Precision = _f(
        "auto", "Matmul precision of the plain-LoRA run: 'bf16' autocast (LoRA weights and the "
                "optimiser stay fp32), 'fp32', or 'auto' = bf16 where the CPU/GPU has native bf16 "
                "(AVX512-BF16/AMX: measured 1.6x faster per step here), else fp32. 4-bit runs use fp32.")
    seed: int = _f(42, "Random seed for noise, shuffling and LoRA init.", ge=0)
    time_budget_s: float | None = _f(None, "Stop (and save) after this many seconds; empty = no limit.",
                                     gt=0)
    max_steps: int | None = _f(None, "Stop after this many optimisation steps; empty = all epochs.",
                               ge=1)
    decoder_vocab: DecoderVocab = _f(
        "corpus", "Decoder output layer: 'corpus' (token ids seen in the corpus) or 'full'.")
    checkpoint_every: int = _f(0, "Save the adapter every N steps while training (0 = only at the end).",
                               ge=0)
    warmup_ratio: float = _f(0.05, "Share of steps with a linear learning-rate warm-up.", ge=0, lt=1)

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, check_value(f.name, getattr(self, f.name)))
        bad = [t for t in self.target_modules if not t.isidentifier()]
        if not self.target_modules or bad:
            raise ValueError(f"target_modules must be a non-empty list of module names "
                             f"(got {self.target_modules!r})")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Build from UI/CLI values, parsing strings by each field's type ('16', 'true', '', 'a, b').

        Unknown keys are an error (a typo must not be silently ignored).
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{unknown[0]} is not a training setting (known: {', '.join(sorted(known))})")
        return cls(**{name: parse_value(name, raw) for name, raw in values.items()})

    @classmethod
    def from_ui(cls, values: dict[str, Any]) -> "TrainConfig":
        """From the form: a number box cannot be empty, so 0 means "no limit" where allowed."""
        cleaned = {k: (None if k in NO_LIMIT_ZERO and v in (0, 0.0) else v)
                   for k, v in values.items() if v is not None or k in NO_LIMIT_ZERO}
        return cls.from_dict({k: _integral(k, v) for k, v in cleaned.items()})

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (used in training_log.json and the model card)."""
        return asdict(self)


@lru_cache(maxsize=1)
def field_types() -> dict[str, Any]:
    """Each field's resolved type hint (the annotations are strings under __future__)."""
    return get_type_hints(TrainConfig, include_extras=False)


def _split_optional(hint: Any) -> tuple[Any, bool]:
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        return args[0], len(args) < len(get_args(hint))
    return hint, False


def _bounds(name: str, value: float) -> None:
    meta = next(f.metadata for f in fields(TrainConfig) if f.name == name)
    lo, hi = meta.get("ge", meta.get("gt")), meta.get("le", meta.get("lt"))
    inside = ((value >= meta["ge"] if "ge" in meta else value > meta["gt"])
              and (value <= meta["le"] if "le" in meta else value < meta["lt"])) if (
        lo is not None and hi is not None) else True
    if not inside and isinstance(value, int):
        raise ValueError(f"{name} must be an integer in {lo}..{hi} (got {value!r})")
    if not inside:
        left, right = "[" if "ge" in meta else "(", "]" if "le" in meta else ")"
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right} (got {value!r})")
    checks = [("ge", value >= meta.get("ge", -math.inf), ">="), ("gt", value > meta.get("gt", -math.inf), ">"),
              ("le", value <= meta.get("le", math.inf), "<="), ("lt", value < meta.get("lt", math.inf), "<")]
    for key, ok, sign in checks:
        if key in meta and not ok:
            raise ValueError(f"{name} must be {sign} {meta[key]} (got {value!r})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number (got {value!r})")


def check_value(name: str, value: Any) -> Any:
    """`value` checked against the field's type and bounds (ints become floats for floats)."""
    hint, optional = _split_optional(field_types()[name])
    if value is None:
        if optional:
            return None
        raise ValueError(f"{name} must not be empty")
    if get_origin(hint) is Literal:
        if value not in get_args(hint):
            raise ValueError(f"{name} must be one of {get_args(hint)} (got {value!r})")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false (got {value!r})")
        return value
    if hint in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                hint is int and not isinstance(value, int)):
            raise ValueError(f"{name} must be {'an integer' if hint is int else 'a number'} (got {value!r})")
        value = float(value) if hint is float else value
        _bounds(name, value)
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be text (got {value!r})")
        limit = next(f.metadata for f in fields(TrainConfig) if f.name == name).get("max_len")
        if limit is not None and len(value) > limit:
            raise ValueError(f"{name} must be at most {limit} characters")
        return value
    if get_origin(hint) is list:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of names (got {value!r})")
        return list(value)
    raise TypeError(f"{name}: no check for type {hint!r}")  # a new field type needs a rule here


def parse_value(name: str, raw: Any) -> Any:
    """Text from a form or a command line turned into the field's type; other values as is."""
    if name not in field_types():
        raise ValueError(f"{name} is not a training setting")
    if not isinstance(raw, str):
        return raw
    hint, optional = _split_optional(field_types()[name])
    text = raw.strip()
    if text == "" or text.lower() in ("none", "auto"):
        if optional:
            return None
        if hint is str:
            return ""
        raise ValueError(f"{name} must not be empty")
    try:
        if hint is bool:
            if text.lower() not in TRUE | FALSE:
                raise ValueError
            return text.lower() in TRUE
        if hint is int:
            number = float(text)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if hint is float:
            return float(text)
    except ValueError:
        kind = {bool: "true/false", int: "an integer", float: "a number"}[hint]
        raise ValueError(f"{name} must be {kind} value (got {raw!r})") from None
    return raw if hint is not str else raw


def _integral(name: str, value: Any) -> Any:
    """A form's 8.0 for an integer setting is 8; 8.5 stays and is refused by the check."""
    hint, _ = _split_optional(field_types()[name])
    if hint is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The settings the UI form shows, in order; a number box cannot be empty: 0 = no limit (or,
# for epochs, "auto"). New fields go at the END: /train takes them positionally.
UI_FIELDS: tuple[str, ...] = ("r", "lora_alpha", "lora_dropout", "learning_rate", "epochs",
                              "batch_size", "max_length", "deletion_ratio", "use_4bit",
                              "time_budget_s", "max_steps", "seed",
                              "objective", "anchor_weight", "hard_negatives", "ranking_weight")
NO_LIMIT_ZERO: tuple[str, ...] = ("max_steps", "time_budget_s", "epochs")
# Settings the form offers as a list (typing another number is allowed), because their empty
# value means "automatic" and a number box cannot be empty: a rendered box sends 0.
CHOICE_FIELDS: dict[str, tuple[str, ...]] = {"ranking_weight": ("auto", "0", "1")}

PRESETS: dict[str, dict[str, Any]] = {
    # The defaults exactly (contrastive, plain LoRA): the in-app default run is the CLI's.
    "matching": {},
    "qlora_4bit": {"use_4bit": True},
    # A catalog that lists a product's variants (size, volume, grade) in one seller template:
    # the ranking term gains there and costs ~0.03 Recall@1 on cross-seller wordings
    # (examples/adapters/README.md). The default decides from the catalog; this forces it on.
    "variants": {"ranking_weight": 1.0},
    # The source report's method (seed 000): TSDAE, r16 / alpha 32 / dropout 0.1, 1 epoch.
    "report_tsdae": {
        "objective": "tsdae", "r": 16, "lora_alpha": 32.0, "lora_dropout": 0.1,
        "learning_rate": 2e-4, "epochs": 1, "batch_size": 16, "max_length": 64,
    },
}


def ui_defaults(preset: str) -> dict[str, Any]:
    """The form's values for a preset (unknown names: the plain defaults); None shown as 0."""
    return form_values(TrainConfig.from_dict(PRESETS.get(preset, {})))


def form_values(cfg: TrainConfig) -> dict[str, Any]:
    """`cfg` as the form shows it: a limit's None as 0 (no limit); a listed setting as its
    choice ("auto" for None, "1" for 1.0); other Nones stay."""
    out = {}
    for name in UI_FIELDS:
        value = getattr(cfg, name)
        if value is None and name in NO_LIMIT_ZERO:
            hint, _ = _split_optional(field_types()[name])
            value = hint(0)
        elif name in CHOICE_FIELDS:
            value = "auto" if value is None else f"{value:g}"
        out[name] = value
    return out
