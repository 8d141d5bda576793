"""Train the explorer's demo LoRA: Gemma 3 270M (offline, from PyPI) on cartoon Q&A.

Why this exists: the explorer needs an adapter with a visible effect on the offline
model ("Кто такой Чебурашка?" — the base model says "an ancient animal"). Unlike the
seed experiment, the loss counts ONLY the answer tokens: prompt and padding are masked
with -100, so the adapter learns to answer, not to reproduce questions. Prompts use the
explorer's own "Вопрос: …\nОтвет:" format (`comparison.explorer.inputs.format_prompt`).

    python examples/train_lm_demo.py --out examples/adapters/lm-cartoons-demo
"""
from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from comparison.explorer.inputs import format_prompt
from comparison.explorer.loading import load_model, offline_gemma

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / "cartoon_qa.jsonl"
FALLBACK_DATA = HERE / "adapters" / "lm-cartoons-demo" / "data.jsonl"


@dataclass
class DemoTrainConfig:
    """Hyper-parameters of the demo run (small: a few minutes on 2 CPU cores)."""

    data: Path
    out: Path
    r: int = 8
    alpha: int = 16
    epochs: int = 6
    batch_size: int = 8
    lr: float = 2e-3
    max_seconds: float = 600.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not Path(self.data).is_file():
            raise ValueError(f"data: {self.data} does not exist")
        if self.r <= 0 or self.alpha <= 0:
            raise ValueError("r: rank and alpha must be positive")
        if self.epochs <= 0 or self.batch_size <= 0:
            raise ValueError("epochs: epochs and batch_size must be positive")
        if not 0 < self.lr < 1:
            raise ValueError("lr: must be in (0, 1)")


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """(question, answer) pairs from a jsonl file with "question" and "answer" fields."""
    pairs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            pairs.append((str(row["question"]), str(row["answer"])))
    if not pairs:
        raise ValueError(f"data: {path} holds no question/answer lines")
    return pairs


def encode_pair(tokenizer, question: str, answer: str) -> tuple[list[int], list[int]]:
    """Token ids and labels; labels are -100 on the prompt so only the answer is learned."""
    prompt_ids = tokenizer(format_prompt(tokenizer, question, "qa"))["input_ids"]
    answer_ids = tokenizer(" " + answer.strip(), add_special_tokens=False)["input_ids"]
    answer_ids = answer_ids + [tokenizer.eos_token_id]
    return prompt_ids + answer_ids, [-100] * len(prompt_ids) + answer_ids


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


def train(cfg: DemoTrainConfig) -> dict:
    """Run the training and save the adapter (safetensors) plus a model card."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    loaded = load_model(offline_gemma(), device="cpu")
    tok = loaded.tokenizer
    model = get_peft_model(loaded.model, LoraConfig(
        r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=0.0,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))
    model.train()
    examples = [encode_pair(tok, q, a) for q, a in read_pairs(cfg.data)]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    start, losses, step = time.perf_counter(), [], 0
    for epoch in range(cfg.epochs):
        random.shuffle(examples)
        for i in range(0, len(examples), cfg.batch_size):
            batch = collate(examples[i : i + cfg.batch_size], tok.pad_token_id)
            loss = model(**batch).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses.append(float(loss))
            step += 1
            print(f"epoch {epoch} step {step} loss {losses[-1]:.4f} "
                  f"{time.perf_counter() - start:.0f}s", flush=True)
        if time.perf_counter() - start > cfg.max_seconds:
            break
    model.peft_config["default"].base_model_name_or_path = "google/gemma-3-270m"
    model.save_pretrained(cfg.out, safe_serialization=True)
    return {"steps": step, "first_loss": losses[0], "last_loss": losses[-1],
            "seconds": round(time.perf_counter() - start, 1), "examples": len(examples)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=DEFAULT_DATA if DEFAULT_DATA.is_file() else FALLBACK_DATA)
    parser.add_argument("--out", type=Path, default=HERE / "adapters" / "lm-cartoons-demo")
    for name, kind in (("r", int), ("alpha", int), ("epochs", int), ("batch-size", int),
                       ("lr", float), ("max-seconds", float), ("seed", int)):
        parser.add_argument(f"--{name}", type=kind, default=getattr(DemoTrainConfig, name.replace("-", "_")))
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    summary = train(DemoTrainConfig(**{k: v for k, v in vars(args).items()}))
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
