"""Finding, unpacking and vetting LoRA adapters before anything is loaded.

Adapters come from strangers (uploads, Hub ids), so this module is the gate: only
safetensors weights (a pickled `.bin` can run code when loaded), only plain LoRA
configs (no remote code, no options that rewrite the base model), and zips unpacked
without path escapes, links or decompression bombs. It reads headers and JSON only;
loading onto a model, and the key-by-key check after it, live in `lora_attach.py`.
"""
from __future__ import annotations

import json
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from safetensors import safe_open

from comparison.basics import HUB_ID_RE, POOLINGS, PREFIX_VALUES, LensError
from comparison.hub import classify

EXAMPLE_ADAPTERS = Path(__file__).resolve().parent.parent / "examples" / "adapters"
SHIPPED_ADAPTER_DIR = EXAMPLE_ADAPTERS / "e5-products-contrastive"
"""The offline default: contrastive objective, measured best on held-out matching."""
REPORT_ADAPTER_DIR = EXAMPLE_ADAPTERS / "e5-products-tsdae"
"""A second example: the source report's TSDAE method (matches worse; kept to show it)."""
CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"
LOG_NAME = "training_log.json"
MAX_LOG_BYTES = 8 * 1024 * 1024
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")
MAX_ZIP_MEMBERS = 200
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_CONFIG_BYTES = 1024 * 1024
# Config options that change the base model itself or need inputs this app never gives.
REFUSED_OPTIONS = ("layer_replication", "alora_invocation_tokens", "arrow_config", "megatron_config")


class AdapterError(LensError):
    """An adapter that cannot be used (English message; `code` for other languages)."""


@dataclass(frozen=True)
class AdapterInfo:
    """What the UI needs to show about a loaded adapter."""

    name: str
    path: str
    label: str
    r: int
    alpha: float
    target_modules: tuple[str, ...]
    base_model: str
    prefix: str | None = None  # the prefix it was trained with; None = not recorded
    pooling: str = "mean"

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name: must not be empty")
        if self.r <= 0:
            raise ValueError("r: must be a positive integer")
        if self.alpha <= 0:
            raise ValueError("alpha: must be positive")


@dataclass(frozen=True)
class InferenceSettings:
    """How an adapter's vectors are meant to be made: prefix (None = not recorded), pooling."""

    prefix: str | None
    pooling: str


def inference_settings(d: Path) -> InferenceSettings:
    """Prefix and pooling recorded in training_log.json (written by `tuning.train`).

    Without a log (adapters from elsewhere) e5's own way is assumed: mean pooling, the
    prefix the user picks. A log with settings this app cannot honour refuses the adapter
    rather than scoring it in a way it was never trained for.
    """
    log_path = Path(d) / LOG_NAME
    if not log_path.is_file():
        return InferenceSettings(None, "mean")
    try:
        if log_path.stat().st_size > MAX_LOG_BYTES:
            raise ValueError("too large")
        cfg = json.loads(log_path.read_text(encoding="utf-8")).get("config") or {}
    except (ValueError, OSError, AttributeError) as exc:
        raise AdapterError(f"{LOG_NAME} is not a valid training log", "adapter_log") from exc
    prefix, pooling = cfg.get("prefix"), cfg.get("pooling", "mean")
    if pooling not in POOLINGS:
        raise AdapterError(f"adapter was trained with pooling {pooling!r}; this app can use "
                           f"{' or '.join(POOLINGS)} only", "adapter_pooling", pooling=pooling)
    if prefix is not None and prefix not in PREFIX_VALUES:
        raise AdapterError(f"adapter was trained with prefix {prefix!r}; the similarity tab "
                           "uses e5's 'query: ', 'passage: ' or none", "adapter_prefix",
                           prefix=prefix)
    return InferenceSettings(prefix, pooling)


def default_adapter() -> tuple[str, str] | None:
    """The default adapter, online or offline: the project's contrastive one in examples/.

    The report's published adapter is offered beside it (`comparison.defaults`), never
    instead of it: on held-out matching it is the worse of the two.
    """
    if (SHIPPED_ADAPTER_DIR / CONFIG_NAME).is_file():
        return str(SHIPPED_ADAPTER_DIR), "example: e5-products-contrastive (trained by LoRA Lens on examples/)"
    return None


def extra_examples() -> list[tuple[str, str, str]]:
    """(name, path, label) of the further shipped examples every session may pick."""
    if (REPORT_ADAPTER_DIR / CONFIG_NAME).is_file():
        return [("example_tsdae", str(REPORT_ADAPTER_DIR),
                 "example: e5-products-tsdae (the report's TSDAE method, trained by LoRA Lens on examples/)")]
    return []


