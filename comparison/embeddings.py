"""Base and adapted sentence embeddings from ONE model in memory.

The base encoder is wrapped once as a PeftModel holding any number of named LoRA
adapters; "base" vectors come from the same weights under `disable_adapter()`. That
halves memory against keeping two models and guarantees base and tuned differ only by
the adapter. Loading is loud: after peft loads an adapter, every tensor in its file
must have landed in the model with the same shape and values, and every LoRA weight the
model expects must have come from the file. peft 0.21.2 alone only raises on shape
mismatches; keys that match nothing are dropped silently and missing ones stay at
their initial values, which would show a wrong "tuned" model without any warning.
"""
from __future__ import annotations

import itertools
import threading
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from comparison.adapters import (
    HUB_ID_RE, WEIGHTS_NAME, AdapterError, AdapterInfo, check_adapter_dir, fetch_hub_adapter,
)
from comparison.base_encoder import BaseModelError, BaseSource
from comparison.basics import clean_text, pool

BATCH_SIZE = 32
MAX_TOKENS = 512


def _adapter_folder(path: str) -> Path:
    """A local adapter folder as is, a Hub id downloaded (safetensors files only)."""
    folder = Path(path).expanduser()
    if folder.is_dir():
        return folder
    if HUB_ID_RE.match(path):
        return fetch_hub_adapter(path)
    raise AdapterError(f"{path!r} is neither an adapter folder nor a Hub id like owner/name")


