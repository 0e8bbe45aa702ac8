"""``mile-meta priors`` on the bundled example."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

from click.testing import CliRunner
from prior_helpers import EXAMPLE

from mile_meta.cli import main
from mile_meta.priors import Prior


def _run(args: list[str]):
    return CliRunner().invoke(main, args)


def test_priors_json_and_optuna_module(corpus_kb_path: Path, tmp_path: Path) -> None:
    common = [
        str(EXAMPLE),
        "--target",
        "class",
        "--top",
        "3",
        "--exclude-dataset",
        "31",
        "--kb",
        str(corpus_kb_path),
    ]
    written = tmp_path / "prior.json"
    result = _run(["priors", *common, "--format", "json", "-o", str(written)])
    assert result.exit_code == 0, result.output
    prior = Prior.read(written)
    assert len(prior.starting_configurations) == 3
    assert "openml:31" in prior.provenance.excluded_datasets

    module = tmp_path / "prior_optuna.py"
    result = _run(["priors", *common, "--format", "optuna", "-o", str(module)])
    assert result.exit_code == 0, result.output
    names = runpy.run_path(str(module), run_name="prior_optuna")
    assert len(names["STARTING_POINTS"]) == 3 and names["DIRECTION"] == "maximize"
    assert [names["EXPORTED"].split(point) for point in names["STARTING_POINTS"]] == [
        (s.estimator, s.config) for s in prior.starting_configurations
    ]
    assert "import mile_meta" not in module.read_text()


def test_priors_json_summary_and_configspace_file(corpus_kb_path: Path, tmp_path: Path) -> None:
    from ConfigSpace import ConfigurationSpace

    written = tmp_path / "prior.json"
    result = CliRunner().invoke(
        main,
        [
            "priors",
            str(EXAMPLE),
            "--target",
            "class",
            "--top",
            "2",
            "--exclude-dataset",
            "31",
            "--format",
            "configspace",
            "-o",
            str(written),
            "--json",
            "--kb",
            str(corpus_kb_path),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["format"] == "configspace" and summary["output"] == str(written)
    assert summary["metric"] == "balanced_accuracy" and summary["higher_is_better"] is True
    assert len(summary["starting_configurations"]) == 2 and summary["content"] is None
    assert abs(sum(summary["family_weights"].values()) - 1) < 1e-9
    assert any(line.startswith("SMAC:") for line in summary["report"])
    assert result.stderr == ""
    space = ConfigurationSpace.from_json(written)  # ConfigSpace's own JSON
    assert "estimator" in space
    document = json.loads(written.read_text())
    assert [s["estimator"] for s in document["starting_configurations"]] == [
        s["estimator"] for s in summary["starting_configurations"]
    ]


def test_priors_bad_input_is_one_line(corpus_kb_path: Path) -> None:
    result = _run(["priors", str(EXAMPLE), "--target", "klass", "--kb", str(corpus_kb_path)])
    assert result.exit_code in (1, 2)  # issue 15 moves runtime errors to 1
    assert "target column 'klass' not found" in result.output
    result = _run(["priors", str(EXAMPLE), "--target", "class", "--format", "smac"])
    assert result.exit_code == 2 and "Invalid value for '--format'" in result.output
    missing = Path(corpus_kb_path).parent / "no-such-folder" / "prior.py"
    result = _run(
        [
            "priors",
            str(EXAMPLE),
            "--target",
            "class",
            "-o",
            str(missing),
            "--kb",
            str(corpus_kb_path),
        ]
    )
    assert result.exit_code in (1, 2) and "does not exist; create it" in result.output
    assert not missing.parent.exists()


def test_priors_and_serve_have_help_with_an_example() -> None:
    for name in ("priors", "serve"):
        result = _run([name, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output
