"""Ray Tune from a mile-meta prior, with no import of mile-meta (copied into written modules).

``RayTunePortable(PRIOR)`` is the Optuna runtime plus ``search_algorithm()``: Ray's
``OptunaSearch`` over a define-by-run space (the estimator, then its hyperparameters) with the
starting points as ``points_to_evaluate`` and the prior sampler for the first trials. Pass it
to ``TuneConfig(search_alg=...)`` and give the ``Tuner`` no ``param_space``: the searcher holds
the space. ``param_space()`` (flat ``tune`` domains, no shapes or weights) and
``full_points()`` are for Ray's own random search.
"""

from __future__ import annotations

from typing import Any

from mile_meta.priors._standalone._optuna_module import OptunaPortable  # standalone: inlined


class RayTunePortable(OptunaPortable):
    """The prior for Ray Tune (see the module doc)."""

    @property
    def mode(self) -> str:
        """Ray's name for the direction: ``"max"`` or ``"min"``."""
        return "max" if self.direction == "maximize" else "min"

    def define_by_run(self, trial: Any) -> None:
        """The space for ``OptunaSearch(space=...)``: Ray records what is suggested."""
        self.suggest(trial)

    def search_algorithm(
        self, *, metric: str = "score", seed: int | None = None, n_prior_trials: int = 20
    ) -> Any:
        """``OptunaSearch`` starting from the starting points, then drawing from the prior
        for the first ``n_prior_trials`` trials, then TPE. ``metric`` names the value your
        trainable reports; the mode follows the prior's direction."""
        from ray.tune.search.optuna import OptunaSearch

        return OptunaSearch(
            space=self.define_by_run,
            metric=metric,
            mode=self.mode,
            sampler=self.sampler(n_prior_trials=n_prior_trials, seed=seed),
            points_to_evaluate=[dict(point) for point in self.starting_points],
        )

    def param_space(self) -> dict[str, Any]:
        """Flat ``tune`` domains for every key (uniform/log-uniform/choice: Ray's domains hold
        neither the fitted priors nor the weights); for Ray's own random search."""
        from ray import tune

        space: dict[str, Any] = {self.key: tune.choice(list(self.estimators))}
        for name, hyperparameter in self.hyperparameters.items():
            low, high, log = hyperparameter["low"], hyperparameter["high"], hyperparameter["log"]
            if hyperparameter["kind"] == "categorical":
                space[name] = tune.choice(list(hyperparameter["choices"]))
            elif hyperparameter["kind"] == "int":  # Ray's integer upper bounds are exclusive
                space[name] = (tune.lograndint if log else tune.randint)(int(low), int(high) + 1)
            else:
                space[name] = (tune.loguniform if log else tune.uniform)(low, high)
        return space

    def full_points(self) -> list[dict[str, Any]]:
        """The starting points with every key of ``param_space()`` (other estimators' keys at
        their defaults), as Ray's ``BasicVariantGenerator(points_to_evaluate=...)`` wants."""
        defaults = {name: h["default"] for name, h in self.hyperparameters.items()}
        return [{**defaults, **point} for point in self.starting_points]
