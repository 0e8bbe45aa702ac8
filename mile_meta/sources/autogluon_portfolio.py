"""AutoGluon-Tabular 1.4.0's zero-shot portfolio (``zeroshot_portfolio_2023``), ranked.

Raw file (in the ``autogluon.tabular`` wheel): ``autogluon/tabular/configs/zeroshot/
zeroshot_portfolio_2023.py``, one dict literal ``hyperparameter_portfolio_zeroshot_2023``
mapping a model key (GBM, CAT, XGB, RF, XT, NN_TORCH, FASTAI) to its 110 configurations,
learned on TabRepo (200 datasets) by greedy zero-shot selection. The file is read as text
and parsed with :mod:`ast` (AutoGluon is never imported). AutoGluon fits the configurations
in decreasing ``ag_args.priority``: the model defaults first (each model class's
``ag_priority``, read the same way from ``models/*/*_model.py``), then the learned ones
by their greedy order (priority -1, -2, ...). That fit order, per task type (some
configurations apply to classification or regression only), is the rank stored.

The snapshot (``corpora/autogluon_portfolio/``) keeps the dict and the priorities as JSON.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from mile_meta.corpora import default_snapshot_dir, write_gzip
from mile_meta.errors import CorpusError
from mile_meta.pipelines.translate.autogluon import translate_autogluon
from mile_meta.records import SourceInfo
from mile_meta.sources._base import sha256_of, snapshot_source_info
from mile_meta.sources._portfolio import PortfolioSlot, PortfolioSource, read_gzip_json

__all__ = ["AutoGluonPortfolioSource", "autogluon_fit_order", "write_autogluon_snapshot"]

SOURCE_NAME = "autogluon_portfolio"
PORTFOLIO_NAME = "zeroshot_2023"
_PORTFOLIO_FILE = "autogluon/tabular/configs/zeroshot/zeroshot_portfolio_2023.py"
_PORTFOLIO_VARIABLE = "hyperparameter_portfolio_zeroshot_2023"
_MODEL_FILES = (
    "lgb/lgb_model.py",
    "catboost/catboost_model.py",
    "xgboost/xgboost_model.py",
    "rf/rf_model.py",
    "xt/xt_model.py",
    "tabular_nn/torch/tabular_nn_torch.py",
    "fastainn/tabular_nn_fastai.py",
)
_SNAPSHOT_FILE = "zeroshot_portfolio_2023.json.gz"
TASK_TYPES = ("binary", "multiclass", "regression")


def _model_priorities(source: str) -> dict[str, dict[str, int]]:
    """``{ag_key: {"default": ag_priority, <problem type>: priority}}`` of the model classes."""
    found: dict[str, dict[str, int]] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        values: dict[str, object] = {}
        for statement in node.body:
            if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
                values[statement.targets[0].id] = statement.value
        key, priority = values.get("ag_key"), values.get("ag_priority")
        if not isinstance(key, ast.Constant) or not isinstance(priority, ast.Constant):
            continue
        priorities = {"default": int(str(priority.value))}
        by_type = values.get("ag_priority_by_problem_type")
        if isinstance(by_type, ast.Call) and by_type.args and isinstance(by_type.args[0], ast.Dict):
            for name, value in zip(by_type.args[0].keys, by_type.args[0].values, strict=True):
                if isinstance(name, ast.Name) and isinstance(value, ast.Constant):
                    priorities[name.id.lower()] = int(str(value.value))
        found[str(key.value)] = priorities
    return found


def write_autogluon_snapshot(unpacked: Path, out: Path) -> dict[str, str]:
    """Parse the portfolio and the model priorities; returns original file -> sha256."""
    portfolio_path = unpacked / _PORTFOLIO_FILE
    originals = {_PORTFOLIO_FILE: sha256_of(portfolio_path)}
    portfolio = None
    for node in ast.parse(portfolio_path.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == _PORTFOLIO_VARIABLE
        ):
            portfolio = ast.literal_eval(node.value)
    if not isinstance(portfolio, dict):
        raise CorpusError(f"{portfolio_path} has no {_PORTFOLIO_VARIABLE} dict literal")
    priorities: dict[str, dict[str, int]] = {}
    for relative in _MODEL_FILES:
        path = unpacked / "autogluon" / "tabular" / "models" / relative
        originals[f"autogluon/tabular/models/{relative}"] = sha256_of(path)
        priorities.update(_model_priorities(path.read_text()))
    missing = sorted(set(portfolio) - set(priorities))
    if missing:
        raise CorpusError(f"no fit priority found for AutoGluon models {', '.join(missing)}")
    payload = {"portfolio": portfolio, "priorities": priorities}
    write_gzip(out / _SNAPSHOT_FILE, json.dumps(payload, sort_keys=True, indent=1).encode())
    return originals


def autogluon_fit_order(
    portfolio: dict[str, list[dict[str, object]]],
    priorities: dict[str, dict[str, int]],
    task_type: str,
) -> list[tuple[str, dict[str, object]]]:
    """(model key, configuration) in the order AutoGluon fits them for ``task_type``.

    Higher ``priority`` first (a configuration's own ``ag_args.priority``, else its model's
    priority for the task type); ties keep the file's order, as AutoGluon's sort does.
    """
    entries = []
    for model_key, configurations in portfolio.items():
        default = priorities[model_key]
        model_priority = default.get(task_type, default["default"])
        for configuration in configurations:
            ag_args = configuration.get("ag_args") or {}
            assert isinstance(ag_args, dict)
            problem_types = ag_args.get("problem_types")
            if problem_types is not None and task_type not in problem_types:
                continue
            priority = int(ag_args.get("priority", model_priority))
            entries.append((priority, model_key, configuration))
    entries.sort(key=lambda entry: -entry[0])  # stable: file order within a priority
    return [(model_key, configuration) for _, model_key, configuration in entries]


def _origin_key(model_key: str, configuration: dict[str, object], task_type: str) -> str:
    ag_args = configuration.get("ag_args") or {}
    suffix = str(ag_args.get("name_suffix", "")) if isinstance(ag_args, dict) else ""
    kind = "regressor" if task_type == "regression" else "classifier"
    return f"{model_key}{suffix}/{kind}"


class AutoGluonPortfolioSource(PortfolioSource):
    """AutoGluon's zero-shot portfolio: one ranked list per task type (binary, multiclass,
    regression), 110 configurations of which the GBM, CAT, XGB, RF and XT ones translate."""

    name = SOURCE_NAME
    procedure = "AutoGluon fit order: model defaults, then TabRepo zero-shot greedy order"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_snapshot_dir() / SOURCE_NAME

    def info(self) -> SourceInfo:
        return snapshot_source_info(self.name, self.folder, (_SNAPSHOT_FILE,))

    def estimated_records(self) -> int:
        return 3 * 110 + 200

    def _payload(self) -> tuple[dict[str, list[dict[str, object]]], dict[str, dict[str, int]]]:
        payload = read_gzip_json(self.folder / _SNAPSHOT_FILE, "AutoGluon portfolio")
        if not isinstance(payload, dict) or not {"portfolio", "priorities"} <= set(payload):
            raise CorpusError(
                f"{self.folder / _SNAPSHOT_FILE} lacks the portfolio or the priorities; "
                "rebuild the snapshot with `mile-meta corpora fetch`"
            )
        return payload["portfolio"], payload["priorities"]

    def slots(self) -> list[PortfolioSlot]:
        """Every (task type, position) of the portfolio with its translation."""
        portfolio, priorities = self._payload()
        slots = []
        for task_type in TASK_TYPES:
            ordered = autogluon_fit_order(portfolio, priorities, task_type)
            for rank, (model_key, configuration) in enumerate(ordered, start=1):
                origin = _origin_key(model_key, configuration, task_type)
                raw = json.dumps(
                    {"model": model_key, "hyperparameters": configuration},
                    sort_keys=True,
                    separators=(",", ":"),
                )
                slots.append(
                    PortfolioSlot(
                        f"{PORTFOLIO_NAME}/{task_type}",
                        task_type,
                        rank,
                        origin,
                        translate_autogluon(model_key, configuration, task_type, origin),
                        raw,
                        model_key.lower(),
                    )
                )
        return slots
