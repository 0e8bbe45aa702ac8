"""The files ``mile-meta priors -o`` writes work where mile-meta is not installed.

Every usage documented in docs/priors.md under a ``<!-- standalone: NAME -->`` marker is run
here as written (budgets scaled down) in a fresh Python process from which mile-meta is
removed: no ``sys.path`` entry holding it, no editable-install finder; the process asserts it
cannot import mile-meta before running the usage and that it never did afterwards. Each run
then checks what the tool did: the starting configurations ran first, the values lie in the
space.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from prior_helpers import EXAMPLE, REPO

from mile_meta.priors import Prior, exporter

DOCS = REPO / "docs" / "priors.md"
FILES = {
    "optuna": "prior_optuna.py",
    "hyperopt": "prior_hyperopt.py",
    "raytune": "prior_raytune.py",
    "flaml": "prior_flaml.py",
    "configspace": "prior.json",
}
N_STARTS = 3

# Runs first in every subprocess: take mile-meta away, and prove it is gone.
_BLOCK = """
import importlib.util, os, sys
sys.meta_path[:] = [
    finder for finder in sys.meta_path
    if "editable" not in str(getattr(finder, "__module__", "")) + type(finder).__module__
]
sys.path[:] = [p for p in sys.path if not os.path.isdir(os.path.join(p or ".", "mile_meta"))]
sys.path.insert(0, os.getcwd())
assert importlib.util.find_spec("mile_meta") is None, "mile_meta is still importable"
import pandas as pd
_frame = pd.read_csv({data!r}).sample(150, random_state=0).reset_index(drop=True)
X, y = _frame.drop(columns=["class"]), _frame["class"]
"""

_AFTER = """
assert "mile_meta" not in sys.modules, "mile_meta was imported"
print("STANDALONE-OK")
"""


def documented_usages() -> dict[str, str]:
    """NAME -> the Python block after ``<!-- standalone: NAME -->`` in docs/priors.md."""
    text = DOCS.read_text()
    found = re.findall(r"<!-- standalone: (\w+) -->\s*```python\n(.*?)```", text, re.S)
    return {name: code for name, code in found}


def _scaled(code: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in code, f"the documented usage no longer contains {old!r}"
        code = code.replace(old, new)
    return code


@pytest.fixture(scope="module")
def written(credit_prior: Prior, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the checkout holding every written file, for a 3-start prior."""
    prior = replace(
        credit_prior, starting_configurations=credit_prior.starting_configurations[:N_STARTS]
    )
    folder = tmp_path_factory.mktemp("standalone")
    for format_name, file_name in FILES.items():
        chosen = exporter(format_name)
        (folder / file_name).write_text(chosen.module_source(chosen.export(prior)))
    return folder


def run_standalone(folder: Path, code: str, timeout: float = 600) -> str:
    """Run ``code`` in ``folder`` in a Python without mile-meta; its standard output."""
    script = folder / "run_usage.py"
    script.write_text(_BLOCK.format(data=str(EXAMPLE)) + code + _AFTER)
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MILE_META_KB")}
    environment["RAY_DISABLE_USAGE_STATS"] = "1"
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "STANDALONE-OK" in result.stdout
    return result.stdout


def _starts(folder: Path) -> list[dict]:
    document = json.loads((folder / "prior.json").read_text())
    starts: list[dict] = document["starting_configurations"]
    return starts


# -- what the written files hold --------------------------------------------------------------


@pytest.mark.parametrize("format_name", ["optuna", "hyperopt", "raytune", "flaml"])
def test_written_modules_import_only_the_tool(written: Path, format_name: str) -> None:
    source = (written / FILES[format_name]).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    tool = {"raytune": {"ray", "optuna"}, "flaml": {"flaml"}}.get(format_name, {format_name})
    allowed = {"__future__", "json", "importlib", "inspect", "math", "collections", "typing"}
    allowed |= {"numpy", "sklearn"} | tool
    assert imported <= allowed, imported - allowed
    assert "mile_meta" not in imported
    assert "Usage:" in (ast.get_docstring(ast.parse(source)) or "")


def test_configspace_file_is_what_configspace_reads(credit_prior: Prior, written: Path) -> None:
    from ConfigSpace import ConfigurationSpace

    space = ConfigurationSpace.from_json(written / "prior.json")
    exported = exporter("configspace").export(
        replace(
            credit_prior, starting_configurations=credit_prior.starting_configurations[:N_STARTS]
        )
    )
    assert space == exported.configuration_space
    kinds = {type(hyperparameter).__name__ for hyperparameter in space.values()}
    assert {"NormalFloatHyperparameter", "CategoricalHyperparameter"} <= kinds
    assert space["estimator"].weights is not None
    starts = _starts(written)
    assert len(starts) == N_STARTS
    for start in starts:  # each starting configuration is a valid Configuration of the space
        from ConfigSpace import Configuration

        Configuration(space, values=start).check_valid_configuration()


# -- every documented usage, run for real without mile-meta ------------------------------------


def test_docs_name_every_standalone_usage() -> None:
    assert set(documented_usages()) == {"optuna", "hyperopt", "raytune", "flaml", "smac"}


