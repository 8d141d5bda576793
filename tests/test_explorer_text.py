"""LoRA explorer on a tiny random Gemma-3-shaped text LM: exactness, shapes, strictness."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from peft import LoraConfig
from peft.tuners.lora import LoraLayer
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import AutoModelForCausalLM, Gemma3ForCausalLM, Gemma3TextConfig, PreTrainedTokenizerFast

from tests.lora_helpers import save_lora
from comparison.adapters import AdapterError
from comparison.explorer import Explorer
from comparison.explorer.adapter_io import ADAPTER_NAME, adapter_folder, attach_adapter, has_lora
from comparison.explorer.capture import attention_modules, hooks, run_pass
from comparison.explorer.loading import ModelSource, load_model

WORDS = ("Вопрос : Ответ Кто такой Чебурашка Гена Колобок это персонаж мультфильма друг "
         "крокодил ? . , зверёк ушастый из сказки").split()


def build_tiny_lm(folder: Path, hidden: int = 32, seed: int = 0, layers: int = 2) -> Path:
    """A random `layers`-layer Gemma 3 LM with a word-level tokenizer, saved like a Hub model."""
    torch.manual_seed(seed)
    vocab = {t: i for i, t in enumerate(["<pad>", "<eos>", "<bos>", "<unk>", "\n", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit()])
    tok.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 2)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>",
                                   pad_token="<pad>", unk_token="<unk>")
    config = Gemma3TextConfig(
        vocab_size=len(vocab), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=128,
        sliding_window=16, pad_token_id=0, eos_token_id=1, bos_token_id=2,
        layer_types=["sliding_attention", "full_attention"] * (layers // 2) + ["full_attention"] * (layers % 2),
    )
    Gemma3ForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def build_adapter(model_dir: Path, out: Path, zero_b: bool, r: int = 2, seed: int = 1) -> Path:
    """A q/k/v/o LoRA for `model_dir`: B = 0 (no-op) or random non-zero B."""
    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    return save_lora(base, LoraConfig(
        r=r, lora_alpha=2 * r, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]), out,
        zero_b=zero_b)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_lm"))


def make_explorer(model_dir: Path, adapter: Path | None) -> Explorer:
    loaded = load_model(ModelSource(path=str(model_dir), kind="local", label="tiny"), device="cpu")
    if adapter is not None:
        loaded.model = attach_adapter(loaded.model, adapter_folder(adapter, model_dir / "work"))
    return Explorer(loaded, adapter_label="test")


@pytest.fixture(scope="module")
def random_explorer(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Explorer:
    return make_explorer(tiny_dir, build_adapter(tiny_dir, tmp_path_factory.mktemp("a"), zero_b=False))


PROMPT = "Кто такой Чебурашка ?"


def test_zero_b_adapter_changes_nothing_exactly(tiny_dir: Path, tmp_path: Path) -> None:
    explorer = make_explorer(tiny_dir, build_adapter(tiny_dir, tmp_path / "zero", zero_b=True))
    api = explorer.next_token(PROMPT, top_k=5)
    assert api["kl"] == 0.0 and api["base"] == api["lora"]
    result = explorer.explore(PROMPT, top_k=5)
    assert (result.top_k["delta"] == 0).all()
    assert np.array_equal(result.attention_base, result.attention_lora)
    assert (result.layer_shift == 0).all()


def test_next_token_api_shape_and_real_effect(random_explorer: Explorer) -> None:
    api = random_explorer.next_token(PROMPT, top_k=3)
    assert set(api) == {"base", "lora", "kl", "model", "adapter"}
    assert len(api["base"]) == 3 and all(isinstance(t, str) and 0 <= p <= 1 for t, p in api["base"])
    assert api["kl"] > 1e-4


def test_scale_zero_is_base_and_scaling_is_restored(random_explorer: Explorer) -> None:
    enc = random_explorer.encode(PROMPT)
    model = random_explorer.model
    before = {n: dict(m.scaling) for n, m in model.named_modules() if isinstance(m, LoraLayer)}
    base = run_pass(model, enc.inputs, lora=False).logprobs
    zero = run_pass(model, enc.inputs, lora=True, scale=0.0).logprobs
    full = run_pass(model, enc.inputs, lora=True, scale=1.0).logprobs
    double = run_pass(model, enc.inputs, lora=True, scale=2.0).logprobs
    assert torch.equal(base, zero)
    assert not torch.equal(full, double)
    after = {n: dict(m.scaling) for n, m in model.named_modules() if isinstance(m, LoraLayer)}
    assert before == after
    assert random_explorer.next_token(PROMPT, scale=0.0)["kl"] == 0.0
    with pytest.raises(ValueError, match="scale"):
        random_explorer.next_token(PROMPT, scale=2.5)


def test_attention_capture_matches_output_attentions(random_explorer: Explorer) -> None:
    enc = random_explorer.encode(PROMPT)
    captured = run_pass(random_explorer.model, enc.inputs, lora=True, capture=True).attention
    with torch.no_grad():
        ref = random_explorer.model(**enc.inputs, output_attentions=True).attentions
    assert captured.shape == (2, 2, enc.length, enc.length)
    np.testing.assert_allclose(captured, np.stack([a[0].numpy() for a in ref]), atol=1e-6)
    np.testing.assert_allclose(captured.sum(-1), 1.0, atol=1e-5)
    result = random_explorer.explore(PROMPT)
    assert result.layer_shift.shape == (2,) and (result.layer_shift > 0).all()


def test_hooks_removed_even_on_error(random_explorer: Explorer) -> None:
    modules = [m for _, m in attention_modules(random_explorer.model)]
    before = [dict(m._forward_hooks) for m in modules]  # transformers keeps its own hooks

    def boom(*_: object) -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        with hooks([(m, boom) for m in modules]):
            random_explorer.model(**random_explorer.encode(PROMPT).inputs)
    assert [dict(m._forward_hooks) for m in modules] == before


def test_anatomy_matches_full_delta_w(random_explorer: Explorer) -> None:
    table = random_explorer.anatomy(scale=1.5)
    assert set(table["module"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    assert sorted(set(table["layer"])) == [0, 1]
    module = dict(random_explorer.model.named_modules())[table.loc[0, "name"]]
    delta = 1.5 * module.scaling[ADAPTER_NAME] * (
        module.lora_B[ADAPTER_NAME].weight @ module.lora_A[ADAPTER_NAME].weight).double()
    assert table.loc[0, "norm"] == pytest.approx(float(torch.linalg.norm(delta.detach())), rel=1e-6)
    np.testing.assert_allclose(table.loc[0, "singular_values"],
                               torch.linalg.svdvals(delta).detach().numpy()[:2], rtol=1e-6)


def test_adapter_for_another_base_is_refused_and_model_left_clean(tiny_dir: Path,
                                                                    tmp_path: Path) -> None:
    other = build_tiny_lm(tmp_path / "other", hidden=48)
    wrong = build_adapter(other, tmp_path / "wrong", zero_b=False)
    loaded = load_model(ModelSource(path=str(tiny_dir), kind="local", label="tiny"), device="cpu")
    with pytest.raises(AdapterError, match="shapes|match"):
        attach_adapter(loaded.model, adapter_folder(wrong, tmp_path / "work"))
    assert not any("lora_" in n for n, _ in loaded.model.named_parameters())


def test_adapter_with_unused_keys_is_refused(tiny_dir: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    folder = build_adapter(tiny_dir, tmp_path / "extra", zero_b=False)
    weights = folder / "adapter_model.safetensors"
    state = load_file(str(weights))
    key = next(k for k in state if "lora_A" in k)
    state[key.replace("layers.0", "layers.7")] = state[key].clone()
    save_file(state, str(weights))
    loaded = load_model(ModelSource(path=str(tiny_dir), kind="local", label="tiny"), device="cpu")
    with pytest.raises(AdapterError, match="unused"):
        attach_adapter(loaded.model, adapter_folder(folder, tmp_path / "work"))
    assert not has_lora(loaded.model)


def test_answers_are_greedy_and_capped(random_explorer: Explorer) -> None:
    first = random_explorer.answers(PROMPT, max_new_tokens=4)
    assert first == random_explorer.answers(PROMPT, max_new_tokens=4)
    with pytest.raises(ValueError, match="max_new_tokens"):
        random_explorer.answers(PROMPT, max_new_tokens=10_000)


def test_second_adapter_is_a_view_on_the_same_model(tiny_dir: Path, tmp_path: Path) -> None:
    """A user's own adapter joins the shared model; views pick theirs, the default is kept."""
    first = build_adapter(tiny_dir, tmp_path / "a", zero_b=False, seed=1)
    second = build_adapter(tiny_dir, tmp_path / "b", zero_b=False, seed=2)
    ex = make_explorer(tiny_dir, first)
    before = ex.next_token(PROMPT, top_k=5)
    mine = ex.add_adapter("s1_own", second, "mine")
    assert mine.model is ex.model and mine.adapter_label == "mine"
    other = mine.next_token(PROMPT, top_k=5)
    again = ex.next_token(PROMPT, top_k=5)
    assert again["kl"] == pytest.approx(before["kl"], abs=1e-9)
    assert other["kl"] != pytest.approx(before["kl"], abs=1e-6)
    assert other["base"] == before["base"]
    ex.remove_adapter("s1_own")
    with pytest.raises(ValueError):
        ex.view("s1_own")
    assert ex.next_token(PROMPT, top_k=5)["kl"] == pytest.approx(before["kl"], abs=1e-9)


def test_mismatched_second_adapter_leaves_the_model_unchanged(tiny_dir: Path, tmp_path: Path,
                                                              tiny_encoder: Path) -> None:
    from tests.lora_helpers import make_adapter as make_encoder_adapter

    ex = make_explorer(tiny_dir, build_adapter(tiny_dir, tmp_path / "a", zero_b=False, seed=1))
    before = ex.next_token(PROMPT, top_k=5)
    wrong = make_encoder_adapter(tiny_encoder, tmp_path / "enc")
    with pytest.raises(AdapterError):
        ex.add_adapter("s1_wrong", wrong, "wrong")
    assert set(ex.model.peft_config) == {ADAPTER_NAME}
    assert ex.next_token(PROMPT, top_k=5)["kl"] == pytest.approx(before["kl"], abs=1e-9)
