"""Fitted models people can deploy: saved with their provenance, loaded only where they fit.

``mile-meta search --out DIR`` writes ``model.joblib`` (the fitted scikit-learn pipeline),
``spec.json`` (the pipeline as data, enough to rebuild it unfitted) and ``search.json``. Both
JSON files carry an ``environment`` block: the versions of Python, mile-meta and of every
library whose code the pickled pipeline refers to (found by walking the pickle, so a LightGBM
or XGBoost step brings its library in), plus numpy/scipy/joblib/scikit-learn always.

    from mile_meta.deploy import load_model, rebuild_pipeline
    model = load_model("out/")              # refuses under other library versions
    pipeline = rebuild_pipeline("out/spec.json")   # unfitted; fit it on your data

Unpickling a scikit-learn model under other versions can fail or, worse, predict
differently without a word, so :func:`load_model` compares the recorded versions *before*
unpickling: a different major or minor version of Python or of any recorded library is
refused (``on_mismatch="warn"`` or ``"ignore"`` loads it anyway); a patch-level difference
only warns. The pickle names classes by public module paths (:mod:`mile_meta.estimators`).
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import pickle
import platform
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mile_meta import __version__
from mile_meta.errors import ModelError

__all__ = [
    "MODEL_FILE",
    "SPEC_FILE",
    "Environment",
    "check_environment",
    "current_environment",
    "environment_of",
    "load_model",
    "read_spec",
    "rebuild_pipeline",
    "save_model",
]

MODEL_FILE = "model.joblib"
SPEC_FILE = "spec.json"
# recorded for every model: the stack scikit-learn pipelines run on
_ALWAYS = ("scikit-learn", "numpy", "scipy", "joblib", "pandas")


@dataclass(frozen=True)
class Environment:
    """Versions a model was fitted under: Python, mile-meta, and library name -> version."""

    python: str
    mile_meta: str
    libraries: Mapping[str, str]
    platform: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "python": self.python,
            "mile_meta": self.mile_meta,
            "libraries": dict(sorted(self.libraries.items())),
            "platform": self.platform,
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Environment:
        return cls(
            python=str(payload["python"]),
            mile_meta=str(payload["mile_meta"]),
            libraries={str(k): str(v) for k, v in dict(payload.get("libraries", {})).items()},
            platform=str(payload.get("platform", "")),
        )


def current_environment(libraries: Mapping[str, str] | None = None) -> Environment:
    """This interpreter's versions (of ``libraries`` when given, else the always-recorded)."""
    names = list(libraries) if libraries is not None else list(_ALWAYS)
    found = {name: version for name in names if (version := _version(name)) is not None}
    return Environment(
        python=platform.python_version(),
        mile_meta=__version__,
        libraries=found,
        platform=f"{platform.system()}-{platform.machine()}",
    )


def environment_of(estimator: Any) -> Environment:
    """The environment to record for ``estimator``: every distribution its pickle refers to."""
    import mile_meta.estimators  # noqa: F401  (public pickle paths for mile-meta's classes)

    modules = _pickled_modules(estimator)
    distributions = importlib.metadata.packages_distributions()
    names = set(_ALWAYS)
    for module in modules:
        top = module.split(".")[0]
        if top in ("builtins", "copyreg", "_codecs", "collections", "functools", "mile_meta"):
            continue
        names.update(distributions.get(top, []))
    names.discard("mile-meta")
    return current_environment({name: "" for name in sorted(names)})


def _pickled_modules(estimator: Any) -> set[str]:
    """Modules of the classes and functions a pickle of ``estimator`` refers to."""
    modules: set[str] = set()

    class _Recorder(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, type) or (callable(obj) and hasattr(obj, "__qualname__")):
                modules.add(getattr(obj, "__module__", None) or "")
            else:
                modules.add(type(obj).__module__)
            return NotImplemented

    class _Discard(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, data: Any) -> int:
            # protocol 5 hands large arrays over as PickleBuffer, which has no len()
            return memoryview(data).nbytes

    _Recorder(_Discard(), protocol=pickle.HIGHEST_PROTOCOL).dump(estimator)
    return {module for module in modules if module}


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


# -- saving ---------------------------------------------------------------------------------------
def save_model(
    estimator: Any,
    folder: str | Path,
    spec: Mapping[str, Any],
    *,
    environment: Environment | None = None,
    write_text: Any = None,
    write_file: Any = None,
) -> dict[str, Path]:
    """Write ``model.joblib`` and ``spec.json`` (``spec`` plus the environment) into ``folder``.

    ``spec`` holds at least ``"spec"`` (a :class:`~mile_meta.pipelines.PipelineSpec` as a
    dict); ``random_state`` and ``feature_columns`` are added when missing, so the JSON alone
    rebuilds the pipeline. ``write_text(path, text)`` and ``write_file(path, writer)`` let a
    caller write atomically; plain writes are used otherwise. ``environment`` is computed
    from the estimator when not given. Returns the files' paths.
    """
    import joblib

    if environment is None:
        environment = environment_of(estimator)
    target = Path(folder).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    record = dict(spec)
    record.setdefault("random_state", _random_state(estimator))
    columns = getattr(estimator, "feature_names_in_", None)
    if columns is not None:
        record.setdefault("feature_columns", [str(column) for column in columns])
    record["environment"] = environment.to_dict()
    record["format"] = {"model": "joblib pickle of a fitted scikit-learn Pipeline", "version": 1}

    def dump(path: Path) -> None:
        joblib.dump(estimator, path)

    model_path = target / MODEL_FILE
    spec_path = target / SPEC_FILE
    text = json.dumps(record, indent=2, default=str, allow_nan=False)
    if write_file is not None:
        write_file(model_path, dump)
    else:
        dump(model_path)
    if write_text is not None:
        write_text(spec_path, text)
    else:
        spec_path.write_text(text, encoding="utf-8")
    return {"model": model_path, "spec": spec_path}


