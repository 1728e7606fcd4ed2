"""`train --lambda-semantic` and `evaluate --task mnist2svhn` on the command line, real data."""

from __future__ import annotations

import json

import pytest

import cyclegan_lesson  # noqa: F401

from conftest import TINY_MODEL_OPTIONS as TINY
from conftest import run_cli


@pytest.fixture(scope="module")
def semantic_run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("sem") / "run"
    proc = run_cli("train", "--task", "mnist2svhn", "--out", out, "--data-dir", data_dir,
                   "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "2",
                   "--sample-images", "0", "--verbose", "2", "--lambda-semantic", "1",
                   "--lambda-identity-x", "0.5", "--lambda-cycle-b", "1", *TINY)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_train_reports_semantic_terms(semantic_run):
    out, proc = semantic_run
    header = (out / "history.csv").read_text().splitlines()[0]
    for name in ("semantic_ab", "semantic_ba", "identity_ab", "cycle_aba"):
        assert name in header
    state = json.loads((out / "G_AB.keras").with_name("generators.json").read_text())
    assert state["parameters"]["lambda_semantic"] == 1.0
    assert state["parameters"]["lambda_identity_x"] == 0.5
    assert state["parameters"]["lambda_cycle_b"] == 1.0 and state["parameters"]["lambda_cycle"] == 10
    # the weight reaches the loss: the B -> A -> B cycle term (weight 1) is far below the
    # A -> B -> A one (weight 10) for untrained generators whose L1 errors are alike
    rows = [line.split(",") for line in (out / "history.csv").read_text().splitlines()]
    last = dict(zip(rows[0], rows[-1]))
    assert float(last["cycle_bab"]) < 0.3 * float(last["cycle_aba"]), last


def test_evaluate_prints_the_table(semantic_run, data_dir):
    out, _ = semantic_run
    proc = run_cli("evaluate", "--task", "mnist2svhn", "--run", out, "--data-dir", data_dir,
                   "--limit", "40")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["test_images"] == {"mnist": 40, "svhn": 40}
    for role in ("judge", "semantic"):
        for key in ("label_preservation", "untranslated"):
            assert set(report[role][key]) == {"mnist->svhn", "svhn->mnist"}
            assert all(0 <= v <= 1 for v in report[role][key].values())
        assert report[role]["classifier_accuracy"]["mnist"] > 0.9
    assert 0 <= report["cycle_error"]["mnist"] <= 2
    realism = report["realism"]
    for key in ("domain_verdict", "fd", "kd"):
        assert set(realism[key]) == {"mnist->svhn", "svhn->mnist"}
    assert all(0 <= v <= 1 for v in realism["domain_verdict"].values())
    assert all(v >= 0 for v in realism["fd"].values())


def test_evaluate_bad_input(tmp_path, data_dir):
    proc = run_cli("evaluate", "--task", "monet2photo", "--models", tmp_path)
    assert proc.returncode == 2 and "invalid choice: 'monet2photo'" in proc.stderr
    proc = run_cli("evaluate", "--task", "gray2color", "--models", tmp_path)
    assert proc.returncode == 2 and "G_AB.keras" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("evaluate", "--task", "gray2color", "--shipped", "mnist2svhn")
    assert proc.returncode == 2 and "another task" in proc.stderr
    proc = run_cli("evaluate", "--task", "mnist2svhn", "--models", tmp_path)
    assert proc.returncode == 2 and "G_AB.keras" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("evaluate", "--task", "mnist2svhn", "--models", tmp_path / "missing")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_semantic_loss_rejects_non_digit_tasks(tmp_path, data_dir):
    proc = run_cli("train", "--task", "gray2color", "--out", tmp_path / "r", "--data-dir",
                   data_dir, "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2",
                   "--sample-images", "0", "--lambda-semantic", "1", *TINY)
    assert proc.returncode == 2 and "digit classifiers" in proc.stderr
