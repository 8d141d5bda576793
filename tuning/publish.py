"""Hand a trained adapter to the user: a zip to download, or a push to the Hub.

Why separate from training: both are user actions on a finished adapter folder, and both
must fail with a clear sentence (no Hub here, bad token, bad repo name) instead of a
traceback.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from comparison.basics import HUB_ID_RE, atomic_output
from comparison.hub import hub_reachable

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "README.md",
                 "training_log.json")


class PublishError(ValueError):
    """A download or Hub push that cannot be done, with the reason in plain words."""


def zip_adapter(adapter_dir: Path, dest: Path) -> Path:
    """Zip the adapter's own files (flat, no paths from outside the folder) into `dest`."""
    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / "adapter_model.safetensors").exists():
        raise PublishError("No trained adapter to download yet.")
    with atomic_output(dest) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ADAPTER_FILES:
            if (adapter_dir / name).is_file():
                zf.write(adapter_dir / name, arcname=name)
    return dest


def push_to_hub(adapter_dir: Path, repo_id: str, token: str, private: bool = True) -> str:
    """Create (or reuse) `repo_id` and upload the adapter; returns the repo URL."""
    repo_id = (repo_id or "").strip()
    if not HUB_ID_RE.match(repo_id):
        raise PublishError("Repository must look like 'user/name' (letters, digits, . _ -).")
    if not (token or "").strip():
        raise PublishError("A Hugging Face token with write access is needed.")
    if not (Path(adapter_dir) / "adapter_model.safetensors").exists():
        raise PublishError("No trained adapter to push yet.")
    if not hub_reachable():
        raise PublishError("The Hugging Face Hub is not reachable from this machine; "
                           "download the zip and upload it yourself.")
    from huggingface_hub import HfApi

    api = HfApi(token=token.strip())
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(adapter_dir), repo_id=repo_id,
                          allow_patterns=list(ADAPTER_FILES),
                          commit_message="Upload LoRA adapter trained with LoRA Lens")
    except Exception as exc:  # network/auth errors from the Hub client, shown to the user
        raise PublishError(f"Hub push failed: {exc}") from exc
    return str(url)
