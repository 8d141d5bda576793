"""Take the LoRA apart, attribute its change, and read it in plain words — on tiny local LMs.

Constructed adapters make the expected answers known: a zero adapter (B = 0), one writing
only in v_proj, one that moves a single token's logit (a LoRA on the output layer whose
update points at one token), and a random one on every module kind (q, k, v, o, MLP).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from peft import LoraConfig
from peft.tuners.lora import LoraLayer
from transformers import AutoModelForCausalLM

from comparison.explorer import CompareRequest, Explorer
from comparison.explorer.parts import Parts, kinds_present, module_kind, only_parts, parse_parts
from comparison.explorer.reading import kl_band
from comparison.explorer.take_apart import attribute, layer_thirds, share_of_change, take_apart
from tests.lora_helpers import save_lora
from tests.test_explorer_text import PROMPT, build_tiny_lm, make_explorer
from ui.explorer_reading import attribution_text, summary, take_apart_text

ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
TOKEN = "Гена"


def _adapter(model_dir: Path, out: Path, targets: list[str], zero_b: bool = False, std: float = 0.3) -> Path:
    torch.manual_seed(3)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    return save_lora(base, LoraConfig(r=2, lora_alpha=4, target_modules=targets), out, zero_b=zero_b, std=std)


def _one_token_adapter(model_dir: Path, out: Path) -> Path:
    """A LoRA on the output layer whose update raises only TOKEN's logit after PROMPT."""
    from peft import get_peft_model
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    with torch.no_grad():
        h = base(**tok(PROMPT, return_tensors="pt"), output_hidden_states=True).hidden_states[-1][0, -1]
    model = get_peft_model(base, LoraConfig(r=1, lora_alpha=1, target_modules=["lm_head"]))
    layer = model.base_model.model.lm_head
    with torch.no_grad():
        layer.lora_A["default"].weight.copy_(h / h.norm() ** 2)  # A·h = 1
        layer.lora_B["default"].weight.zero_()
        layer.lora_B["default"].weight[tok.convert_tokens_to_ids(TOKEN), 0] = 6.0  # +6 on one logit
    model.save_pretrained(out, save_embedding_layers=False)  # the tied output layer stays the model's
    return out


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> None:
    """Tiny matrices: one thread (two threads on a busy 2-core machine were measured 40× slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("lm6"), layers=6)


@pytest.fixture(scope="module")
def full(lm: Path, tmp_path_factory: pytest.TempPathFactory) -> Explorer:
    return make_explorer(lm, _adapter(lm, tmp_path_factory.mktemp("full"), ALL))


def _scalings(model) -> dict:
    return {n: dict(m.scaling) for n, m in model.named_modules() if isinstance(m, LoraLayer)}


def test_parts_are_parsed_strictly() -> None:
    assert parse_parts("all", "all", 18) == Parts()
    assert parse_parts("q, v_proj,MLP", "12-17", 18) == Parts(frozenset({"q", "v", "mlp"}), (12, 17))
    assert parse_parts("none", "3", 18) == Parts(frozenset(), (3, 3))
    assert parse_parts("o", "12–17", 18).label() == "o_proj · layers 12–17"
    for modules, layers, field in (("q,x", "all", "modules"), ("q", "5-2", "layers"), ("q", "0-18", "layers"),
                                   ("q", "top", "layers")):
        with pytest.raises(ValueError, match=f"^{field}:"):
            parse_parts(modules, layers, 18)
    assert [module_kind(f"model.layers.0.{m}") for m in ("self_attn.q_proj", "self_attn.o_proj", "mlp.down_proj")] \
        == ["q", "o", "mlp"]
    assert layer_thirds(18) == [(0, 5), (6, 11), (12, 17)] and layer_thirds(2) == [(0, 0), (1, 1)]


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_every_part_on_is_the_full_lora_and_no_part_is_the_base(full: Explorer, scale: float) -> None:
    before = _scalings(full.model)
    on = take_apart(full, PROMPT, Parts(), scale=scale, max_new_tokens=6)
    assert on.row["kl_to_full"] < 1e-6 and on.answers["part"] == on.answers["full"] and on.row["survives"]
    assert on.row["share"] == pytest.approx(1.0, abs=1e-6) and on.layers_on == 6 * len(ALL)
    off = take_apart(full, PROMPT, Parts(frozenset()), scale=scale, max_new_tokens=6)
    assert off.row["kl_to_base"] < 1e-6 and off.answers["part"] == off.answers["base"]
    assert off.row["share"] == pytest.approx(0.0, abs=1e-6) and off.layers_on == 0
    assert on.kl_full_to_base > 1e-3  # the random adapter does change the text
    assert _scalings(full.model) == before
    js = on.to_json()
    assert {"kl_to_base", "kl_to_full", "answer", "top_k", "share", "survives"} <= set(js)
    assert js["top_k_columns"] == ["token", "base", "full", "part"]


def test_scalings_are_restored_even_when_the_pass_fails(full: Explorer) -> None:
    before = _scalings(full.model)
    with pytest.raises(RuntimeError, match="boom"):
        with only_parts(full.model, full.active_adapter, Parts(frozenset({"v"}), (0, 1)), 0.5) as kept:
            assert kept == 2
            raise RuntimeError("boom")
    assert _scalings(full.model) == before


def test_a_part_between_is_between(full: Explorer) -> None:
    part = take_apart(full, PROMPT, parse_parts("q,k,v,o", "all", 6), max_new_tokens=6).row
    assert part["kl_to_base"] > 1e-6 and part["kl_to_full"] > 1e-6
    assert take_apart_text({**take_apart(full, PROMPT, parse_parts("v", "0-2", 6), max_new_tokens=4).to_json()},
                           "ru").startswith("**Слоёв LoRA включено: 3** (v_proj · слои 0–2)")


def test_attribution_rows_cover_each_kind_and_third_and_sum_sensibly(full: Explorer) -> None:
    result = attribute(full, PROMPT, max_new_tokens=6)
    rows = result.rows
    assert list(rows[rows["group"] == "module"]["modules"]) == ["q", "k", "v", "o", "mlp"]
    assert list(rows[rows["group"] == "layers"]["layers"]) == ["0-1", "2-3", "4-5"]
    assert (rows["group"] == "combined").sum() == 1
    assert (rows["share"] <= 1.0 + 1e-6).all()
    # near the base the documented share is additive: small strength, partitions sum to ~1
    small = attribute(full, PROMPT, scale=0.05, max_new_tokens=6).sums()
    assert small["module"] == pytest.approx(1.0, abs=0.1) and small["layers"] == pytest.approx(1.0, abs=0.1)
    js = result.to_json()
    assert len(js["rows"]) == len(rows) and "measure" in js and set(js["share_sums"]) == {"module", "layers"}
    for lang in ("ru", "en"):
        assert attribution_text(js, lang)


def test_share_is_exact_at_the_ends() -> None:
    assert share_of_change(0.4, 0.0, 0.4) == 0.0 and share_of_change(0.4, 0.4, 0.0) == 1.0
    assert share_of_change(0.0, 0.0, 0.0) is None


def test_v_only_adapter_lives_entirely_in_v(lm: Path, tmp_path: Path) -> None:
    ex = make_explorer(lm, _adapter(lm, tmp_path / "v", ["v_proj"], std=0.5))
    assert kinds_present(ex.model, ex.active_adapter) == ["v"]
    result = attribute(ex, PROMPT, max_new_tokens=6)
    v = result.rows[result.rows["modules"] == "v"].iloc[0]
    assert v["share"] == pytest.approx(1.0, abs=1e-6) and v["kl_to_full"] < 1e-6 and v["survives"]
    assert result.sums()["module"] == pytest.approx(1.0, abs=1e-6)
    assert result.facts["kind"] == "module" and result.facts["module"]["modules"] == "v"
    assert "**v_proj**" in attribution_text(result.to_json(), "en")
    report = ex.compare(CompareRequest(PROMPT, max_new_tokens=4))
    assert report.reading["writes"]["kind"] == "v" and report.reading["writes"]["kind_share"] == pytest.approx(1.0)
    assert "**v_proj** (100 % от ‖ΔW‖²)" in summary(report.reading, "ru")


def test_zero_adapter_reads_as_no_change(lm: Path, tmp_path: Path) -> None:
    ex = make_explorer(lm, _adapter(lm, tmp_path / "z", ALL, zero_b=True))
    report = ex.compare(CompareRequest(PROMPT, max_new_tokens=4, context="Гена это друг ."))
    facts = report.reading
    assert facts["answer"] == {"changed": False} and facts["size"] == {"kl": 0.0, "band": "none"}
    assert facts["writes"] == {"zero": True} and not facts["attention"]["moved"]
    assert "gained" not in facts["next_token"] and "lost" not in facts["next_token"]
    assert facts["prompt"] == {"kind": "nothing"}
    text = summary(facts, "ru")
    for phrase in ("Ответ не изменился", "почти нет", "Обновление адаптера нулевое", "Внимание почти не сдвинулось",
                   "нечего имитировать"):
        assert phrase in text
    assert attribute(ex, PROMPT, max_new_tokens=4).facts == {"kind": "none"}
    assert "there is no change to split" in attribution_text(attribute(ex, PROMPT, max_new_tokens=4).to_json(), "en")


def test_one_token_adapter_reads_as_that_token_gaining(lm: Path, tmp_path: Path) -> None:
    ex = make_explorer(lm, _one_token_adapter(lm, tmp_path / "one"))
    report = ex.compare(CompareRequest(PROMPT, max_new_tokens=3, top_k=5))
    facts = report.reading
    assert facts["next_token"]["gained"]["token"].strip() == TOKEN
    row = report.top_k[report.top_k["token"].str.strip() == TOKEN].iloc[0]
    assert facts["next_token"]["gained"]["lora"] == pytest.approx(float(row["lora"]))
    assert float(row["delta"]) == pytest.approx(float(report.top_k["delta"].max()))
    assert facts["size"]["band"] == kl_band(report.kl) and facts["size"]["kl"] == report.kl
    assert not facts["attention"]["moved"]  # the output layer does not touch attention
    assert facts["writes"]["kind"] == "other"
    text = summary(facts, "en")
    assert f"“{TOKEN}” gained most" in text and "Attention hardly moved" in text
    assert f"KL = {report.kl:.3f} nats" in text
