"""The explorer's fast paths give the numbers of the plain fp32 model: same greedy picks,
mixed batches answer like one model at a time, logits only where read, threads by load."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from comparison.explorer import BASE, Explorer
from comparison.explorer import fast_decode
from comparison.explorer.adapter_io import ADAPTER_NAME
from comparison.explorer.capture import run_pass
from comparison.explorer.fast_decode import ExactArgmaxHead, PackedLinear, fast_greedy
from tests.test_explorer_text import PROMPT, build_adapter, build_tiny_lm, make_explorer

PROMPTS = [PROMPT, "Кто такой Колобок ?", "Гена это друг", "Вопрос : Ответ Кто"]


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory) -> Explorer:
    folder = build_tiny_lm(tmp_path_factory.mktemp("lm"), hidden=64, seed=3)
    return make_explorer(folder, build_adapter(folder, tmp_path_factory.mktemp("a"), zero_b=False, seed=4))


def stock(monkeypatch: pytest.MonkeyPatch, fn):  # the plain path: fp32 MKL output layer, F.linear
    monkeypatch.setenv("LORA_LENS_FAST_DECODE", "0")
    try:
        return fn()
    finally:
        monkeypatch.delenv("LORA_LENS_FAST_DECODE")


def test_exact_argmax_head_picks_fp32_even_where_bf16_ties() -> None:
    torch.manual_seed(0)
    weight = torch.randn(4000, 64) * 0.05
    x = torch.randn(300, 64) * 40  # a large hidden norm, as in Gemma (~260): bf16 errors ~1 logit
    best = F.linear(x, weight).argmax(1)
    # a rival that bf16 cannot tell from each row's winner: it differs below bf16's resolution
    rival = weight[best[0]] + 1e-5 * torch.sign(x[0])
    weight[1234] = rival
    head = ExactArgmaxHead(weight)
    fp32 = F.linear(x, weight)
    fast = head(x)
    assert torch.equal(fast.argmax(1), fp32.argmax(1))
    assert fast.argmax(1)[0] == 1234  # the rival wins in fp32 by a hair, and here too
    rows = torch.arange(len(x))
    torch.testing.assert_close(fast[rows, fast.argmax(1)], fp32[rows, fp32.argmax(1)], rtol=1e-5, atol=1e-4)
    assert (fast - fp32).abs().max() < 2.0 and head.fallback_rows == 0  # the rest: approximate


def test_a_row_with_too_many_candidates_is_computed_in_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_decode, "MAX_CANDIDATES", 0)
    weight, x = torch.randn(500, 32), torch.randn(3, 32)
    head = ExactArgmaxHead(weight)
    torch.testing.assert_close(head(x), F.linear(x, weight), rtol=1e-5, atol=1e-5)
    assert head.fallback_rows == 3


def test_packed_linear_is_fp32_linear() -> None:
    weight, x = torch.randn(3000, 64), torch.randn(2, 7, 64)
    torch.testing.assert_close(PackedLinear(weight)(x), F.linear(x, weight), rtol=1e-5, atol=1e-4)


def test_fast_greedy_generates_what_the_stock_path_generates(explorer: Explorer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    names = [BASE, ADAPTER_NAME, BASE, ADAPTER_NAME]
    fast = explorer.batch_answers(PROMPTS, names, max_new_tokens=8, first_line=False)
    assert fast == stock(monkeypatch, lambda: explorer.batch_answers(PROMPTS, names, max_new_tokens=8,
                                                                     first_line=False))
    enc = explorer.encode(PROMPT)
    for lora in (False, True):
        assert explorer.generate_ids(enc, lora, max_new_tokens=10) == \
            stock(monkeypatch, lambda: explorer.generate_ids(enc, lora, max_new_tokens=10))


def test_one_mixed_batch_answers_like_each_model_alone(explorer: Explorer) -> None:
    for prompt in PROMPTS:
        enc = explorer.encode(prompt)
        together = explorer.generate_rows(enc, [BASE, ADAPTER_NAME], max_new_tokens=10)
        alone = [explorer.generate_ids(enc, lora, max_new_tokens=10) for lora in (False, True)]
        stop = {explorer.tokenizer.eos_token_id, explorer.tokenizer.pad_token_id}
        alone = [row[:next((i for i, t in enumerate(row) if t in stop), len(row))] for row in alone]
        assert together == alone


def test_patches_are_removed_even_on_error(explorer: Explorer) -> None:
    model = explorer.model
    with pytest.raises(KeyError):
        with fast_greedy(model) as on:
            assert on and "forward" in model.get_output_embeddings().__dict__
            raise KeyError("boom")
    assert not any("forward" in m.__dict__ for m in model.modules())


def test_logits_only_where_read_equal_the_full_pass(explorer: Explorer, monkeypatch: pytest.MonkeyPatch) -> None:
    enc = explorer.encode(PROMPT)
    full = stock(monkeypatch, lambda: run_pass(explorer.model, enc.inputs, lora=True))
    some = run_pass(explorer.model, enc.inputs, lora=True, positions=[1, -1, 2, 3])
    assert some.positions == [1, 2, 3, enc.length - 1] and some.logprobs.shape[0] == 4
    torch.testing.assert_close(some.at(-1), full.logprobs[-1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(some.span(1, 4), full.logprobs[1:4], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="positions"):
        run_pass(explorer.model, enc.inputs, lora=True, positions=[enc.length])


def test_auto_threads_use_the_cores_left_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    from comparison import basics

    assert 0.0 <= basics.busy_elsewhere(0.02) and 1 <= basics.idle_threads(0.02)
    monkeypatch.setattr(basics.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(basics, "busy_elsewhere", lambda _s: 0.05)
    assert basics.idle_threads() == 2
    monkeypatch.setattr(basics, "busy_elsewhere", lambda _s: 0.95)  # a neighbour keeps a core busy
    assert basics.idle_threads() == 1
    monkeypatch.setenv("LORA_LENS_EXPLORER_THREADS", "auto")
    before = torch.get_num_threads()
    with basics.torch_threads() as n:
        assert n == torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_fast_paths_stay_off_where_they_do_not_apply(explorer: Explorer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORA_LENS_FAST_DECODE", "0")
    with fast_greedy(explorer.model) as on:
        assert not on and not any("forward" in m.__dict__ for m in explorer.model.modules())
