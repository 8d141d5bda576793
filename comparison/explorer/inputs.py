"""Turn a question (and maybe an image) into model inputs, remembering what each token is.

Every view needs the same bookkeeping: the token strings for axis labels, which
positions are image patches, and the patch grid those positions fold back into. For
Qwen2.5-VL the vision tower cuts the image into 14-px patches (grid t × h × w in
`image_grid_thw`) and merges 2×2 of them into one LLM token, so the language model sees
t·(h/2)·(w/2) `<|image_pad|>` tokens laid out row-major over an (h/2) × (w/2) grid.
Text models are prompted as "Вопрос: …\nОтвет:" — the format the demo adapter is
trained on (`examples/train_lm_demo.py` uses this same function).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

PromptFormat = Literal["qa", "chat", "raw", "fewshot"]
QA_TEMPLATE = "Вопрос: {question}\nОтвет:"
# "fewshot": two solved examples before the question. A base LM (not instruction-tuned) given
# a bare "Вопрос: …\nОтвет:" tends to continue with an essay or another question; with two
# short solved examples it answers in one short line what it knows — so the evaluation can
# give the base, and controls, a real starting score. The examples' facts are not asked.
FEWSHOT_PREFIX = ("Вопрос: Какая планета самая большая в Солнечной системе?\nОтвет: Юпитер\n"
                  "Вопрос: Сколько ног у паука?\nОтвет: Восемь\n")
# The UI box stops at 2000 characters, but /next_token and /explore take any string; a 100k
# prompt would make every pass (and the captured attention, quadratic in length) a DoS.
MAX_PROMPT_CHARS = 2000


def check_prompt(question: str) -> str:
    """`question` if it is non-empty text of at most MAX_PROMPT_CHARS, else ValueError."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError("prompt: must not be empty")
    if len(question) > MAX_PROMPT_CHARS:
        raise ValueError(f"prompt: at most {MAX_PROMPT_CHARS} characters, got {len(question)}")
    return question


@dataclass
class Encoded:
    """Model inputs plus the facts the charts need about each position."""

    inputs: dict[str, torch.Tensor]
    tokens: list[str]
    image_positions: list[int]
    image_grid: tuple[int, int] | None

    def __post_init__(self) -> None:
        if "input_ids" not in self.inputs:
            raise ValueError("inputs: must contain input_ids")
        if len(self.tokens) != self.inputs["input_ids"].shape[1]:
            raise ValueError("tokens: one label per input position is required")

    @property
    def length(self) -> int:
        return len(self.tokens)

    @property
    def text_positions(self) -> list[int]:
        image = set(self.image_positions)
        return [i for i in range(self.length) if i not in image]


def format_prompt(tokenizer: Any, question: str, fmt: PromptFormat = "qa") -> str:
    """The text fed to a text LM for `question` (see module docstring for why "qa")."""
    if fmt == "raw":
        return question
    if fmt == "chat":
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError("prompt format: this tokenizer has no chat template, use 'qa' or 'raw'")
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": question}], add_generation_prompt=True, tokenize=False)
    if fmt == "qa":
        return QA_TEMPLATE.format(question=question.strip())
    if fmt == "fewshot":
        return FEWSHOT_PREFIX + QA_TEMPLATE.format(question=question.strip())
    raise ValueError(f"prompt format: must be qa, chat, raw or fewshot, not {fmt!r}")


def token_labels(tokenizer: Any, ids: list[int]) -> list[str]:
    """Readable token strings (byte-level pieces decoded one by one)."""
    return [tokenizer.decode([i]) for i in ids]


def encode_text(tokenizer: Any, question: str, fmt: PromptFormat = "qa",
                device: Any = "cpu") -> Encoded:
    """Inputs for a text LM (BOS added by the tokenizer, as in training)."""
    check_prompt(question)
    text = format_prompt(tokenizer, question, fmt)
    special = fmt != "chat"  # a chat template already carries BOS
    batch = tokenizer(text, return_tensors="pt", add_special_tokens=special)
    ids = batch["input_ids"][0].tolist()
    inputs = {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}
    return Encoded(inputs=inputs, tokens=token_labels(tokenizer, ids), image_positions=[],
                   image_grid=None)


def image_grid(grid_thw: torch.Tensor, merge: int) -> tuple[int, int]:
    """(rows, cols) of LLM image tokens for one image: patches merged merge × merge."""
    t, h, w = (int(x) for x in grid_thw[0])
    if t != 1:
        raise ValueError("image: video inputs are not supported, give one still image")
    return h // merge, w // merge


@dataclass
class VisionTextProcessor:
    """Image processor + tokenizer + chat template of a Qwen2-VL-style model.

    Why not `AutoProcessor`: in transformers 5 the Qwen2.5-VL processor cannot be built
    without torchvision (its video processor needs it), and we only need still images.
    The one thing the processor adds — expanding each `<|image_pad|>` into one token per
    merged patch — is done in `encode_vlm`.
    """

    image_processor: Any
    tokenizer: Any
    chat_template: str

    def __post_init__(self) -> None:
        if not self.chat_template:
            raise ValueError("chat_template: a vision-language model needs its chat template")


def encode_vlm(processor: VisionTextProcessor, model_config: Any, question: str, image: Any | None,
               device: Any = "cpu") -> Encoded:
    """Inputs for a Qwen2-VL-style model: chat template, image patches, expanded pad tokens."""
    check_prompt(question)
    content: list[dict[str, str]] = [{"type": "image"}] if image is not None else []
    content.append({"type": "text", "text": question.strip()})
    tok = processor.tokenizer
    text = tok.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True,
                                   tokenize=False, chat_template=processor.chat_template)
    inputs: dict[str, torch.Tensor] = {}
    grid = None
    image_id = model_config.image_token_id
    pad = tok.convert_ids_to_tokens(image_id)
    if image is not None:
        merge = getattr(model_config.vision_config, "spatial_merge_size", 2)
        pixels = processor.image_processor(images=[image.convert("RGB") if hasattr(image, "convert") else image],
                                           return_tensors="pt")
        grid = image_grid(pixels["image_grid_thw"], merge)
        if text.count(pad) != 1:
            raise ValueError("prompt: the chat template must place exactly one image token")
        text = text.replace(pad, pad * (grid[0] * grid[1]))
        inputs.update({k: pixels[k] for k in ("pixel_values", "image_grid_thw")})
    batch = tok(text, return_tensors="pt", add_special_tokens=False)
    ids = batch["input_ids"][0].tolist()
    positions = [i for i, t in enumerate(ids) if t == image_id]
    if grid is not None and grid[0] * grid[1] != len(positions):
        raise ValueError("image: patch grid does not match the number of image tokens")
    inputs.update({"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]})
    inputs = {k: v.to(device) for k, v in inputs.items()}
    return Encoded(inputs=inputs, tokens=token_labels(tok, ids), image_positions=positions,
                   image_grid=grid)