def _random_state(estimator: Any) -> int | None:
    try:
        params = estimator.get_params(deep=True)
    except Exception:  # not a scikit-learn estimator
        return None
    states = {value for key, value in params.items() if key.endswith("random_state")}
    states.discard(None)
    return next(iter(states)) if len(states) == 1 and isinstance(next(iter(states)), int) else None


# -- loading --------------------------------------------------------------------------------------
def read_spec(folder_or_file: str | Path) -> dict[str, Any]:
    """The ``spec.json`` of a saved model (its folder or the file itself)."""
    path = Path(folder_or_file).expanduser()
    if path.is_dir():
        path = path / SPEC_FILE
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{path} not found; pass the folder `mile-meta search --out` wrote"
        ) from None
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read {path} ({error}); it is not a saved model's spec") from None
    if not isinstance(payload, dict) or "spec" not in payload:
        raise ModelError(f"{path} holds no pipeline spec; it is not a saved model's spec.json")
    return payload


def check_environment(recorded: Environment | Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Differences between ``recorded`` and this interpreter: (major/minor, patch-level)."""
    saved = recorded if isinstance(recorded, Environment) else Environment.from_dict(recorded)
    serious: list[str] = []
    minor: list[str] = []
    pairs: list[tuple[str, str, str | None]] = [("Python", saved.python, platform.python_version())]
    pairs += [("mile-meta", saved.mile_meta, __version__)]
    pairs += [(name, version, _version(name)) for name, version in saved.libraries.items()]
    for name, then, now in pairs:
        if now is None:
            serious.append(f"{name} {then} is not installed")
        elif then != now:
            (serious if _release(then)[:2] != _release(now)[:2] else minor).append(
                f"{name} {then} (saved) vs {now} (here)"
            )
    return serious, minor


def _release(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for part in version.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if not part.isdigit():
            break
    return tuple(parts)


def load_model(
    folder: str | Path, *, on_mismatch: Literal["error", "warn", "ignore"] = "error"
) -> Any:
    """The fitted pipeline saved in ``folder``, after checking it fits this environment.

    A model saved under a different major/minor version of Python or of a recorded library
    raises :class:`~mile_meta.errors.ModelError` naming each difference (``on_mismatch``
    ``"warn"`` or ``"ignore"`` loads it anyway, at your own risk); patch-level differences
    warn. A folder without an environment record (an older mile-meta) warns.
    """
    import joblib

    target = Path(folder).expanduser()
    spec = read_spec(target)
    model_path = (target if target.is_dir() else target.parent) / MODEL_FILE
    if not model_path.is_file():
        raise ModelError(f"{model_path} not found; the search saved no model (did any finish?)")
    recorded = spec.get("environment")
    if recorded is None:
        warnings.warn(
            f"{target} records no library versions (saved by an older mile-meta); "
            "check it predicts as expected",
            stacklevel=2,
        )
    else:
        serious, minor = check_environment(recorded)
        if serious and on_mismatch == "error":
            raise ModelError(
                f"{model_path} was saved under other versions ({'; '.join(serious)}); install "
                "those versions, refit with rebuild_pipeline(spec.json), or pass "
                "on_mismatch='warn' to load it anyway"
            )
        if (serious or minor) and on_mismatch != "ignore":
            warnings.warn(
                f"{model_path} was saved under other versions: {'; '.join(serious + minor)}",
                stacklevel=2,
            )
    import mile_meta.estimators  # noqa: F401  (the public names the pickle refers to)

    try:
        return joblib.load(model_path)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError) as error:
        raise ModelError(f"cannot load {model_path} ({error}); refit it from spec.json") from None


def rebuild_pipeline(spec: str | Path | Mapping[str, Any]) -> Any:
    """The unfitted scikit-learn pipeline a ``spec.json`` (file, folder or dict) describes."""
    from mile_meta.pipelines import PipelineSpec, build_pipeline

    payload = read_spec(spec) if isinstance(spec, str | Path) else dict(spec)
    try:
        pipeline_spec = PipelineSpec.from_dict(payload["spec"])
    except (KeyError, TypeError, ValueError) as error:
        raise ModelError(f"the spec does not describe a pipeline ({error})") from None
    random_state = payload.get("random_state")
    return build_pipeline(
        pipeline_spec, random_state=random_state if random_state is not None else 0
    )
