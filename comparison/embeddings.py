"""Base and adapted sentence embeddings from ONE model in memory.

The base encoder is wrapped once as a PeftModel holding any number of named LoRA
adapters; "base" vectors come from the same weights under `disable_adapter()`. That
halves memory against keeping two models and guarantees base and tuned differ only by
the adapter. Loading is loud (`comparison.lora_attach`), and an adapter's recorded
inference settings (prefix, pooling) are used for its passes.
"""
from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from comparison.adapters import (
    HUB_ID_RE, AdapterError, AdapterInfo, check_adapter_dir, fetch_hub_adapter, inference_settings,
)
from comparison.base_encoder import BaseModelError, BaseSource
from comparison.basics import clean_text, pool, precision, torch_threads
from comparison.batcher import MicroBatcher, PassKey
from comparison.lora_attach import adapter_mode, check_scale
from comparison.lora_attach import attach_lora, detach_lora

BATCH_SIZE = 32
MAX_TOKENS = 512
# Vectors the batcher remembers (384 floats each: ~12 MB for e5-small at 8192); LORA_LENS_VECTOR_CACHE
# sets it (the leak check makes it small, so a warm-up fills it and it cannot pass for a leak).
CACHE_SIZE = int(os.environ.get("LORA_LENS_VECTOR_CACHE", "8192"))


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
        # Vectors the batcher already computed, per (adapter generation, pass, input): a class
        # scoring the teacher's examples computes each title once. A new generation (any adapter
        # added or removed) makes every older adapter entry unreachable; base entries stay.
        self._generation = 0
        self._cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self.adapters: dict[str, AdapterInfo] = {}
        self.batcher: MicroBatcher | None = None  # set by `share_passes`
        self.shared_bf16 = False  # the shared passes' precision (`share_passes`)
        max_pos = getattr(model.config, "max_position_embeddings", MAX_TOKENS) or MAX_TOKENS
        self.max_length = min(MAX_TOKENS, int(max_pos))

    # ---- adapters -----------------------------------------------------------------
    def add_adapter(self, name: str, path: str, label: str) -> AdapterInfo:
        """Load and verify an adapter under `name`; an existing `name` is replaced only on success.

        The adapter's own inference settings (prefix, pooling from its training_log.json)
        come along in the AdapterInfo; `embed` honours them.
        """
        if not name or not name.strip():
            raise AdapterError("adapter name must not be empty", "adapter_name")
        folder = _adapter_folder(str(path))
        facts = check_adapter_dir(folder)
        settings = inference_settings(folder)
        with self._lock:
            internal = f"adapter{next(self._counter)}"
            self._peft = attach_lora(self._peft if self._peft is not None else self._model,
                                     folder, internal)
            old = self._internal.get(name)
            if old is not None:
                self._drop(old)
            self._internal[name] = internal
            self._generation += 1
            info = AdapterInfo(
                name=name, path=str(path), label=label, r=facts["r"], alpha=facts["alpha"],
                target_modules=facts["target_modules"], base_model=facts["base_model"],
                prefix=settings.prefix, pooling=settings.pooling,
            )
            self.adapters[name] = info
            return info

    def _drop(self, internal: str) -> None:
        """Remove a peft adapter; with none left, back to the plain base (peft cannot
        disable adapters on a wrapper that holds none)."""
        if self._peft is None:
            return
        unwrapped = detach_lora(self._peft, internal)
        if unwrapped is not self._peft:
            self._model, self._peft = unwrapped, None

    def remove_adapter(self, name: str) -> None:
        """Unload an adapter; unknown names raise AdapterError."""
        with self._lock:
            if name not in self._internal:
                raise AdapterError(f"no adapter named {name!r} is loaded")
            self._drop(self._internal.pop(name))
            self._generation += 1
            del self.adapters[name]

    def share_passes(self, window_s: float = 0.004, max_inputs: int = 256, bf16: bool = False) -> MicroBatcher:
        """From now on, concurrent callers' texts share forward passes (see `comparison.batcher`).

        For a server where many requests arrive at once; a single caller (a script, the
        training's evaluation) gains nothing and keeps the direct path by not calling this.
        `bf16`: the shared passes run under bf16 autocast (`basics.served_bf16` decides for
        the app); `bulk` calls keep their caller's precision.
        """
        if self.batcher is None:
            self.shared_bf16 = bf16
            self.batcher = MicroBatcher(self._encode_one, window_s, max_inputs)
        return self.batcher

    # ---- embeddings ---------------------------------------------------------------
    @torch.inference_mode()
    def _forward(self, batch: dict[str, torch.Tensor], adapter: str | None,
                 scale: float = 1.0) -> torch.Tensor:
        """Token states from the base (adapters disabled) or from one adapter at `scale`.

        Strength 0 takes the base path itself, so it equals the base exactly.
        """
        if self._peft is None:
            if adapter is not None:
                raise AdapterError(f"no adapter named {adapter!r} is loaded")
            return self._model(**batch).last_hidden_state
        if adapter is not None and adapter not in self._internal:
            raise AdapterError(f"no adapter named {adapter!r} is loaded")
        if adapter is None or check_scale(scale) == 0.0:
            with self._peft.disable_adapter():
                return self._peft(**batch).last_hidden_state
        self._peft.set_adapter(self._internal[adapter])
        with adapter_mode(self._peft, True, scale):
            return self._peft(**batch).last_hidden_state

    def settings(self, adapter: str | None, prefix: str) -> tuple[str, str]:
        """(prefix, pooling) a pass uses: the adapter's own when it recorded them.

        An adapter trained with `--pooling cls` or another prefix gives its intended vectors
        only with those; the base is e5 and always gets the asked prefix and mean pooling.
        """
        if adapter is None:
            return prefix, "mean"
        info = self.adapters.get(adapter)
        if info is None:  # refused whatever the strength, also at 0 (where no pass uses it)
            raise AdapterError(f"no adapter named {adapter!r} is loaded")
        return (prefix if info.prefix is None else info.prefix), info.pooling

    def embed(self, texts: list[str], prefix: str = "query: ", adapter: str | None = None,
              scale: float = 1.0, bulk: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text (base if adapter is None).

        `scale` is the adapter-strength dial (0 = base exactly, 1 = as trained, up to 2).
        `bulk=True` (a whole catalog) runs in the caller's thread, past the shared batcher
        and its cache: big inputs gain nothing from sharing, would flush the cache of the
        small requests, and keep the caller's bf16 autocast (it is thread-local).
        """
        return self._run_passes(texts, [self._pass(prefix, adapter, scale)], bulk)[0]

    def embed_both(
        self, texts: list[str], prefix: str = "query: ", adapter: str | None = None,
        scale: float = 1.0, bulk: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(base, tuned) vectors; tuned is a copy of base when no adapter is given.

        With one prefix for both, each batch is tokenised once and run through the model
        twice (adapter off, then on), so the comparison costs two forwards and nothing more;
        with a batcher both passes travel as one request.
        """
        if adapter is None:
            base = self.embed(texts, prefix, None, bulk=bulk)
            return base, base.copy()
        base, tuned = self._run_passes(texts, [self._pass(prefix, None), self._pass(prefix, adapter, scale)],
                                       bulk)
        return base, tuned

    def _pass(self, prefix: str, adapter: str | None, scale: float = 1.0) -> tuple[str, PassKey]:
        """(prefix, (adapter, pooling, strength)) of one pass; strength 0 is the base pass."""
        used_prefix, pooling = self.settings(adapter, prefix)
        if adapter is None or check_scale(scale) == 0.0:
            return prefix, (None, "mean", 1.0)
        return used_prefix, (adapter, pooling, float(scale))

    def _run_passes(self, texts: list[str], passes: list[tuple[str, PassKey]],
                    bulk: bool = False) -> list[np.ndarray]:
        """Each pass's vectors: through the shared batcher when one is attached (and the call
        is not `bulk`), else here, in the caller's thread."""
        cleaned = [clean_text(t) for t in texts]
        if self.batcher is not None and cleaned and not bulk:
            return self.batcher.submit([([prefix + t for t in cleaned], key) for prefix, key in passes])
        by_prefix: dict[str, list[int]] = {}
        for k, (prefix, _) in enumerate(passes):
            by_prefix.setdefault(prefix, []).append(k)
        outs: list[np.ndarray] = [np.empty(0)] * len(passes)
        for prefix, ks in by_prefix.items():
            vectors = self._encode([prefix + t for t in cleaned], [passes[k][1] for k in ks])
            for k, v in zip(ks, vectors):
                outs[k] = v
        return outs

    def _encode_one(self, inputs: list[str], key: PassKey) -> np.ndarray:
        """One pass over prefixed, cleaned inputs (the batcher's `run`; one caller at a time):
        remembered vectors reused, the rest computed with the torch thread count
        LORA_LENS_ENCODER_THREADS asks for (unset or 0: torch's default)."""
        generation = self._generation if key[0] is not None else -1  # the base never changes
        out = np.zeros((len(inputs), self.dim), dtype=np.float32)
        missing = []
        for i, text in enumerate(inputs):
            hit = self._cache.get((generation, key, text))
            if hit is None:
                missing.append(i)
            else:
                out[i] = hit
                self._cache.move_to_end((generation, key, text))
        if missing:
            with torch_threads("LORA_LENS_ENCODER_THREADS", default="0"), precision(self.shared_bf16):
                out[missing] = self._encode([inputs[i] for i in missing], [key])[0]
            with self._lock:  # an adapter swapped during the pass: its vectors are not kept
                keep = generation in (-1, self._generation)
            for i in missing if keep else []:
                self._cache[(generation, key, inputs[i])] = out[i].copy()
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return out

    def _encode(self, inputs: list[str], passes: list[PassKey]) -> list[np.ndarray]:
        """Vectors of prefixed, cleaned `inputs` for each pass, tokenised once for all passes."""
        # Batching texts of similar length wastes less compute on padding.
        order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
        rows: list[list[np.ndarray]] = [[] for _ in passes]
        for start in range(0, len(inputs), BATCH_SIZE):
            batch = self._tokenizer(
                [inputs[i] for i in order[start:start + BATCH_SIZE]], padding=True, truncation=True,
                max_length=self.max_length, return_tensors="pt",
            )
            batch.pop("token_type_ids", None)
            for k, (adapter, pooling, scale) in enumerate(passes):
                with self._lock:
                    states = self._forward(dict(batch), adapter, scale)
                pooled = pool(states.float(), batch["attention_mask"], pooling)
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

