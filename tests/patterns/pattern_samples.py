"""A valid pattern shared by the pattern tests (a plain module: conftest names collide)."""

from __future__ import annotations

from mile_meta.patterns import Pattern

GOOD_PATTERN = Pattern(
    name="check-the-folds",
    title="Check the folds",
    stages=("model validation",),
    autonomy=("user-driven", "cruise-control"),
    task="binary",
    data_type="tabular",
    data_size="small",
    tags=("cross-validation", "variance"),
    questions=("small_sample_reliability",),
    context="A table of 900 rows × 12 columns, 20 % positives, 10 minutes of compute.",
    problem="Scores jump between seeds.",
    forces="- More folds cost time.\n- Fewer folds are noisy.",
    goal="A stable estimate.",
    information_need="How much does the score vary at 900 rows? Which candidates overlap?",
    solution="1. Repeat stratified 5-fold CV 5 times.\n2. Report mean and spread.",
    result="Mean ± spread per candidate.",
    rationale="Repetition averages over the partition.",
    related_patterns=(
        "- [Repeated cross-validation for small datasets](repeated-cv-for-small-datasets.md)"
        " — the general case."
    ),
    known_uses="Common practice; useless below 50 rows.",
    author="Test Author",
)
