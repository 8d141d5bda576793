"""The app online: the Hub up, failing (503) or stalled, against a loopback Hub stand-in.

Why in-process and fast: every decision the Space makes (probe, defaults, fallbacks and
their labels, the memory guard, push) runs through the real huggingface_hub code against
`tests/hub_standin.py` on tiny models; tests/e2e/test_space_online.py runs the app itself.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

import comparison.base_encoder as base_mod
from comparison import defaults, hub, memory
from comparison.adapters import AdapterError, fetch_hub_adapter
from comparison.base_encoder import E5_HUB_ID, OFFLINE_LABEL, BaseSource
from comparison.basics import DEFAULT_HUB_ADAPTER
from comparison.embeddings import DualEncoder
from comparison.explorer import loading
from tests.hub_standin import HubStandin, header_only_model
from tests.lora_helpers import make_adapter
from tuning.publish import push_to_hub


@pytest.fixture()
def online(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point huggingface_hub (already imported, so its constants too) at a stand-in."""
    import huggingface_hub.constants as c

    def use(standin: HubStandin) -> HubStandin:
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "LORA_LENS_BASE", LIMIT):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("HF_ENDPOINT", standin.url)
        monkeypatch.setattr(c, "ENDPOINT", standin.url)
        monkeypatch.setattr(c, "HUGGINGFACE_CO_URL_TEMPLATE", standin.url + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hf"))
        hub.reset_cache()
        defaults.forget()
        return standin

    yield use
    hub.reset_cache()
    defaults.forget()


LIMIT = memory.LIMIT_ENV


@pytest.fixture(scope="module")
def report_lora(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_adapter(tiny_encoder, tmp_path_factory.mktemp("report") / "adapter")


@pytest.fixture()
def offline_tiny(monkeypatch: pytest.MonkeyPatch, tiny_encoder: Path) -> BaseSource:
    """The offline copy, played by the tiny encoder (the real one is a slow conversion)."""
    src = BaseSource(path=str(tiny_encoder), kind="offline", label=OFFLINE_LABEL)
    monkeypatch.setattr(defaults, "offline_base", lambda progress=None: src)
    return src


def serving(mode: str, tiny_encoder: Path, report_lora: Path) -> HubStandin:
    standin = HubStandin(mode)
    standin.add_folder(E5_HUB_ID, tiny_encoder)
    standin.add_folder(DEFAULT_HUB_ADAPTER, report_lora)
    return standin


# ---------------------------------------------------------------- probe
@pytest.mark.parametrize("mode,state,code", [("ok", "ok", None), ("503", "http_error", 503),
                                             ("stall", "stalled", None)])
def test_probe_tells_ok_http_error_and_stall_apart(online, mode, state, code, tiny_encoder, report_lora):
    with online(serving(mode, tiny_encoder, report_lora)):
        t0 = time.monotonic()
        status = hub.hub_status(timeout=1.0)
        assert (status.state, status.code) == (state, code)
        assert time.monotonic() - t0 < 2.5
        assert hub.hub_reachable() is (mode == "ok")  # cached: no second wait


def test_probe_unreachable_and_offline(online, monkeypatch) -> None:
    standin = online(HubStandin("ok"))
    standin.close()  # nobody listens on that port any more
    assert hub.hub_status(timeout=1.0).state == "unreachable"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.hub_status().state == "offline"


# ---------------------------------------------------------------- defaults
def test_hub_up_base_from_hub_project_adapter_default_report_offered(online, tiny_encoder, report_lora):
    with online(serving("ok", tiny_encoder, report_lora)) as standin:
        src = base_mod.resolve_base()
        assert src.kind == "hub" and src.label == f"Hub: {E5_HUB_ID}" and Path(src.path).is_dir()
        names = [n for n, _, _ in defaults.shared_adapters()]
        assert names[0] == defaults.REPORT_ADAPTER and "example_tsdae" in names
        label = defaults.shared_adapters()[0][2]
        assert label.startswith("the report's adapter (TSDAE)") and DEFAULT_HUB_ADAPTER in label
        from comparison.adapters import SHIPPED_ADAPTER_DIR, default_adapter
        assert default_adapter()[0] == str(SHIPPED_ADAPTER_DIR)
        enc = DualEncoder(src)
        enc.add_adapter("report", defaults.shared_adapters()[0][1], label)
        assert enc.embed(["смартфон"], adapter="report").shape == (1, 32)
        assert any(p.endswith("model.safetensors") for _, p, _ in standin.log)


@pytest.mark.parametrize("mode,reason", [("503", "Hub unavailable (HTTP 503)"),
                                         ("stall", "Hub not answering (timed out)")])
def test_failing_hub_gives_the_labelled_offline_copy_in_time(online, offline_tiny, mode, reason,
                                                             tiny_encoder, report_lora, monkeypatch):
    monkeypatch.setattr(hub, "PROBE_TIMEOUT_S", 1.0)
    with online(serving(mode, tiny_encoder, report_lora)):
        t0 = time.monotonic()
        src = base_mod.resolve_base()
        assert src.path == offline_tiny.path
        assert src.label == f"{reason}: {OFFLINE_LABEL}"
        assert [n for n, _, _ in defaults.shared_adapters()] == ["example_tsdae"]
        assert time.monotonic() - t0 < 5


def test_hub_that_stalls_after_a_good_probe_is_cut_off_by_the_deadline(online, offline_tiny, tiny_encoder,
                                                                        report_lora, monkeypatch):
    monkeypatch.setattr(defaults, "BASE_DEADLINE_S", 2.0)
    with online(serving("ok", tiny_encoder, report_lora)) as standin:
        assert hub.hub_status().ok
        standin.mode = "stall"
        t0 = time.monotonic()
        src = base_mod.resolve_base()
        assert time.monotonic() - t0 < 4
        assert src.label == f"Hub not answering (timed out): {OFFLINE_LABEL}"


def test_a_failing_hub_falls_back_to_a_cached_hub_copy_first(online, offline_tiny, tiny_encoder,
                                                              report_lora, monkeypatch):
    """A Space preloads e5 into its image (preload_from_hub): an outage then costs nothing."""
    with online(serving("ok", tiny_encoder, report_lora)) as standin:
        first = base_mod.resolve_base()
        standin.mode = "503"
        hub.reset_cache()
        again = base_mod.resolve_base()
        assert again.path == first.path
        assert again.label == f"Hub unavailable (HTTP 503): cached copy of {E5_HUB_ID}"


def test_explorer_default_is_the_offline_model_even_with_the_hub_up(online, tiny_encoder, report_lora,
                                                                   monkeypatch):
    offline = loading.ModelSource(path="/offline/gemma", kind="offline", label=loading.GEMMA_LABEL)
    monkeypatch.setattr(loading, "offline_default", lambda progress=None: offline)
    with online(serving("ok", tiny_encoder, report_lora)) as standin:
        assert loading.resolve_model(None) is offline
        assert not any(loading.VLM_HUB_ID in p for _, p, _ in standin.log)


def test_explicit_hub_ids_on_a_failing_hub_are_clear_errors(online, tiny_encoder, report_lora):
    with online(serving("503", tiny_encoder, report_lora)):
        with pytest.raises(hub.HubError) as model_err:
            loading.resolve_model("someone/some-model")
        assert model_err.value.code == "hub_failed" and "HTTP 503" in str(model_err.value)
        with pytest.raises(AdapterError) as adapter_err:
            fetch_hub_adapter("someone/some-adapter")
        assert adapter_err.value.code == "hub_failed"
        assert adapter_err.value.params["reason"] == "Hub unavailable (HTTP 503)"


# ---------------------------------------------------------------- memory guard
def test_sizes_and_the_limit_from_the_environment(monkeypatch) -> None:
    assert memory.parse_size("16GB") == 16 * 2**30 == memory.parse_size("16 GiB")
    assert memory.parse_size("512M") == 512 * 2**20
    with pytest.raises(ValueError, match=LIMIT):
        memory.parse_size("lots")
    monkeypatch.setenv(LIMIT, "1GB")
    assert memory.memory_limit() == (2**30, LIMIT)
    monkeypatch.setenv(LIMIT, "100000TB")  # an env value above the machine never raises it
    assert memory.memory_limit()[0] < 100000 * 2**40


def test_local_estimate_reads_headers_in_the_load_dtype(tiny_encoder: Path, tmp_path: Path) -> None:
    from transformers import AutoModel

    n = sum(p.numel() for p in AutoModel.from_pretrained(tiny_encoder, add_pooling_layer=False).parameters())
    est = memory.estimate_local(tiny_encoder, "float32")
    assert est.params == n and est.need_bytes == memory.need_bytes(n, "float32")
    big = memory.estimate_local(header_only_model(tmp_path / "big", 3_000_000_000), "bfloat16")
    assert big.params == 3_000_000_000 // 4096 * 4096 and big.source == "safetensors"


def test_a_hub_model_above_the_limit_is_refused_before_any_weight_download(online, monkeypatch,
                                                                          tmp_path: Path) -> None:
    standin = online(HubStandin("ok"))
    with standin:
        standin.add_folder("big/model-10b", header_only_model(tmp_path / "big", 10_000_000_000))
        monkeypatch.setenv(LIMIT, "16GB")
        source = loading.ModelSource(path="big/model-10b", kind="hub", label="Hub: big/model-10b")
        with pytest.raises(memory.MemoryGuardError) as err:
            loading.load_model(source, device="cpu")
        e = err.value
        assert e.code == "memory_too_big" and e.params["dtype"] == "bfloat16"
        assert e.params["need"] > 16 > e.params["have"] > 0
        assert f"{e.params['need']} GB" in str(e) and f"{e.params['have']} GB" in str(e)
        assert standin.weight_downloads() == []
        assert any("/resolve/" in p and rng for _, p, rng in standin.log)  # only the header was read


def test_a_small_model_passes_the_guard_and_cpu_dtype_follows_size(tiny_encoder: Path, monkeypatch) -> None:
    monkeypatch.setenv(LIMIT, "16GB")
    assert memory.guard(str(tiny_encoder), "float32").params > 0
    assert defaults.cpu_dtype(270_000_000) == "float32"
    assert defaults.cpu_dtype(3_750_000_000) == "bfloat16"


def test_refusal_reads_in_russian_with_both_numbers() -> None:
    from ui.common import message

    exc = memory.MemoryGuardError("x", "memory_too_big", model="big/m", need=23.0, have=14.6,
                                  dtype="bfloat16", limit=16.0)
    ru = message(exc, "ru")
    assert "23.0 ГБ" in ru and "14.6 ГБ" in ru and "big/m" in ru
    hub_err = hub.HubError("x", "hub_failed", model="a/b", reason="Hub unavailable (HTTP 503)")
    assert "Hub недоступен (HTTP 503)" in message(hub_err, "ru")


def test_vlm_offer_names_memory_and_time(online, monkeypatch, tiny_encoder, report_lora) -> None:
    with online(serving("ok", tiny_encoder, report_lora)):
        monkeypatch.setenv(LIMIT, "16GB")
        offer = defaults.vlm_offer()
        assert offer is not None and offer.device == "cpu" and offer.dtype == "bfloat16"
        assert offer.need_gb == memory.gb(memory.need_bytes(defaults.VLM_PARAMS, "bfloat16"))
        assert offer.fits and offer.load_s > 0 and offer.answer_s > 0
        from ui.common import vlm_offer_md

        ru = vlm_offer_md("ru")
        assert f"≈ {offer.need_gb} ГБ" in ru and "LORA_LENS_LM=Qwen/Qwen2.5-VL-3B-Instruct" in ru
        defaults.forget()
        monkeypatch.setenv(LIMIT, "4GB")
        assert defaults.vlm_offer().fits is False
        assert "does not fit here" in vlm_offer_md("en")


# ---------------------------------------------------------------- push, environment
def test_push_to_the_standin_uploads_the_adapter(online, report_lora: Path) -> None:
    with online(HubStandin("ok")) as standin:
        url = push_to_hub(report_lora, "me/my-adapter", "hf_token")
        assert url.endswith("/me/my-adapter")
        files = standin.repos["me/my-adapter"].files
        assert files["adapter_model.safetensors"] == (report_lora / "adapter_model.safetensors").read_bytes()


def test_space_storage_goes_to_data(tmp_path: Path, monkeypatch) -> None:
    for var in ("LORA_LENS_CACHE", "HF_HOME", "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    hub.prepare_environment(str(tmp_path / "data-missing"))
    assert "LORA_LENS_CACHE" not in __import__("os").environ
    (tmp_path / "data").mkdir()
    hub.prepare_environment(str(tmp_path / "data"))
    import os
    assert os.environ["LORA_LENS_CACHE"] == str(tmp_path / "data" / "lora-lens")
    assert os.environ["HF_HOME"] == str(tmp_path / "data" / ".huggingface")
    assert os.environ["HF_HUB_ETAG_TIMEOUT"] == "10"


def test_a_typed_base_is_guarded_and_a_missing_one_is_a_clear_error(online, monkeypatch, tmp_path: Path) -> None:
    from comparison.runtime import EncoderService

    with online(HubStandin("ok")) as standin:
        standin.add_folder("big/encoder-10b", header_only_model(tmp_path / "big", 10_000_000_000))
        monkeypatch.setenv(LIMIT, "16GB")
        with pytest.raises(memory.MemoryGuardError) as big:
            EncoderService("big/encoder-10b").get()
        assert big.value.params["dtype"] == "float32" and standin.weight_downloads() == []
        with pytest.raises(hub.HubError) as missing:
            EncoderService("someone/missing-encoder").get()
        assert missing.value.params["reason"] == "not found on the Hub (HTTP 404)"
