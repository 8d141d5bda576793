"""Watch it learn: training checkpoints saved by the LM demo trainer, replayed on a tiny LM."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from comparison.explorer.checkpoints import checkpoint_folders, replay
from examples.train_lm_demo import save_checkpoint
from tests.test_explorer_text import PROMPT, build_tiny_lm, make_explorer

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_checkpoints_replay_from_base_to_the_final_adapter(tmp_path: Path) -> None:
    lm = build_tiny_lm(tmp_path / "lm")
    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(lm),
                           LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj", "o_proj"]))
    out = tmp_path / "adapter"
    b_params = [p for n, p in model.named_parameters() if "lora_B" in n]
    final = [torch.randn_like(p) * 0.5 for p in b_params]
    for step, frac in ((3, 0.0), (6, 0.5)):  # B grows from 0 (no change yet) to half the final update
        with torch.no_grad():
            for p, f in zip(b_params, final):
                p.copy_(f * frac)
        save_checkpoint(model, out, step, loss=1.0 / step)
    with torch.no_grad():
        for p, f in zip(b_params, final):
            p.copy_(f)
    model.save_pretrained(out)
    (out / "checkpoints" / "final.json").write_text(json.dumps({"step": 9, "loss": 0.1}))
    assert [s for s, _ in checkpoint_folders(out)] == [3, 6]
    ex = make_explorer(lm, out)
    rep = replay(ex, PROMPT, out, top_k=4, max_new_tokens=4)
    assert rep.steps == [0, 3, 6, 9] and rep.losses == [None, 0.3333, 0.1667, 0.1]
    assert rep.kl_to_base[0] == pytest.approx(0.0, abs=1e-7) and rep.kl_to_base[1] == pytest.approx(0.0, abs=1e-7)
    assert rep.kl_to_final[-1] == pytest.approx(0.0, abs=1e-7) and rep.kl_to_base[-1] > 1e-4
    assert 0 < rep.kl_to_base[2] < rep.kl_to_base[3] + 1e-3
    answers = ex.answers(PROMPT, max_new_tokens=4)
    assert rep.answers[0] == answers["base"] and rep.answers[-1] == answers["lora"]
    assert list(rep.top_k[2].columns) == ["token", "token_id", "base", "step", "final"]
    assert len(rep.to_json()["top_k"]) == 4
    replay(ex, PROMPT, out, top_k=4, max_new_tokens=2)  # attached once: a second replay adds nothing
    assert sum(n.startswith("ckpt-") for n in ex.adapters()) == 2
    shutil.rmtree(out / "checkpoints")
    with pytest.raises(ValueError, match="no training checkpoints"):
        replay(make_explorer(lm, out), PROMPT, out)
