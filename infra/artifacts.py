"""Where `make build` puts each Lambda zip and how the Pulumi program finds it. No Pulumi import: the packager
uses this module too."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path


class MissingArtifactError(FileNotFoundError):
    pass


def zip_path(artifact_dir: Path, architecture: str, name: str) -> Path:
    """Zips are kept per architecture: a zip's compiled dependencies (pydantic-core) only load on one."""
    return artifact_dir / architecture / f"{name}.zip"


def source_code_hash(path: Path) -> str:
    """Base64 SHA-256 of the zip, the form Lambda reports as CodeSha256."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


@dataclass(frozen=True)
class Artifact:
    name: str
    path: Path
    sha256: str


def find(artifact_dir: Path, architecture: str, name: str) -> Artifact:
    path = zip_path(artifact_dir, architecture, name)
    if not path.is_file():
        raise MissingArtifactError(
            f"{path} is missing: run `make build` first (it writes one zip per function for each architecture)"
        )
    return Artifact(name=name, path=path, sha256=source_code_hash(path))
