"""The committed digit classifiers (models/classifiers/) load, have the documented shapes and
classify real test digits at the accuracy their JSON records."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson import pretrained
from cyclegan_lesson.evaluation import classifiers, metrics

CLS_DIR = pretrained.folder("classifiers")
N = 400


@pytest.fixture(scope="module")
def record():
    with open(os.path.join(CLS_DIR, "classifiers.json")) as f:
        return json.load(f)


ROLES = [("mnist", "judge"), ("svhn", "judge"), ("mnist", "semantic"), ("svhn", "semantic")]


def _key(domain, role):
    return domain if role == "judge" else f"{domain}_semantic"


@pytest.mark.parametrize("domain,role", ROLES)
def test_shipped_classifier_files(domain, role, record):
    path = classifiers.shipped_classifier_path(domain, role)
    assert os.path.samefile(os.path.dirname(path), CLS_DIR)
    assert os.path.getsize(path) < 10 * 2**20
    model = classifiers.load_classifier(path)
    channels = classifiers.CLASSIFIER_DOMAINS[domain]
    assert tuple(model.input_shape) == (None, 32, 32, channels)
    assert tuple(model.output_shape) == (None, 10)
    entry = record[_key(domain, role)]
    assert entry["role"] == role and entry["file"] == os.path.basename(path)
    assert model.count_params() == entry["parameters"]
    assert entry["config"]["test_images"] == {"mnist": 10000, "svhn": 1997}[domain]


def test_semantic_classifiers_differ_from_judges(record):
    for domain in ("mnist", "svhn"):
        judge, sem = record[domain]["config"], record[f"{domain}_semantic"]["config"]
        assert (judge["width"], judge["epochs"], judge["seed"]) != (
            sem["width"], sem["epochs"], sem["seed"])


@pytest.mark.parametrize("domain,role", ROLES)
def test_shipped_classifier_accuracy_on_real_test_digits(domain, role, record, data_dir):
    x, y = classifiers.load_digit_arrays(domain, "test", str(data_dir), limit=N)
    model = classifiers.load_shipped_classifier(domain, role)
    acc = metrics.classifier_accuracy(model, x, y)
    recorded = record[_key(domain, role)]["test_accuracy"]
    # binomial standard error on N images, plus slack for the first N being a little easier/harder
    tol = 3 * np.sqrt(recorded * (1 - recorded) / N) + 0.02
    assert abs(acc - recorded) < tol, (acc, recorded)
    assert acc > {"mnist": 0.97, "svhn": 0.8}[domain]


def test_record_meets_targets(record):
    assert record["mnist"]["test_accuracy"] >= 0.99
    assert record["svhn"]["test_accuracy"] >= 0.90


def test_load_classifier_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="classifier file not found"):
        classifiers.load_classifier(tmp_path / "nope.keras")
    with pytest.raises(ValueError, match="unknown digit domain"):
        classifiers.shipped_classifier_path("cifar10")
    with pytest.raises(ValueError, match="role"):
        classifiers.shipped_classifier_path("mnist", "referee")