class DualEncoder:
    """A base encoder plus named LoRA adapters, shared safely by many users."""

    def __init__(self, base: BaseSource) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.base = base
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(base.path)
            model = AutoModel.from_pretrained(base.path, add_pooling_layer=False)
        except Exception as exc:
            raise BaseModelError(f"could not load base model {base.label} ({type(exc).__name__}: {exc})") from exc
        model.eval()
        model.requires_grad_(False)
        self._model = model
        self._peft = None  # the PeftModel wrapper, created with the first adapter
        self._lock = threading.RLock()
        self._internal: dict[str, str] = {}  # public adapter name -> peft adapter name
        self._counter = itertools.count(1)
        self.adapters: dict[str, AdapterInfo] = {}
        max_pos = getattr(model.config, "max_position_embeddings", MAX_TOKENS) or MAX_TOKENS
        self.max_length = min(MAX_TOKENS, int(max_pos))

    # ---- adapters -----------------------------------------------------------------
    def add_adapter(self, name: str, path: str, label: str) -> AdapterInfo:
        """Load and verify an adapter under `name`; an existing `name` is replaced only on success."""
        from peft import LoraConfig, PeftModel

        if not name or not name.strip():
            raise AdapterError("adapter name must not be empty")
        folder = _adapter_folder(str(path))
        facts = check_adapter_dir(folder)
        try:
            config = LoraConfig.from_pretrained(str(folder))
        except Exception as exc:
            raise AdapterError(f"adapter config could not be read by peft ({exc})") from exc
        # Never let an init method touch the shared base weights (PiSSA, OLoRA, LoftQ...).
        config.init_lora_weights = True
        config.task_type = None
        config.inference_mode = True
        with self._lock:
            internal = f"adapter{next(self._counter)}"
            try:
                if self._peft is None:
                    self._peft = PeftModel(self._model, config, adapter_name=internal)
                else:
                    self._peft.add_adapter(internal, config)
                self._peft.load_adapter(str(folder), adapter_name=internal)
                self._verify_loaded(folder / WEIGHTS_NAME, internal)
            except Exception as exc:
                self._drop(internal)
                if isinstance(exc, AdapterError):
                    raise
                raise AdapterError(f"adapter does not fit this base model: {_short(exc)}") from exc
            self._peft.eval()
            old = self._internal.get(name)
            if old is not None:
                self._drop(old)
            self._internal[name] = internal
            info = AdapterInfo(
                name=name, path=str(path), label=label, r=facts["r"], alpha=facts["alpha"],
                target_modules=facts["target_modules"], base_model=facts["base_model"],
            )
            self.adapters[name] = info
            return info

    def _verify_loaded(self, weights: Path, internal: str) -> None:
        """Every tensor in the file used, every expected LoRA weight present, values equal."""
        from peft import get_peft_model_state_dict

        file_sd = load_file(str(weights))
        # Base embedding weights inside an adapter file would overwrite the SHARED base for
        # everyone; leaving them out of the expected keys makes such files fail as "unused".
        model_sd = get_peft_model_state_dict(self._peft, adapter_name=internal, save_embedding_layers=False)
        unused = sorted(set(file_sd) - set(model_sd))
        missing = sorted(set(model_sd) - set(file_sd))
        if unused:
            raise AdapterError(
                f"{len(unused)} adapter weights match nothing in this base model "
                f"(made for another model?), e.g. {unused[0]}"
            )
        if missing:
            raise AdapterError(f"adapter file lacks {len(missing)} weights the config promises, e.g. {missing[0]}")
        for key, tensor in file_sd.items():
            have = model_sd[key]
            if tuple(have.shape) != tuple(tensor.shape):
                raise AdapterError(f"weight {key} has shape {tuple(tensor.shape)}, the base needs {tuple(have.shape)}")
            if not torch.equal(have.float(), tensor.float()):
                raise AdapterError(f"weight {key} did not load correctly")

    def _drop(self, internal: str) -> None:
        """Remove a peft adapter if it exists; with none left, unwrap back to the plain base.

        peft cannot disable adapters on a wrapper that holds none, and the plain model is
        also the cheapest forward.
        """
        if self._peft is None:
            return
        if internal in self._peft.peft_config:
            self._peft.delete_adapter(internal)
        if not self._peft.peft_config:
            self._model = self._peft.unload()
            self._model.eval()
            self._peft = None

    def remove_adapter(self, name: str) -> None:
        """Unload an adapter; unknown names raise AdapterError."""
        with self._lock:
            if name not in self._internal:
                raise AdapterError(f"no adapter named {name!r} is loaded")
            self._drop(self._internal.pop(name))
            del self.adapters[name]

    # ---- embeddings ---------------------------------------------------------------
    @torch.inference_mode()
    def _forward(self, batch: dict[str, torch.Tensor], adapter: str | None) -> torch.Tensor:
        """Token states from the base (adapters disabled) or from one adapter."""
        if self._peft is None:
            if adapter is not None:
                raise AdapterError(f"no adapter named {adapter!r} is loaded")
            return self._model(**batch).last_hidden_state
        if adapter is None:
            with self._peft.disable_adapter():
                return self._peft(**batch).last_hidden_state
        if adapter not in self._internal:
            raise AdapterError(f"no adapter named {adapter!r} is loaded")
        self._peft.set_adapter(self._internal[adapter])
        return self._peft(**batch).last_hidden_state

    def embed(self, texts: list[str], prefix: str = "query: ", adapter: str | None = None) -> np.ndarray:
        """L2-normalised mean-pooled float32 vectors, one row per text (base if adapter is None)."""
        return self._embed_many(texts, prefix, [adapter])[0]

    def embed_both(
        self, texts: list[str], prefix: str = "query: ", adapter: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(base, tuned) vectors; tuned is a copy of base when no adapter is given.

        Each batch is tokenised once and run through the model twice (adapter off, then
        on), so the comparison costs two forwards and nothing more.
        """
        if adapter is None:
            base = self.embed(texts, prefix, None)
            return base, base.copy()
        base, tuned = self._embed_many(texts, prefix, [None, adapter])
        return base, tuned

    def _embed_many(self, texts: list[str], prefix: str,
                    adapters: list[str | None]) -> list[np.ndarray]:
        inputs = [prefix + clean_text(t) for t in texts]
        # Batching texts of similar length wastes less compute on padding.
        order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
        rows: list[list[np.ndarray]] = [[] for _ in adapters]
        for start in range(0, len(inputs), BATCH_SIZE):
            batch = self._tokenizer(
                [inputs[i] for i in order[start:start + BATCH_SIZE]], padding=True, truncation=True,
                max_length=self.max_length, return_tensors="pt",
            )
            batch.pop("token_type_ids", None)
            for k, adapter in enumerate(adapters):
                with self._lock:
                    states = self._forward(dict(batch), adapter)
                pooled = pool(states.float(), batch["attention_mask"], "mean")
                rows[k].append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        outs = []
        for parts in rows:
            out = np.zeros((len(inputs), self.dim), dtype=np.float32)
            if parts:
                out[order] = np.concatenate(parts)
            outs.append(out)
        return outs

    @property
    def dim(self) -> int:
        """Embedding width (hidden size of the base)."""
        return int(self._model.config.hidden_size)


def _short(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception, trimmed, for a user-facing message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:limit]
