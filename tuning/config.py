"""One validated training configuration for QLoRA + TSDAE.

Every knob the UI, the CLI and the tests can turn lives in `TrainConfig`, with its help
text in the field metadata (as peft's `LoraConfig` does), so the CLI parser and the UI
labels are generated from one place and cannot drift apart. `__post_init__` rejects bad
values with a `ValueError` that names the field, because the UI shows the message as is.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

DEFAULT_TARGETS: tuple[str, ...] = ("query", "key", "value", "dense")
POOLINGS = ("mean", "cls")
DECODER_VOCABS = ("corpus", "full")
OBJECTIVES = ("contrastive", "tsdae", "tsdae+contrastive")


@dataclass
class TrainConfig:
    """Hyper-parameters of one (Q)LoRA training run (contrastive and/or TSDAE objective)."""

    objective: str = field(
        default="contrastive",
        metadata={"help": "Training objective: 'contrastive' (views + mined hard negatives; "
                          "measured best for matching), 'tsdae' (the source report's denoising "
                          "auto-encoder) or 'tsdae+contrastive' (weighted sum)."})

    r: int = field(default=8, metadata={"help": "LoRA rank: width of the low-rank update."})
    lora_alpha: float = field(
        default=16.0, metadata={"help": "LoRA scaling numerator; the update is scaled by alpha / r."})
    lora_dropout: float = field(
        default=0.0, metadata={"help": "Dropout on the LoRA input, 0 <= p < 1 (0 is ~25% faster on CPU)."})
    target_modules: list[str] = field(
        default_factory=lambda: list(DEFAULT_TARGETS),
        metadata={"help": "Module names that get LoRA (comma-separated on the CLI)."})
    learning_rate: float = field(
        default=3e-4, metadata={"help": "AdamW learning rate for LoRA and the decoder's cross-attention."})
    epochs: int | None = field(
        default=None, metadata={"help": "Passes over the corpus; empty = chosen from the corpus "
                                        "size (enough passes for `auto_steps` steps)."})
    auto_steps: int = field(
        default=300, metadata={"help": "With epochs empty: aim for at least this many steps "
                                       "(a small catalog gets more passes; the time budget still applies)."})
    batch_size: int = field(default=32, metadata={"help": "Texts per optimisation step."})
    max_length: int = field(
        default=32, metadata={"help": "Tokens kept per text (longer texts are truncated)."})
    contrastive_weight: float = field(
        default=1.0, metadata={"help": "Weight of the contrastive loss in 'tsdae+contrastive'."})
    tsdae_weight: float = field(
        default=1.0, metadata={"help": "Weight of the TSDAE loss in 'tsdae+contrastive'."})
    anchor_weight: float = field(
        default=0.0, metadata={"help": "Keep tuned vectors of clean titles near the base: weight "
                                       "of mean(1 - cos(tuned, base)); 0 = off."})
    hard_negatives: bool = field(
        default=True, metadata={"help": "Contrastive: add each title's mined hard negative "
                                        "(nearest title whose numbers/model words differ)."})
    temperature: float = field(
        default=0.05, metadata={"help": "Contrastive softmax temperature (scale = 1 / temperature)."})
    deletion_ratio: float = field(
        default=0.6, metadata={"help": "TSDAE noise: share of words deleted (0.6 in the TSDAE paper)."})
    pooling: str = field(
        default="mean", metadata={"help": "Sentence vector from token states: 'mean' (e5) or 'cls'."})
    prefix: str = field(
        default="query: ", metadata={"help": "Text prepended before encoding (e5 expects 'query: ')."})
    use_4bit: bool = field(
        default=True, metadata={"help": "Load the frozen base in 4-bit NF4 (QLoRA) when a backend works."})
    seed: int = field(default=42, metadata={"help": "Random seed for noise, shuffling and LoRA init."})
    time_budget_s: float | None = field(
        default=None, metadata={"help": "Stop (and save) after this many seconds; empty = no limit."})
    max_steps: int | None = field(
        default=None, metadata={"help": "Stop after this many optimisation steps; empty = all epochs."})
    decoder_vocab: str = field(
        default="corpus",
        metadata={"help": "Decoder output layer: 'corpus' (token ids seen in the corpus) or 'full'."})
    checkpoint_every: int = field(
        default=0, metadata={"help": "Save the adapter every N steps while training (0 = only at the end)."})
    warmup_ratio: float = field(
        default=0.05, metadata={"help": "Share of steps with a linear learning-rate warm-up."})

    def __post_init__(self) -> None:
        if isinstance(self.target_modules, str):
            self.target_modules = [t.strip() for t in self.target_modules.split(",") if t.strip()]
        checks: list[tuple[str, bool, str]] = [
            ("r", isinstance(self.r, int) and not isinstance(self.r, bool) and 1 <= self.r <= 512,
             "must be an integer in 1..512"),
            ("lora_alpha", 0 < self.lora_alpha < math.inf, "must be a finite number > 0"),
            ("lora_dropout", 0 <= self.lora_dropout < 1, "must be in [0, 1)"),
            ("target_modules", bool(self.target_modules) and all(
                isinstance(t, str) and t.isidentifier() for t in self.target_modules),
             "must be a non-empty list of module names"),
            ("learning_rate", 0 < self.learning_rate <= 1, "must be in (0, 1]"),
            ("objective", self.objective in OBJECTIVES, f"must be one of {OBJECTIVES}"),
            ("epochs", self.epochs is None or (isinstance(self.epochs, int)
                                               and not isinstance(self.epochs, bool)
                                               and 1 <= self.epochs <= 1000),
             "must be in 1..1000 or empty"),
            ("auto_steps", isinstance(self.auto_steps, int) and not isinstance(self.auto_steps, bool)
             and 1 <= self.auto_steps <= 100_000, "must be in 1..100000"),
            ("contrastive_weight", 0 <= self.contrastive_weight < math.inf, "must be a finite number >= 0"),
            ("tsdae_weight", 0 <= self.tsdae_weight < math.inf, "must be a finite number >= 0"),
            ("anchor_weight", 0 <= self.anchor_weight < math.inf, "must be a finite number >= 0"),
            ("temperature", 0.001 <= self.temperature <= 10, "must be in [0.001, 10]"),
            ("batch_size", isinstance(self.batch_size, int) and 1 <= self.batch_size <= 4096,
             "must be in 1..4096"),
            ("max_length", isinstance(self.max_length, int) and 4 <= self.max_length <= 512,
             "must be in 4..512"),
            ("deletion_ratio", 0 <= self.deletion_ratio < 1, "must be in [0, 1)"),
            ("pooling", self.pooling in POOLINGS, f"must be one of {POOLINGS}"),
            ("prefix", isinstance(self.prefix, str) and len(self.prefix) <= 64,
             "must be a string of at most 64 characters"),
            ("seed", isinstance(self.seed, int) and self.seed >= 0, "must be an integer >= 0"),
            ("time_budget_s", self.time_budget_s is None or self.time_budget_s > 0,
             "must be > 0 or empty"),
            ("max_steps", self.max_steps is None or (isinstance(self.max_steps, int) and self.max_steps >= 1),
             "must be an integer >= 1 or empty"),
            ("decoder_vocab", self.decoder_vocab in DECODER_VOCABS, f"must be one of {DECODER_VOCABS}"),
            ("checkpoint_every", isinstance(self.checkpoint_every, int) and self.checkpoint_every >= 0,
             "must be an integer >= 0"),
            ("warmup_ratio", 0 <= self.warmup_ratio < 1, "must be in [0, 1)"),
        ]
        for name, ok, why in checks:
            if not ok:
                raise ValueError(f"{name} {why} (got {getattr(self, name)!r})")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Build from UI/CLI values, tolerating strings ('16', 'true', '', 'a, b').

        Unknown keys are an error (a typo must not be silently ignored).
        """
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"{unknown[0]} is not a training setting (known: {', '.join(known)})")
        defaults = cls()
        kwargs: dict[str, Any] = {}
        for name, raw in values.items():
            kwargs[name] = _coerce(name, raw, getattr(defaults, name), known[name].type)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (used in training_log.json and the model card)."""
        return asdict(self)


def _coerce(name: str, raw: Any, default: Any, type_hint: Any) -> Any:
    """Turn a UI string into the field's type; ValueError names the field."""
    optional = "None" in str(type_hint)
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "" or raw.lower() == "none":
            if optional:
                return None
            if name == "prefix":
                return ""
            raise ValueError(f"{name} must not be empty")
    if raw is None:
        if optional:
            return None
        raise ValueError(f"{name} must not be empty")
    kind = "int" if "int" in str(type_hint) else "float" if "float" in str(type_hint) else None
    try:
        if isinstance(default, bool) or str(type_hint) == "bool":
            if isinstance(raw, str):
                low = raw.lower()
                if low not in {"true", "false", "1", "0", "yes", "no", "on", "off"}:
                    raise ValueError
                return low in {"true", "1", "yes", "on"}
            return bool(raw)
        if name == "target_modules":
            return raw if not isinstance(raw, (tuple, set)) else list(raw)
        if kind == "int":
            as_float = float(raw)
            if not as_float.is_integer():
                raise ValueError
            return int(as_float)
        if kind == "float":
            return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a {kind or 'true/false'} value (got {raw!r})") from None
    return raw


PRESETS: dict[str, dict[str, Any]] = {
    "seed kit (r16 / α32 / dropout 0.1)": {
        "r": 16, "lora_alpha": 32.0, "lora_dropout": 0.1, "learning_rate": 2e-4, "epochs": 1,
        "batch_size": 16, "max_length": 64,
    },
    "fast CPU (r8 / α16, 1 epoch, len 32)": {
        "r": 8, "lora_alpha": 16.0, "lora_dropout": 0.05, "learning_rate": 5e-4, "epochs": 1,
        "batch_size": 16, "max_length": 32, "use_4bit": False, "time_budget_s": 600.0,
    },
    "QLoRA 4-bit (r8 / α16)": {
        "r": 8, "lora_alpha": 16.0, "lora_dropout": 0.05, "learning_rate": 3e-4, "epochs": 1,
        "batch_size": 16, "max_length": 32, "use_4bit": True,
    },
}
