"""Choose a task's post-processing threshold on a *tuning* volume (e.g. the training volume),
never on the held-out one: the originals swept their agglomeration / detection thresholds on
validation data, and a threshold picked on the volume being scored would flatter the result.

``tune_options(bundle, volume, opts)`` predicts the tuning volume once, scores every candidate
value and returns the options with the best one plus the sweep table. Synister has no threshold
(argmax), so it is returned unchanged."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from emzoo.data.volume import EMVolume
from emzoo.evaluate.options import EvalOptions
from emzoo.evaluate.predict import Bundle, memoized_predictions


@dataclass(frozen=True)
class Tunable:
    option: str  # EvalOptions field
    candidates: tuple[float, ...]
    metric: str  # what the sweep optimises
    lower_is_better: bool
    # a second EvalOptions field swept jointly (grid), e.g. Synful's component score filter
    secondary: tuple[str, tuple[float, ...]] | None = None


TUNABLE: dict[str, Tunable] = {
    "lsd": Tunable(
        "seg_threshold", (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9), "adapted_rand_error", True
    ),
    # the originals filter components by their summed probability too (FANC: sum_score > 12);
    # the grid reaches past 80, where trained demo nets' best filter used to sit at its edge
    "synful": Tunable(
        "synful_threshold",
        (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
        "synful_f1",
        False,
        ("synful_min_score", (0.0, 5.0, 10.0, 20.0, 40.0, 80.0, 120.0, 160.0, 240.0)),
    ),
    # the soft-mask target lies in [0, 0.4] (docs/demo-weights.md), so the grid is fine up there:
    # a trained net's best threshold sat between 0.3 (F1 0.70) and 0.4 (0.38) on a 0.1 step
    "micron": Tunable(
        "micron_threshold",
        (0.05, 0.1, 0.15, 0.2, 0.25, 0.275, 0.3, 0.325, 0.35, 0.375, 0.4, 0.5),
        "soft_mask_f1",
        False,
    ),
}


def tune_options(
    bundle: Bundle, volume: EMVolume, opts: EvalOptions
) -> tuple[EvalOptions, dict[str, Any] | None]:
    """(options with the best threshold, {option, metric, value, sweep}) or (opts, None)."""
    from emzoo.evaluate.run import evaluate_volume

    spec = TUNABLE.get(bundle.task)
    if spec is None:
        return opts, None
    second_name, second_values = spec.secondary or (None, (None,))
    sweep = []
    with memoized_predictions():  # one forward pass over the tuning volume for all candidates
        for value in spec.candidates:
            for second in second_values:
                settings = {spec.option: value}
                if second_name is not None:
                    settings[second_name] = second
                metrics = evaluate_volume(bundle, volume, replace(opts, **settings))
                row = {"value": value, spec.metric: metrics[spec.metric]}
                if second_name is not None:
                    row[second_name] = second
                sweep.append(row)
    sign = 1.0 if spec.lower_is_better else -1.0
    best = min(
        sweep,
        key=lambda row: (sign * row[spec.metric], row["value"], row.get(second_name or "", 0.0)),
    )
    settings = {spec.option: best["value"]}
    if second_name is not None:
        settings[second_name] = best[second_name]
    return replace(opts, **settings), {
        "option": spec.option,
        "metric": spec.metric,
        "value": best["value"],
        "settings": settings,
        "sweep": sweep,
    }
