"""``mile-meta priors`` on the bundled example."""

from __future__ import annotations

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
    names = runpy.run_path(str(module))
    assert len(names["STARTING_POINTS"]) == 3 and names["DIRECTION"] == "maximize"
    assert names["PRIOR"].starting_configurations == prior.starting_configurations


def test_priors_bad_input_is_one_line(corpus_kb_path: Path) -> None:
    result = _run(["priors", str(EXAMPLE), "--target", "klass", "--kb", str(corpus_kb_path)])
    assert result.exit_code == 2
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
    assert result.exit_code == 2 and "does not exist; create it" in result.output
    assert not missing.parent.exists()


def test_priors_and_serve_have_help_with_an_example() -> None:
    for name in ("priors", "serve"):
        result = _run([name, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output
