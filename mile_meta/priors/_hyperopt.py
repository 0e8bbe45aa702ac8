"""hyperopt: a conditional space with prior-shaped distributions, and ``points_to_evaluate``.

    exported = export(prior, "hyperopt")
    trials = exported.trials()      # the starting configurations, evaluated first
    best = hyperopt.fmin(objective, exported.space, algo=hyperopt.tpe.suggest, max_evals=50,
                         trials=trials)
    spec = exported.spec_of(hyperopt.space_eval(exported.space, best))

The space is ``hp.pchoice("estimator", ...)`` weighted by the family weights, each option a
dict ``{"estimator": name, "<Estimator>:<name>": ...}``. A fitted normal becomes
``hp.normal`` (``hp.lognormal`` where log-scaled; ``q``-variants for integers) clipped to the
space's bounds, so every drawn value lies in the space. hyperopt has no beta: a beta prior
becomes a clipped normal with the same mean and variance (reported). ``points_to_evaluate``
is what ``fmin(points_to_evaluate=...)`` takes (every label; choices by index); ``trials()``
queues the same points with the other estimators' labels inactive, for ``fmin(trials=...)``.
The space and points come from the standalone runtime (``_standalone/_hyperopt_module.py``),
which the module ``mile-meta priors --format hyperopt -o FILE`` writes also carries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from mile_meta.errors import MileMetaError
from mile_meta.priors._base import ESTIMATOR_KEY, ExportedPrior, Exporter, ExportNote, prior_notes
from mile_meta.priors._portable import portable_prior
from mile_meta.priors._prior import Prior

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HyperoptExporter", "HyperoptPrior"]


def _require_hyperopt() -> Any:
    try:
        from mile_meta.priors._standalone import _hyperopt_module
    except ImportError:  # pragma: no cover - the priors extra installs it
        raise MileMetaError(
            "the hyperopt format needs hyperopt; install it with `pip install 'mile-meta[priors]'`"
        ) from None
    return _hyperopt_module


@dataclass(frozen=True)
class HyperoptPrior(ExportedPrior):
    """``space`` (a pyll graph) and ``points_to_evaluate`` for ``hyperopt.fmin``.

    ``starting_points`` are the configurations as ``space_eval`` returns them (flat names);
    ``points_to_evaluate`` are the same in hyperopt's label form.
    """

    tool: ClassVar[str] = "hyperopt"
    space: Any = None
    points_to_evaluate: tuple[dict[str, Any], ...] = ()
    estimators: tuple[str, ...] = field(default=())

    def trials(self) -> Any:
        """A ``hyperopt.Trials`` holding the starting configurations, to pass as ``trials=``.

        ``fmin`` only reads ``points_to_evaluate`` when it creates the ``Trials`` itself; with
        this object the starting configurations run first whatever else is passed.
        """
        from hyperopt import Trials
        from hyperopt.base import Domain
        from hyperopt.fmin import generate_trial

        # TPE reads every label of the space from each trial, active or not
        labels = Domain(lambda point: 0.0, self.space).params
        documents = []
        for tid, point in enumerate(self.points_to_evaluate):
            # only the chosen estimator's labels are active in this trial
            prefix = f"{self.estimators[point[ESTIMATOR_KEY]]}:"
            active = {k: v for k, v in point.items() if k == ESTIMATOR_KEY or k.startswith(prefix)}
            document = generate_trial(tid, active)
            for label in labels:
                document["misc"]["idxs"].setdefault(label, [])
                document["misc"]["vals"].setdefault(label, [])
            documents.append(document)
        trials = Trials()
        trials.insert_trial_docs(documents)
        trials.refresh()
        return trials

    def objective(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        *,
        metric: str | None = None,
        cv: int = 3,
        seed: int = 0,
    ) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        """An ``fmin`` objective: the loss is the cross-validated score, negated where higher
        is better, with the spec and score in the result."""
        from hyperopt import STATUS_OK

        from mile_meta.data import Dataset
        from mile_meta.evaluate import FoldCache, evaluate_pipeline

        dataset = Dataset(
            name=self.prior.dataset_name,
            frame=X.reset_index(drop=True),
            target=y.reset_index(drop=True),
            task_type=self.prior.task_type,
        )
        cache = FoldCache()
        chosen = metric or self.prior.metric

        def objective(point: Mapping[str, Any]) -> dict[str, Any]:
            spec = self.spec_of(point)
            result = evaluate_pipeline(
                spec, dataset, metric=chosen, cv=cv, seed=seed, record=False, cache=cache
            )
            loss = -result.mean if result.higher_is_better else result.mean
            return {"loss": loss, "status": STATUS_OK, "score": result.mean, "spec": spec.to_json()}

        return objective


class HyperoptExporter(Exporter[HyperoptPrior]):
    tool = "hyperopt"
    extra = "priors"
    runtime_class = "HyperoptPortable"
    needs = "hyperopt"

    def _export(self, prior: Prior) -> HyperoptPrior:
        runtime_module = _require_hyperopt()
        notes = prior_notes(prior)
        for distribution in prior.distributions:
            if distribution.distribution == "beta":
                notes.append(
                    ExportNote(
                        f"{distribution.estimator}.{distribution.name}",
                        "hyperopt has no beta distribution; a clipped normal with its mean and "
                        "variance is used",
                    )
                )
        runtime = runtime_module.HyperoptPortable(portable_prior(prior, tuple(notes)))
        return HyperoptPrior(
            prior=prior,
            starting_points=tuple(runtime.starting_points),
            report=tuple(notes),
            space=runtime.space(),
            points_to_evaluate=tuple(runtime.points_to_evaluate()),
            estimators=tuple(runtime.estimators),
        )

    def _module_usage(self) -> str:
        return (
            "    import hyperopt\n"
            "    import prior_hyperopt as p   # this file\n"
            "    best = hyperopt.fmin(p.EXPORTED.objective(X, y), p.SPACE, algo=hyperopt.tpe.suggest,\n"
            "                         max_evals=50, points_to_evaluate=p.POINTS_TO_EVALUATE)\n"
            "    point = hyperopt.space_eval(p.SPACE, best)   # a flat point\n"
            "    model = p.EXPORTED.make_pipeline(point)"
        )

    def _module_names(self) -> tuple[str, ...]:
        return ("SPACE = EXPORTED.space()", "POINTS_TO_EVALUATE = EXPORTED.points_to_evaluate()")