def test_optuna_usage_runs_without_mile_meta(written: Path) -> None:
    code = _scaled(documented_usages()["optuna"], {"n_trials=50": "n_trials=5"})
    check = """
import json
starts = [t.params for t in study.trials[:3]]
assert starts == p.STARTING_POINTS, (starts, p.STARTING_POINTS)
assert len(study.trials) == 5 and all(t.value is not None for t in study.trials)
for t in study.trials:
    estimator, params = p.EXPORTED.split(t.params)
    for h in p.EXPORTED.estimators[estimator]["hyperparameters"]:
        v = params[h["parameter"]]
        assert (v in h["choices"]) if h["kind"] == "categorical" else h["low"] <= v <= h["high"]
print(json.dumps(study.best_params))
"""
    run_standalone(written, textwrap.dedent(code) + check)


def test_hyperopt_usage_runs_without_mile_meta(written: Path) -> None:
    code = _scaled(documented_usages()["hyperopt"], {"max_evals=50": "max_evals=5"})
    # record what fmin evaluates, through the module the usage imports
    record = """
import prior_hyperopt as _module
SEEN = []
_evaluate = _module.EXPORTED.evaluate
def _recording(point, *args, **kwargs):
    SEEN.append(dict(point))
    return _evaluate(point, *args, **kwargs)
_module.EXPORTED.evaluate = _recording
"""
    check = """
assert len(SEEN) >= 5, len(SEEN)  # hyperopt counts max_evals after the given points
for seen, start in zip(SEEN, p.STARTING_POINTS):
    assert p.EXPORTED.split(seen) == p.EXPORTED.split(start), (seen, start)
assert p.EXPORTED.split(point)[0] in p.EXPORTED.estimators
"""
    run_standalone(written, record + code + check)


def test_every_estimator_of_the_prior_fits_without_mile_meta(written: Path) -> None:
    # the library's own classes stand in for mile-meta's wrappers (XGBoost, CatBoost), and
    # XGBoost's classifier, which takes only 0..k-1, fits on the string labels
    code = """
import prior_optuna as p
assert not any(e["class"].startswith("mile_meta") for e in p.EXPORTED.estimators.values())
assert {"XGBClassifier", "CatBoostClassifier"} <= set(p.EXPORTED.estimators)
for name, entry in p.EXPORTED.estimators.items():
    point = {p.EXPORTED.key: name}
    point.update({h["name"]: h["default"] for h in entry["hyperparameters"]})
    predicted = p.EXPORTED.make_pipeline(point).fit(X, y).predict(X.head(20))
    assert set(predicted) <= set(y), (name, set(predicted))
"""
    run_standalone(written, code)


def test_flaml_usage_runs_every_learner_without_mile_meta(written: Path) -> None:
    code = _scaled(
        documented_usages()["flaml"],
        {
            "time_budget=60": "time_budget=120, max_iter=24, verbose=0, seed=0, log_file_name='flaml.log', log_type='all'"
        },
    )
    check = """
learners = p.FIT_KWARGS["estimator_list"]
custom = [name for name, entry in p.EXPORTED.learners.items() if entry["custom"]]
assert custom and set(custom) <= set(learners)
# every recommended configuration can run: each has a learner that starts from it
for start in p.STARTING_POINTS:
    estimator, params = p.EXPORTED.split(start)
    assert any(
        p.EXPORTED.point_of(learner, config) == start
        for learner, configs in p.FIT_KWARGS["starting_points"].items()
        for config in configs
    ), start
import json
tried = {}  # each learner's first trial, from FLAML's own log
for line in open("flaml.log"):
    record = json.loads(line)
    if "learner" in record:
        tried.setdefault(record["learner"], record["config"])
assert set(tried) & set(custom), tried  # an added learner ran
for learner, first in tried.items():  # each learner FLAML tried began at its starting point
    for expected in p.FIT_KWARGS["starting_points"].get(learner, [])[:1]:
        assert all(
            first[k] == v or (isinstance(v, float) and abs(first[k] - v) <= 1e-9 + 1e-9 * abs(v))
            for k, v in expected.items()
        ), (learner, first, expected)
assert point["estimator"] in p.EXPORTED.estimators
"""
    run_standalone(written, code + check)


def test_raytune_usage_runs_optuna_search_without_mile_meta(written: Path) -> None:
    code = _scaled(documented_usages()["raytune"], {"num_samples=50": "num_samples=4"})
    check = """
assert not results.errors, results.errors
configs = [r.config for r in results]
assert len(configs) == 4
for start in p.STARTING_POINTS:
    assert any(p.EXPORTED.split(c) == p.EXPORTED.split(start) for c in configs), start
ray.shutdown()
"""
    run_standalone(written, code + check)


def test_smac_usage_uses_the_prior_without_mile_meta(written: Path) -> None:
    code = _scaled(documented_usages()["smac"], {"n_trials=50": "n_trials=5"})
    check = """
assert isinstance(smac._acquisition_function, PriorAcquisitionFunction)
history = [dict(smac.runhistory.get_config(key.config_id)) for key in smac.runhistory]
assert len(history) == 5
for ran, start in zip(history, extra["starting_configurations"]):
    assert all(ran[k] == v or abs(ran[k] - v) < 1e-9 for k, v in start.items()), (ran, start)
"""
    run_standalone(written, code + check)
