"""Ray Tune: Ray's ``OptunaSearch`` carrying the prior, or a plain ``param_space``.

    exported = export(prior, "raytune")
    tuner = ray.tune.Tuner(trainable, tune_config=ray.tune.TuneConfig(
        search_alg=exported.search_algorithm("optuna"), num_samples=50))   # no param_space

``search_algorithm("optuna")`` is Ray's ``OptunaSearch`` over a define-by-run space (the
estimator, then its hyperparameters), with the starting configurations as
``points_to_evaluate`` and the prior sampler for the first trials; the searcher holds the
space, so the ``Tuner`` gets no ``param_space`` (Ray refuses a second one). It comes from the
standalone runtime (``_standalone/_raytune_module.py``) that the module ``mile-meta priors
--format raytune -o FILE`` writes also carries: its objects pickle by reference to that module.
``search_algorithm("basic")`` with ``param_space`` is Ray's random search: its domains are
uniform/log-uniform/choice, so neither the fitted distributions nor the family weights are
expressed there (reported). Ray is imported only when this format is used; install it with
``pip install 'mile-meta[raytune]'``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from mile_meta.errors import MileMetaError
from mile_meta.priors._base import ExportedPrior, Exporter, ExportNote, prior_notes
from mile_meta.priors._portable import portable_prior
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


@dataclass(frozen=True)
class RayTunePrior(ExportedPrior):
    """``param_space`` and ``points_to_evaluate`` (full flat configs) for Ray Tune, and
    :meth:`search_algorithm`."""

    tool: ClassVar[str] = "raytune"
    param_space: dict[str, Any] = field(default_factory=dict)
    points_to_evaluate: tuple[dict[str, Any], ...] = ()
    runtime: Any = None

    def search_algorithm(self, kind: str = "basic", *, seed: int | None = None) -> Any:
        """A Ray search algorithm that runs the starting configurations first.

        ``basic``: Ray's ``BasicVariantGenerator`` (random search over ``param_space`` after
        the points); ``optuna``: ``OptunaSearch`` with the prior (give the ``Tuner`` no
        ``param_space``; the trainable reports ``score``).
        """
        require_ray_tune()
        if kind == "basic":
            from ray.tune.search.basic_variant import BasicVariantGenerator

            return BasicVariantGenerator(
                points_to_evaluate=[dict(p) for p in self.points_to_evaluate],
                random_state=seed,
            )
        if kind == "optuna":
            return self.runtime.search_algorithm(seed=seed)
        raise MileMetaError(f"unknown search algorithm {kind!r}; use 'basic' or 'optuna'")


class RayTuneExporter(Exporter[RayTunePrior]):
    tool = "raytune"
    extra = "raytune"
    runtime_class = "RayTunePortable"
    needs = "ray[tune] and optuna"

    def _export(self, prior: Prior) -> RayTunePrior:
        require_ray_tune()
        from mile_meta.priors._standalone._raytune_module import RayTunePortable

        notes = prior_notes(prior)
        notes.append(
            ExportNote(
                "param_space",
                "Ray Tune's domains are uniform/log-uniform/choice: the fitted priors and the "
                "family weights are not in param_space; search_algorithm('optuna') carries them",
            )
        )
        runtime = RayTunePortable(portable_prior(prior, tuple(notes)))
        points = tuple(runtime.full_points())
        return RayTunePrior(
            prior=prior,
            starting_points=points,
            report=tuple(notes),
            param_space=runtime.param_space(),
            points_to_evaluate=points,
            runtime=runtime,
        )

    def _module_usage(self) -> str:
        return (
            "    import ray\n"
            "    from ray import tune\n"
            "    import prior_raytune as p   # this file\n"
            "    def trainable(config):\n"
            "        return {'score': p.EXPORTED.evaluate(config, X, y)}\n"
            "    ray.init(num_cpus=1, include_dashboard=False)\n"
            "    tuner = tune.Tuner(trainable, tune_config=tune.TuneConfig(\n"
            "        search_alg=p.EXPORTED.search_algorithm(), num_samples=50))   # no param_space\n"
            "    best = tuner.fit().get_best_result(metric='score', mode=p.MODE).config   # a flat point"
        )

    def _module_names(self) -> tuple[str, ...]:
        return (
            "MODE = EXPORTED.mode",
            "PARAM_SPACE = EXPORTED.param_space()",
            "POINTS_TO_EVALUATE = EXPORTED.full_points()",
        )
