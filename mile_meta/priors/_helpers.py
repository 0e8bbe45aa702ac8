"""Apply the prior in one call: ``for_optuna(study, X, y)``, ``for_flaml(X, y)``, ...

Each helper builds the prior for (X, y) from the knowledge base (``kb``: a
:class:`~mile_meta.kb.KnowledgeBase`, a path, or None for the default one), exports it for the
tool and returns the exported prior (``for_flaml`` returns the ``AutoML.fit`` keyword
arguments).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mile_meta.errors import MileMetaError
from mile_meta.priors._prior import Prior, build_prior

if TYPE_CHECKING:
    import optuna

    from mile_meta.kb import KnowledgeBase
    from mile_meta.priors._configspace import ConfigSpacePrior
    from mile_meta.priors._hyperopt import HyperoptPrior
    from mile_meta.priors._optuna import OptunaPrior

__all__ = ["for_configspace", "for_flaml", "for_hyperopt", "for_optuna", "prior_for"]


def prior_for(
    X: pd.DataFrame,
    y: pd.Series | Sequence[Any],
    *,
    kb: KnowledgeBase | str | Path | None = None,
    metric: str | None = None,
    top: int = 10,
    task_type: str | None = None,
    exclude_datasets: Sequence[str | int] = (),
) -> Prior:
    """The prior for features ``X`` (a frame) and target ``y``."""
    from mile_meta.kb import KnowledgeBase

    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(X)
        X.columns = [f"x{i}" for i in range(X.shape[1])]
    target = pd.Series(y).reset_index(drop=True)
    if len(target) != len(X):
        raise MileMetaError(f"X has {len(X)} rows but y has {len(target)}; pass matching rows")
    name = str(target.name) if target.name is not None else "target"
    while name in X.columns:
        name = f"_{name}"
    frame = X.reset_index(drop=True).assign(**{name: target.to_numpy()})
    if isinstance(kb, KnowledgeBase) or kb is None:
        return build_prior(
            frame,
            name,
            kb=kb,
            metric=metric,
            top=top,
            task_type=task_type,
            exclude_datasets=exclude_datasets,
        )
    with KnowledgeBase.open(kb, must_exist=True) as opened:
        return build_prior(
            frame,
            name,
            kb=opened,
            metric=metric,
            top=top,
            task_type=task_type,
            exclude_datasets=exclude_datasets,
        )


def for_optuna(
    study: optuna.Study,
    X: pd.DataFrame,
    y: pd.Series | Sequence[Any],
    *,
    use_prior_sampler: bool = False,
    n_prior_trials: int = 20,
    seed: int | None = None,
    **prior_options: Any,
) -> OptunaPrior:
    """Enqueue the starting configurations into ``study`` and return the Optuna export.

    Use ``exported.suggest(trial)`` in your objective (or ``exported.objective(X, y)``).
    ``use_prior_sampler`` replaces the study's sampler with :class:`PriorSampler` (prior for
    the first ``n_prior_trials`` trials, then the study's former sampler).
    """
    from mile_meta.priors._optuna import OptunaExporter

    prior = prior_for(X, y, **prior_options)
    exported = OptunaExporter().export(prior)
    wanted = exported.direction
    actual = study.direction.name.lower()
    if actual != wanted:
        raise MileMetaError(
            f"the study is set to {actual} but {prior.metric} should be {wanted}d; create it "
            f"with optuna.create_study(direction={wanted!r})"
        )
    if use_prior_sampler:
        study.sampler = exported.sampler(
            n_prior_trials=n_prior_trials, seed=seed, after=study.sampler
        )
    exported.enqueue(study)
    return exported


def for_flaml(
    X: pd.DataFrame,
    y: pd.Series | Sequence[Any],
    *,
    automl: Any = None,
    **prior_options: Any,
) -> dict[str, Any]:
    """Keyword arguments for ``automl.fit(X, y, task=..., time_budget=..., **kwargs)``.

    With ``automl`` (a ``flaml.AutoML``) the learners FLAML lacks are registered with it
    (``AutoML.add_learner``) and searched too; without, only FLAML's built-in learners are
    listed. ``task`` is yours to pass, so the keywords never clash with it.
    """
    from mile_meta.priors._flaml import FlamlExporter

    exported = FlamlExporter().export(prior_for(X, y, **prior_options))
    if automl is None:
        return exported.fit_kwargs(custom_learners=False)
    exported.add_learners(automl)
    return exported.fit_kwargs()


def for_hyperopt(
    X: pd.DataFrame, y: pd.Series | Sequence[Any], **prior_options: Any
) -> HyperoptPrior:
    """The hyperopt export: ``.space``, ``.trials()`` (starting configurations queued),
    ``.objective(X, y)``."""
    from mile_meta.priors._hyperopt import HyperoptExporter

    return HyperoptExporter().export(prior_for(X, y, **prior_options))


def for_configspace(
    X: pd.DataFrame, y: pd.Series | Sequence[Any], **prior_options: Any
) -> ConfigSpacePrior:
    """The ConfigSpace export: ``.configuration_space`` and ``.starting_configurations``."""
    from mile_meta.priors._configspace import ConfigSpaceExporter

    return ConfigSpaceExporter().export(prior_for(X, y, **prior_options))