def find_adapter_folder(root: Path) -> Path:
    """The folder under `root` holding adapter_config.json; the shallowest one wins.

    Hub repos often hold the adapter at the top and again in a sub-folder; zips often
    wrap it in one extra folder. Two different adapters at the same depth are ambiguous.
    """
    found = [p.parent for p in root.rglob(CONFIG_NAME) if "__MACOSX" not in p.parts]
    if not found:
        raise AdapterError(f"no {CONFIG_NAME} found: this is not a PEFT adapter")
    depth = min(len(p.relative_to(root).parts) for p in found)
    top = [p for p in found if len(p.relative_to(root).parts) == depth]
    if len(top) > 1:
        names = ", ".join(sorted(str(p.relative_to(root)) for p in top))
        raise AdapterError(f"several adapters found ({names}): upload one at a time")
    return top[0]


def _safe_member_path(name: str) -> PurePosixPath:
    """The member's relative path, or AdapterError if it could land outside the folder."""
    norm = name.replace("\\", "/")
    path = PurePosixPath(norm)
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or path.is_absolute():
        raise AdapterError(f"zip entry {name!r} has an absolute path: refused")
    if ".." in path.parts:
        raise AdapterError(f"zip entry {name!r} points outside the folder: refused")
    return path


def _extract_zip(upload: Path, dest: Path) -> None:
    """Extract with every check done before and during writing, counting real bytes."""
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError) as exc:
        raise AdapterError(f"{upload.name} is not a readable zip file") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise AdapterError(f"zip has {len(members)} entries; at most {MAX_ZIP_MEMBERS} allowed")
        declared = sum(m.file_size for m in members)
        if declared > MAX_UNPACKED_BYTES:
            raise AdapterError(f"zip unpacks to {declared / 2**20:.0f} MB; limit is {MAX_UNPACKED_BYTES // 2**20} MB")
        plan = []
        for m in members:
            rel = _safe_member_path(m.filename)
            if stat.S_ISLNK(m.external_attr >> 16):
                raise AdapterError(f"zip entry {m.filename!r} is a symbolic link: refused")
            if m.flag_bits & 0x1:
                raise AdapterError(f"zip entry {m.filename!r} is encrypted: refused")
            plan.append((m, rel))
        written = 0
        for m, rel in plan:
            target = dest.joinpath(*rel.parts)
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(m) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > MAX_UNPACKED_BYTES:  # headers can lie about sizes
                            raise AdapterError(f"zip unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB: refused")
                        out.write(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                # corrupt data, a lying size header (CRC check fails) or an exotic method
                raise AdapterError(f"zip entry {m.filename!r} is damaged or uses an unsupported "
                                   f"compression: refused ({exc})") from exc


def unpack_adapter(upload: Path, work_dir: Path) -> Path:
    """The adapter folder inside an uploaded folder or .zip (extracted into `work_dir`)."""
    upload = Path(upload)
    if upload.is_dir():
        return find_adapter_folder(upload)
    if not upload.is_file():
        raise AdapterError(f"{upload} does not exist")
    if upload.suffix.lower() != ".zip" and not zipfile.is_zipfile(upload):
        raise AdapterError("upload the adapter as a .zip of its folder (adapter_config.json + adapter_model.safetensors)")
    work_dir.mkdir(parents=True, exist_ok=True)
    dest = Path(tempfile.mkdtemp(prefix="adapter-", dir=work_dir))
    try:
        _extract_zip(upload, dest)
        return find_adapter_folder(dest)
    except Exception:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def fetch_hub_adapter(repo_id: str, cache: Path | None = None) -> Path:
    """Download only the safetensors adapter files of a Hub repo; never any pickle."""
    if not HUB_ID_RE.match(repo_id):
        raise AdapterError(f"{repo_id!r} is neither an adapter folder nor a Hub id like owner/name")
    from huggingface_hub import snapshot_download

    try:
        local = snapshot_download(
            repo_id, cache_dir=str(cache) if cache else None,
            allow_patterns=[f"*{CONFIG_NAME}", f"*{WEIGHTS_NAME}"],
        )
    except Exception as exc:  # offline, missing repo, gated repo, 5xx, stall: one clear message
        reason = classify(exc).reason
        raise AdapterError(f"could not download adapter {repo_id} from the Hub ({reason}; "
                           f"{type(exc).__name__})", "hub_failed", model=repo_id, reason=reason) from exc
    return find_adapter_folder(Path(local))


def _read_config(d: Path) -> dict:
    """adapter_config.json as a dict, with size and syntax checked."""
    cfg_path = d / CONFIG_NAME
    if cfg_path.stat().st_size > MAX_CONFIG_BYTES:
        raise AdapterError(f"{CONFIG_NAME} is too large to be an adapter config")
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdapterError(f"{CONFIG_NAME} is not valid JSON") from exc
    if not isinstance(cfg, dict):
        raise AdapterError(f"{CONFIG_NAME} must hold a JSON object")
    return cfg


def _check_config(cfg: dict) -> tuple[int, float, tuple[str, ...], dict]:
    """r, alpha, target modules and rank pattern of a plain LoRA config, or AdapterError."""
    if cfg.get("trust_remote_code"):
        raise AdapterError("adapter config asks for trust_remote_code: refused")
    peft_type = str(cfg.get("peft_type", "")).upper()
    if peft_type != "LORA":
        raise AdapterError(f"only LoRA adapters are supported, this one is {peft_type or 'of unknown type'}")
    for option in REFUSED_OPTIONS:
        if cfg.get(option):
            raise AdapterError(f"adapter option {option!r} is not supported")
    r = cfg.get("r")
    if not isinstance(r, int) or isinstance(r, bool) or r <= 0:
        raise AdapterError(f"adapter rank r must be a positive integer, got {r!r}")
    alpha = cfg.get("lora_alpha", 8)
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or alpha <= 0:
        raise AdapterError(f"lora_alpha must be a positive number, got {alpha!r}")
    targets = cfg.get("target_modules")
    if isinstance(targets, str):
        targets = [targets]
    if not targets or not all(isinstance(t, str) for t in targets):
        raise AdapterError("adapter config names no target_modules")
    pattern = cfg.get("rank_pattern") or {}
    if not isinstance(pattern, dict) or not all(isinstance(v, int) and v > 0 for v in pattern.values()):
        raise AdapterError("rank_pattern must map module names to positive ranks")
    return r, float(alpha), tuple(sorted(targets)), pattern


def _check_weights(path: Path, ranks: set[int]) -> tuple[dict[str, tuple[int, ...]], int]:
    """Tensor shapes from the safetensors header, checked against the config's ranks."""
    try:
        with safe_open(str(path), framework="pt") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as exc:
        raise AdapterError(f"{WEIGHTS_NAME} is not a valid safetensors file") from exc
    lora = {k: s for k, s in shapes.items() if ".lora_A." in k or ".lora_B." in k}
    if not lora:
        raise AdapterError(f"{WEIGHTS_NAME} holds no LoRA weights")
    for key, shape in lora.items():
        rank = shape[0] if ".lora_A." in key else (shape[1] if len(shape) > 1 else -1)
        if rank not in ranks:
            raise AdapterError(f"weight {key} has rank {rank}, but the config says r={sorted(ranks)}")
    return shapes, path.stat().st_size


def check_adapter_dir(d: Path) -> dict:
    """Vet an adapter folder without loading it; returns its facts or raises AdapterError.

    Keys: r, alpha, target_modules, base_model, shapes (tensor name -> shape), size_bytes,
    ignored (pickle files present next to the safetensors weights, never read).
    """
    d = Path(d)
    if not d.is_dir():
        raise AdapterError(f"{d} is not a folder")
    if not (d / CONFIG_NAME).is_file():
        raise AdapterError(f"{CONFIG_NAME} is missing: this is not a PEFT adapter")
    pickles = sorted(p.name for p in d.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    weights = d / WEIGHTS_NAME
    if not weights.is_file():
        if pickles:
            raise AdapterError(
                f"{pickles[0]} is a pickle file, which can run code when loaded; only "
                f"{WEIGHTS_NAME} is accepted (re-save the adapter with safe_serialization=True)"
            )
        raise AdapterError(f"{WEIGHTS_NAME} is missing")
    if weights.is_symlink() and not weights.resolve().is_file():
        raise AdapterError(f"{WEIGHTS_NAME} is a broken link")
    cfg = _read_config(d)
    r, alpha, targets, pattern = _check_config(cfg)
    shapes, size = _check_weights(weights, {r, *pattern.values()})
    return {
        "r": r, "alpha": alpha, "target_modules": targets,
        "base_model": str(cfg.get("base_model_name_or_path") or "unknown"),
        "shapes": shapes, "size_bytes": size, "ignored": pickles,
    }
