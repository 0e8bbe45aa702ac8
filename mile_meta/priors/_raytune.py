"""Ray Tune: a search space (``param_space``) and ``points_to_evaluate`` (optional extra).

    exported = export(prior, "raytune")
    tuner = ray.tune.Tuner(trainable, param_space=exported.param_space,
                           tune_config=ray.tune.TuneConfig(search_alg=exported.search_algorithm(),
                                                           num_samples=50))

Ray is imported only when this format is used; install it with ``pip install
'mile-meta[raytune]'``. The space is flat: ``"estimator"`` is a ``tune.choice`` and every
``"<Estimator>:<name>"`` key is sampled on every trial (the trainable reads only the keys of
the chosen estimator: ``exported.spec_of(config)`` does that). Ray Tune's domains are
uniform/log-uniform/choice, so neither the fitted distributions nor the family weights can be
expressed in ``param_space`` (reported); the starting configurations are passed as
``points_to_evaluate`` to the search algorithm, and ``search_algorithm("optuna")`` wraps the
Optuna export, sampler included, to bring the prior into Ray.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from mile_meta.errors import MileMetaError
from mile_meta.pipelines.space import Hyperparameter
from mile_meta.priors._base import (
    ESTIMATOR_KEY,
    ExportedPrior,
    Exporter,
    ExportNote,
    flat_name,
    prior_notes,
)
from mile_meta.priors._prior import Prior

__all__ = ["RayTuneExporter", "RayTunePrior", "require_ray_tune"]


def require_ray_tune() -> Any:
    """``ray.tune``, or a one-line error naming the extra to install."""
    try:
        from ray import tune
    except ImportError:
        raise MileMetaError(
            "the raytune format needs Ray Tune; install it with `pip install 'mile-meta[raytune]'`"
        ) from None
    return tune


def _domain(tune: Any, hyperparameter: Hyperparameter) -> Any:
    if hyperparameter.kind == "categorical":
        return tune.choice(list(hyperparameter.choices))
    assert hyperparameter.low is not None and hyperparameter.high is not None
    low, high = hyperparameter.low, hyperparameter.high
    if hyperparameter.kind == "int":
        # Ray's randint/lograndint exclude the upper bound
        if hyperparameter.log:
            return tune.lograndint(int(low), int(high) + 1)
        return tune.randint(int(low), int(high) + 1)
    return tune.loguniform(low, high) if hyperparameter.log else tune.uniform(low, high)


@dataclass(frozen=True)
class RayTunePrior(ExportedPrior):
    """``param_space`` and ``points_to_evaluate`` (full flat configs) for Ray Tune."""

    tool: ClassVar[str] = "raytune"
    param_space: dict[str, Any] = field(default_factory=dict)
    points_to_evaluate: tuple[dict[str, Any], ...] = ()

    def search_algorithm(self, kind: str = "basic", *, seed: int | None = None) -> Any:
        """A Ray search algorithm that runs the starting configurations first.

        ``basic``: Ray's ``BasicVariantGenerator`` (random search after the points);
        ``optuna``: ``OptunaSearch`` over the Optuna export with the prior sampler.
        """
        require_ray_tune()
        if kind == "basic":
            from ray.tune.search.basic_variant import BasicVariantGenerator

            return BasicVariantGenerator(
                points_to_evaluate=[dict(p) for p in self.points_to_evaluate],
                random_state=seed,
            )
        if kind == "optuna":
            from ray.tune.search.optuna import OptunaSearch

            from mile_meta.priors._optuna import OptunaExporter

            exported = OptunaExporter().export(self.prior)

            def define_by_run(trial: Any) -> None:
                exported.suggest_config(trial)

            return OptunaSearch(
                space=define_by_run,
                sampler=exported.sampler(seed=seed),
                metric="score",
                mode="max" if self.prior.higher_is_better else "min",
                points_to_evaluate=[dict(p) for p in exported.starting_points],
            )
        raise MileMetaError(f"unknown search algorithm {kind!r}; use 'basic' or 'optuna'")


class RayTuneExporter(Exporter[RayTunePrior]):
    tool = "raytune"
    extra = "raytune"

    def _export(self, prior: Prior) -> RayTunePrior:
        tune = require_ray_tune()
        spaces = prior.space()
        param_space: dict[str, Any] = {ESTIMATOR_KEY: tune.choice([s.estimator for s in spaces])}
        for space in spaces:
            for hyperparameter in space.hyperparameters:
                param_space[flat_name(space.estimator, hyperparameter.name)] = _domain(
                    tune, hyperparameter
                )
        notes = prior_notes(prior)
        notes.append(
            ExportNote(
                "distributions",
                "Ray Tune's domains are uniform/log-uniform/choice: the fitted priors are not "
                "in param_space (search_algorithm('optuna') carries them)",
            )
        )
        notes.append(
            ExportNote(
                "family weights", "tune.choice has no weights; the estimators are equally likely"
            )
        )
        points = []
        for start in prior.starting_configurations:
            # Ray wants every key of param_space in a point: inactive ones take the defaults
            point: dict[str, Any] = {ESTIMATOR_KEY: start.estimator}
            for space in spaces:
                for hyperparameter in space.hyperparameters:
                    point[flat_name(space.estimator, hyperparameter.name)] = hyperparameter.default
            point.update({flat_name(start.estimator, k): v for k, v in start.params})
            points.append(point)
        return RayTunePrior(
            prior=prior,
            starting_points=tuple(points),
            report=tuple(notes),
            param_space=param_space,
            points_to_evaluate=tuple(points),
        )

    def _module_usage(self) -> str:
        return (
            "    import ray.tune, this_module as p\n"
            "    def trainable(config):\n"
            "        spec = p.EXPORTED.spec_of(config)   # mile-meta PipelineSpec\n"
            "        return {'score': ...}\n"
            "    tuner = ray.tune.Tuner(trainable, param_space=p.PARAM_SPACE, tune_config=ray.tune.TuneConfig(\n"
            "        search_alg=p.EXPORTED.search_algorithm(), num_samples=50, metric='score', mode='max'))"
        )

    def _module_names(self) -> str:
        return (
            "PARAM_SPACE = EXPORTED.param_space\n"
            "POINTS_TO_EVALUATE = [dict(point) for point in EXPORTED.points_to_evaluate]\n"
        )
