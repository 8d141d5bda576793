"""LoRA explorer on a tiny random Qwen2.5-VL: image tokens, patch grid, base == LoRA at B = 0."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from peft import LoraConfig
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (AutoModelForImageTextToText, PreTrainedTokenizerFast, Qwen2_5_VLConfig,
                          Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessorPil)

from tests.lora_helpers import save_lora
from comparison.explorer import Explorer
from comparison.explorer.adapter_io import adapter_folder, attach_adapter
from comparison.explorer.loading import ModelSource, is_vision_language, load_model
from comparison.explorer.metrics import attention_row, image_map

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
           "<|image_pad|>", "<|video_pad|>"]
WORDS = "user assistant Кто это ? Чебурашка Гена персонаж \n".split(" ")
TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_vlm(folder: Path) -> Path:
    """Random 2-layer Qwen2.5-VL with a word-level tokenizer that knows the vision tokens."""
    torch.manual_seed(0)
    vocab = {t: i for i, t in enumerate([*SPECIAL, "<unk>", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(pattern=" ", behavior="removed")
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<|endoftext|>",
                                   eos_token="<|im_end|>", additional_special_tokens=SPECIAL[1:])
    fast.add_special_tokens({"additional_special_tokens": SPECIAL[1:]})
    fast.chat_template = TEMPLATE
    image_proc = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=56 * 112, patch_size=14,
                                          merge_size=2, temporal_patch_size=2)
    config = Qwen2_5_VLConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                         rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}),
        vision_config=dict(depth=1, hidden_size=16, intermediate_size=32, num_heads=2, out_hidden_size=32,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=56,
                           fullatt_block_indexes=[0]),
        image_token_id=vocab["<|image_pad|>"], video_token_id=vocab["<|video_pad|>"],
        vision_start_token_id=vocab["<|vision_start|>"], vision_end_token_id=vocab["<|vision_end|>"],
    )
    Qwen2_5_VLForConditionalGeneration(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    image_proc.save_pretrained(folder)
    return folder


def build_vlm_adapter(model_dir: Path, out: Path, zero_b: bool) -> Path:
    torch.manual_seed(1)
    model = AutoModelForImageTextToText.from_pretrained(model_dir)
    return save_lora(model, LoraConfig(
        r=2, lora_alpha=4, target_modules=r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj)"),
        out, zero_b=zero_b)


@pytest.fixture(scope="module")
def vlm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_vlm(tmp_path_factory.mktemp("vlm"))


def vlm_explorer(model_dir: Path, adapter: Path) -> Explorer:
    loaded = load_model(ModelSource(path=str(model_dir), kind="local", label="tiny vlm"), device="cpu")
    loaded.model = attach_adapter(loaded.model, adapter_folder(adapter, model_dir / "work"))
    return Explorer(loaded, adapter_label="test")


IMAGE = Image.fromarray(np.random.default_rng(0).integers(0, 255, (56, 112, 3), dtype=np.uint8))
PROMPT = "Кто это ?"


def test_image_tokens_fold_onto_patch_grid(vlm_dir: Path, tmp_path: Path) -> None:
    assert is_vision_language(str(vlm_dir))
    explorer = vlm_explorer(vlm_dir, build_vlm_adapter(vlm_dir, tmp_path / "a", zero_b=False))
    enc = explorer.encode(PROMPT, IMAGE)
    # 56 × 112 px → 4 × 8 patches of 14 px → merged 2 × 2 → 2 × 4 LLM tokens
    assert enc.image_grid == (2, 4) and len(enc.image_positions) == 8
    result = explorer.explore(PROMPT, IMAGE, top_k=3)
    n_text = enc.length - 8
    assert result.attention_base.shape == (2, 2, n_text, enc.length)
    row = attention_row(result.attention_lora, layer=1, head=None, query_index=-1)
    grid = image_map(row, result.image_positions, result.image_grid)
    assert grid.shape == (2, 4) and (grid >= 0).all() and grid.sum() <= 1 + 1e-5
    assert result.kl > 0 and (result.layer_shift > 0).any()


def test_zero_b_vlm_adapter_is_exactly_base(vlm_dir: Path, tmp_path: Path) -> None:
    explorer = vlm_explorer(vlm_dir, build_vlm_adapter(vlm_dir, tmp_path / "z", zero_b=True))
    result = explorer.explore(PROMPT, IMAGE, top_k=3)
    assert result.kl == 0.0 and np.array_equal(result.attention_base, result.attention_lora)
    assert (result.top_k["delta"] == 0).all()
    answers = explorer.answers(PROMPT, IMAGE, max_new_tokens=3)
    assert answers["base"] == answers["lora"]
