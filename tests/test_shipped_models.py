"""The committed digit classifiers (models/classifiers/) load, have the documented shapes and
classify real test digits at the accuracy their JSON records."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson import classifiers, metrics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLS_DIR = os.path.join(ROOT, "models", "classifiers")
N = 400


@pytest.fixture(scope="module")
def record():
    with open(os.path.join(CLS_DIR, "classifiers.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("domain,channels", [("mnist", 1), ("svhn", 3)])
def test_shipped_classifier_files(domain, channels, record):
    path = classifiers.shipped_classifier_path(domain)
    assert os.path.samefile(os.path.dirname(path), CLS_DIR)
    assert os.path.getsize(path) < 10 * 2**20
    model = classifiers.load_classifier(path)
    assert tuple(model.input_shape) == (None, 32, 32, channels)
    assert tuple(model.output_shape) == (None, 10)
    assert model.count_params() == record[domain]["parameters"]
    assert record[domain]["config"]["test_images"] == {"mnist": 10000, "svhn": 1997}[domain]


@pytest.mark.parametrize("domain", ["mnist", "svhn"])
def test_shipped_classifier_accuracy_on_real_test_digits(domain, record, data_dir):
    x, y = classifiers.load_digit_arrays(domain, "test", str(data_dir), limit=N)
    model = classifiers.load_shipped_classifier(domain)
    acc = metrics.classifier_accuracy(model, x, y)
    recorded = record[domain]["test_accuracy"]
    # binomial standard error on N images, plus slack for the first N being a little easier/harder
    tol = 3 * np.sqrt(recorded * (1 - recorded) / N) + 0.02
    assert abs(acc - recorded) < tol, (acc, recorded)
    assert acc > {"mnist": 0.97, "svhn": 0.8}[domain]


def test_record_meets_targets(record):
    assert record["mnist"]["test_accuracy"] >= 0.99


def test_load_classifier_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="classifier file not found"):
        classifiers.load_classifier(tmp_path / "nope.keras")
    with pytest.raises(ValueError, match="unknown digit domain"):
        classifiers.shipped_classifier_path("cifar10")
