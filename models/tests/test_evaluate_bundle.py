"""`emzoo evaluate` end to end: small bundles exported into a tmp dir (random weights, legacy
ONNX exporter, no size check) run over tiny synthetic volumes through onnxruntime; metrics are
finite and in range, --write puts them into a still-valid bundle.yaml, bad input fails clearly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from emzoo.cli import main
from emzoo.data.synth import generate_volume
from emzoo.data.zarr_io import write_zarr
from emzoo.evaluate import EvalOptions, evaluate_bundle, write_held_out_metrics
from emzoo.evaluate.grow_boundary import grow_boundary
from emzoo.evaluate.lsd import score_affinities
from emzoo.export import ExportOptions, export_bundle, validate_bundle
from emzoo.registry import get_preset
from emzoo.targets import STANDARD_3D, affinities
from emzoo.targets.synister import TRANSMITTERS

TRAINING = {
    "data": {"description": "test volume", "synthetic": True},
    "iterations": 0,
    "seed": 0,
    "final_losses": {"loss": 1.0},
    "held_out_metrics": {},
}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def iso_volume(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "held.zarr"
    write_zarr(generate_volume((52, 52, 52), "isotropic", seed=7, synapse_density=40), path)
    return path


@pytest.fixture(scope="module")
def aniso_volume(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "held_aniso.zarr"
    write_zarr(generate_volume((12, 96, 96), "anisotropic", seed=7, synapse_density=60), path)
    return path


def _export(folder: Path, preset: str, training: dict | None) -> Path:
    ckpt = None
    if training is not None:
        torch.manual_seed(0)
        ckpt = folder / f"{preset}.pt"
        state = get_preset(preset).build().state_dict()
        torch.save({"model_state_dict": state, "preset": preset, "training": training}, ckpt)
    out = folder / preset
    export_bundle(
        ExportOptions(preset=preset, out=out, checkpoint=ckpt, exporter="legacy", size_check=False)
    )
    return out


@pytest.fixture(scope="module")
def lsd_bundle(tmp_path_factory) -> Path:
    return _export(tmp_path_factory.mktemp("b"), "lsd-small-mtlsd", TRAINING)


@pytest.fixture(scope="module")
def synister_bundle(tmp_path_factory) -> Path:
    return _export(tmp_path_factory.mktemp("b"), "synister-small", None)


def _finite(metrics: dict) -> None:
    assert metrics and all(math.isfinite(v) for v in metrics.values()), metrics


def test_lsd_bundle_evaluates_and_writes_metrics(lsd_bundle, iso_volume, capsys):
    files_before = yaml.safe_load((lsd_bundle / "bundle.yaml").read_text())["files"]
    code = main(["evaluate", "--bundle", str(lsd_bundle), "--data", str(iso_volume), "--json",
                 "--write", "--threads", "1"])  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    m = report["metrics"]
    _finite(m)
    assert 0 <= m["adapted_rand_error"] <= 1 and 0 <= m["rand_precision"] <= 1
    assert m["voi_split"] >= 0 and m["voi_merge"] >= 0
    assert 0 <= m["affinity_mse"] <= 1 and 0 <= m["affinity_mae"] <= 1
    assert m["gt_segments"] > 1
    assert "--seed 7" in report["held_out"]
    bundle = validate_bundle(lsd_bundle)  # schema and sha256 still hold
    assert bundle["training"]["held_out_metrics"] == pytest.approx(m)
    assert bundle["training"]["data"]["held_out"] == report["held_out"]
    assert bundle["files"] == files_before
    # writing twice keeps one note about the evaluation
    assert (
        main(["evaluate", "--bundle", str(lsd_bundle), "--data", str(iso_volume), "--write"]) == 0
    )
    notes = validate_bundle(lsd_bundle)["training"]["notes"]
    assert notes.count("held-out metrics by emzoo evaluate") == 1


def test_perfect_affinities_score_perfectly(iso_volume):
    """The LSD scoring path with the training target itself as the prediction."""
    from emzoo.data import read_volume

    labels = read_volume(iso_volume).neurons.astype(np.uint64)[10:-10, 10:-10, 10:-10]
    target, mask = affinities(grow_boundary(labels, 1), STANDARD_3D)
    s = score_affinities(target, STANDARD_3D, labels, EvalOptions(), target, mask)
    assert s["affinity_mse"] == 0.0 and s["affinity_mae"] == 0.0
    assert s["adapted_rand_error"] < 0.15
    noisy = np.clip(target + np.random.default_rng(0).normal(0, 0.45, target.shape), 0, 1)
    worse = score_affinities(noisy.astype(np.float32), STANDARD_3D, labels, EvalOptions(), target)
    assert worse["affinity_mse"] > 0.05 and worse["adapted_rand_error"] > s["adapted_rand_error"]


def test_synister_bundle_evaluates(synister_bundle, aniso_volume):
    report = evaluate_bundle(synister_bundle, aniso_volume, EvalOptions(threads=1))
    m = report["metrics"]
    _finite(m)
    assert m["synapses"] >= 1
    for k in ("synapse_accuracy", "synapse_balanced_accuracy", "neuron_accuracy"):
        assert 0 <= m[k] <= 1
    # one recall per transmitter present, named as the volume names them; their mean is the
    # balanced accuracy
    recalls = {k: v for k, v in m.items() if k.startswith("recall_")}
    assert recalls and all(k[len("recall_") :] in TRANSMITTERS for k in recalls)
    assert np.mean(list(recalls.values())) == pytest.approx(m["synapse_balanced_accuracy"])


def test_untrained_bundle_cannot_take_metrics(synister_bundle, aniso_volume, capsys):
    code = main(["evaluate", "--bundle", str(synister_bundle), "--data", str(aniso_volume),
                 "--write"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 3 and "no training record" in err and "--checkpoint" in err
    assert validate_bundle(synister_bundle)["training"] is None


def test_wrong_voxel_size_and_missing_data(synister_bundle, iso_volume, tmp_path, capsys):
    assert main(["evaluate", "--bundle", str(synister_bundle), "--data", str(iso_volume)]) == 3
    assert "voxel size" in capsys.readouterr().err
    missing = tmp_path / "nope.zarr"
    assert main(["evaluate", "--bundle", str(synister_bundle), "--data", str(missing)]) == 3
    assert "does not exist" in capsys.readouterr().err
    assert main(["evaluate", "--bundle", str(tmp_path), "--data", str(iso_volume)]) == 3
    assert "bundle.yaml" in capsys.readouterr().err


def test_tiles_stitch_to_the_whole_volume_prediction(lsd_bundle, iso_volume):
    """Tiles of 48³ (outputs 8³ at offsets 0 and 4, multiples of the net's factor 4) give the
    same prediction as one 52³ tile."""
    from emzoo.data import read_volume
    from emzoo.evaluate.predict import Model, load_bundle, predict_dense, tile_input_shape

    bundle = load_bundle(lsd_bundle)
    raw = read_volume(iso_volume).raw
    model = Model(bundle, threads=1)
    assert tile_input_shape(bundle, raw.shape) == (52, 52, 52)
    assert tile_input_shape(bundle, raw.shape, max_tile_voxels=48**3) == (48, 48, 48)
    whole = predict_dense(bundle, raw, model)
    tiled = predict_dense(bundle, raw, model, max_tile_voxels=48**3)
    assert whole.shape == (13, 12, 12, 12)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_tune_on_picks_the_sweep_best_and_scores_held_out_with_it(lsd_bundle, iso_volume, tmp_path):
    """--tune-on: the threshold is the sweep's best on the tuning volume, and the held-out
    metrics are exactly those of a plain evaluation at that threshold."""
    from emzoo.evaluate.tune import TUNABLE

    tuning = tmp_path / "tune.zarr"
    write_zarr(generate_volume((52, 52, 52), "isotropic", seed=8), tuning)
    report = evaluate_bundle(lsd_bundle, iso_volume, EvalOptions(threads=1), tune_on=tuning)
    tuned = report["tuned"]
    spec = TUNABLE["lsd"]
    assert tuned["option"] == "seg_threshold" and "--seed 8" in tuned["on"]
    assert [row["value"] for row in tuned["sweep"]] == list(spec.candidates)
    scores = [row["adapted_rand_error"] for row in tuned["sweep"]]
    assert min(scores) == next(
        row["adapted_rand_error"] for row in tuned["sweep"] if row["value"] == tuned["value"]
    )
    assert report["options"]["seg_threshold"] == tuned["value"]
    plain = evaluate_bundle(
        lsd_bundle, iso_volume, EvalOptions(threads=1, seg_threshold=tuned["value"])
    )
    assert plain["metrics"] == pytest.approx(report["metrics"])
    # the sweep reuses one prediction but must still score each candidate separately
    alone = evaluate_bundle(
        lsd_bundle, tuning, EvalOptions(threads=1, seg_threshold=spec.candidates[-1])
    )
    assert alone["metrics"]["adapted_rand_error"] == pytest.approx(scores[-1])
    # --write records the chosen setting; a later untuned evaluation drops it again
    write_held_out_metrics(lsd_bundle, report)
    assert validate_bundle(lsd_bundle)["training"]["postprocessing"] == {
        "seg_threshold": tuned["value"]
    }
    write_held_out_metrics(lsd_bundle, plain)
    assert "postprocessing" not in validate_bundle(lsd_bundle)["training"]


def test_tune_on_missing_volume_is_a_clear_error(lsd_bundle, iso_volume, tmp_path, capsys):
    code = main(["evaluate", "--bundle", str(lsd_bundle), "--data", str(iso_volume),
                 "--tune-on", str(tmp_path / "none.zarr")])  # fmt: skip
    assert code == 3 and "--tune-on" in capsys.readouterr().err


def test_synful_tuning_sweeps_threshold_and_score_filter_jointly(iso_volume, tmp_path):
    """Synful's sweep is a grid over the mask threshold and the component score filter; the
    committed demo bundle runs it on small volumes and the chosen pair is the grid's best."""
    from emzoo.evaluate.tune import TUNABLE

    bundle = Path(__file__).resolve().parents[2] / "weights" / "synful-demo"
    if not (bundle / "bundle.yaml").exists():
        pytest.skip("weights/synful-demo is not committed")
    tuning = tmp_path / "tune.zarr"
    write_zarr(generate_volume((56, 56, 56), "isotropic", seed=9, synapse_density=60), tuning)
    report = evaluate_bundle(bundle, iso_volume, EvalOptions(threads=1), tune_on=tuning)
    tuned, spec = report["tuned"], TUNABLE["synful"]
    second, values = spec.secondary
    assert len(tuned["sweep"]) == len(spec.candidates) * len(values)
    assert {(r["value"], r[second]) for r in tuned["sweep"]} == {
        (t, s) for t in spec.candidates for s in values
    }
    best = max(r["synful_f1"] for r in tuned["sweep"])
    chosen = tuned["settings"]
    assert set(chosen) == {"synful_threshold", second}
    assert (
        next(
            r["synful_f1"]
            for r in tuned["sweep"]
            if (r["value"], r[second]) == (chosen["synful_threshold"], chosen[second])
        )
        == best
    )
    assert report["options"]["synful_threshold"] == chosen["synful_threshold"]
    assert report["options"][second] == chosen[second]
