"""The case studies' tables: each function loads the judges a chapter uses and scores generators.

* :func:`mnist_svhn_report` -- MNIST <-> SVHN (chapter 13 and ``python -m cyclegan_lesson
  evaluate --task mnist2svhn``): label preservation by the shipped digit classifiers, the
  untranslated baseline, cycle error, realism (domain verdict, FD/KD on the judges' features);
* :func:`gray2color_report` -- gray -> colour (chapters 9 and 12, ``evaluate --task
  gray2color``): every colourizer scored against the true colours (PSNR, SSIM, luma
  correlation, colourfulness, saturation distance) and by the CIFAR-10 classifiers
  (:func:`classifier_accuracies`).

Images are NHWC float32 in [-1, 1]. (The Monet <-> photo table is
:func:`cyclegan_lesson.evaluation.monet_photo.monet_photo_report`.)
"""

from __future__ import annotations

import numpy as np

from . import classifiers as clf
from . import sample_quality as sq
from .classifiers import cifar_classifier_input, evaluate_classifier
from .colour_metrics import (_gray, _rgb, colourfulness, colourize, luma_correlation,
                             saturation_distance)
from .metrics import (binomial_interval, classifier_accuracy, predict_in_batches, psnr, ssim,
                      to_channels)

__all__ = ["mnist_svhn_report", "classifier_accuracies", "gray2color_report"]


def mnist_svhn_report(
    g_ab,
    g_ba,
    data_dir=None,
    *,
    limit: int | None = None,
    batch_size: int = 256,
    roles: tuple[str, ...] = ("judge", "semantic"),
    return_predictions: bool = False,
    realism: bool = True,
    references: bool = True,
) -> dict:
    """The chapter-13 table for generators ``G_AB: MNIST -> SVHN`` and ``G_BA: SVHN -> MNIST``.

    Uses the full test splits (10,000 MNIST digits padded to 32x32, 1,997 SVHN crops) unless
    ``limit``. For each classifier ``role`` ("judge": ``models/classifiers/{mnist,svhn}.keras``,
    the measuring classifiers; "semantic": the independent pair the semantic loss trains with):

    * ``label_preservation``: ``mnist->svhn`` (SVHN classifier on ``G_AB(mnist)`` vs the MNIST
      labels) and ``svhn->mnist`` (MNIST classifier on ``G_BA(svhn)`` vs the SVHN labels);
    * ``untranslated``: the same target classifiers on the *untranslated* source images
      (channels converted), i.e. the domain gap translation must close;
    * ``classifier_accuracy``: each classifier on its own domain's test split (the ceiling).

    and ``cycle_error``: mean ``|x - G_BA(G_AB(x))|`` (MNIST) and ``|y - G_AB(G_BA(y))|``
    (SVHN) in [-1, 1] units. With ``realism`` (default), ``realism`` holds, per direction, the
    share of translations the realism judge (:func:`cyclegan_lesson.evaluation.classifiers.
    load_domain_classifier`) reads as the target domain (``domain_verdict``), and the Frechet and
    kernel distances between the translations and the real target test images on the target
    judge's penultimate features (``fd``/``kd``: FD-SVHN for MNIST -> SVHN, FD-MNIST for
    SVHN -> MNIST; :mod:`cyclegan_lesson.evaluation.sample_quality`, not comparable with FID).
    ``references=False`` leaves out ``untranslated`` and ``classifier_accuracy``, which do not
    depend on the generators (compute them once when comparing many generator pairs). With
    ``return_predictions`` the predicted labels (judge role) and true labels are included under
    ``"predictions"`` (NumPy arrays, not JSON).
    """
    xa, ya = clf.load_digit_arrays("mnist", "test", data_dir, limit=limit)
    xb, yb = clf.load_digit_arrays("svhn", "test", data_dir, limit=limit)
    fake_b = predict_in_batches(g_ab, xa, batch_size)
    fake_a = predict_in_batches(g_ba, xb, batch_size)
    report: dict = {"test_images": {"mnist": int(len(xa)), "svhn": int(len(xb))}}
    predictions = {"mnist_labels": ya, "svhn_labels": yb}
    loaded = {}  # role -> (MNIST classifier, SVHN classifier), each file loaded once
    for role in roles:
        c_a, c_b = loaded[role] = (clf.load_shipped_classifier("mnist", role),
                                   clf.load_shipped_classifier("svhn", role))
        pred_ab = np.argmax(predict_in_batches(c_b, fake_b, batch_size), axis=-1)
        pred_ba = np.argmax(predict_in_batches(c_a, fake_a, batch_size), axis=-1)
        report[role] = {
            "label_preservation": {"mnist->svhn": float(np.mean(pred_ab == ya)),
                                   "svhn->mnist": float(np.mean(pred_ba == yb))}}
        if references:
            report[role]["untranslated"] = {
                "mnist->svhn": classifier_accuracy(c_b, np.asarray(to_channels(xa, 3)), ya,
                                                   batch_size),
                "svhn->mnist": classifier_accuracy(c_a, np.asarray(to_channels(xb, 1)), yb,
                                                   batch_size)}
            report[role]["classifier_accuracy"] = {
                "mnist": classifier_accuracy(c_a, xa, ya, batch_size),
                "svhn": classifier_accuracy(c_b, xb, yb, batch_size)}
        if role == "judge":
            predictions.update(mnist_to_svhn=pred_ab, svhn_to_mnist=pred_ba)
    report["cycle_error"] = {
        "mnist": float(np.mean(np.abs(predict_in_batches(g_ba, fake_b, batch_size) - xa))),
        "svhn": float(np.mean(np.abs(predict_in_batches(g_ab, fake_a, batch_size) - xb))),
    }
    if realism:
        domain_judge = clf.load_domain_classifier()
        judge_a, judge_b = loaded.get("judge") or (clf.load_shipped_classifier("mnist", "judge"),
                                                    clf.load_shipped_classifier("svhn", "judge"))
        d_ab = sq.feature_distances(judge_b, fake_b, xb, batch_size)
        d_ba = sq.feature_distances(judge_a, fake_a, xa, batch_size)
        report["realism"] = {
            "domain_verdict": {
                "mnist->svhn": sq.domain_verdict(domain_judge, fake_b,
                                                 clf.DOMAIN_CLASSES.index("svhn"), batch_size),
                "svhn->mnist": sq.domain_verdict(domain_judge, fake_a,
                                                 clf.DOMAIN_CLASSES.index("mnist"), batch_size)},
            "fd": {"mnist->svhn": d_ab["fd"], "svhn->mnist": d_ba["fd"]},
            "kd": {"mnist->svhn": d_ab["kd"], "svhn->mnist": d_ba["kd"]},
        }
    if return_predictions:
        report["predictions"] = predictions
    return report


def classifier_accuracies(classifiers: dict, images, labels, batch_size: int = 256) -> dict:
    """Accuracy of each CIFAR-10 classifier on RGB (or gray) ``images`` with true ``labels``.

    Args:
        classifiers: ``{kind: model}`` with ``kind`` in
            :data:`cyclegan_lesson.evaluation.classifiers.CIFAR_KINDS` (each reads its own input:
            :func:`cyclegan_lesson.evaluation.classifiers.cifar_classifier_input`).
        images: ``(N, 32, 32, 3)`` or ``(N, 32, 32, 1)`` in [-1, 1].
        labels: ``(N,)`` ints in 0..9.

    Returns:
        ``{kind: {"accuracy", "ci95": [low, high], "per_class": [10 floats], "n"}}``.
    """
    labels = np.asarray(labels, np.int64)
    if len(labels) != len(images):
        raise ValueError(f"classifier_accuracies: {len(images)} images but {len(labels)} labels.")
    out = {}
    for kind, model in classifiers.items():
        ev = evaluate_classifier(model, cifar_classifier_input(images, kind), labels, batch_size)
        out[kind] = {"accuracy": ev["accuracy"],
                     "ci95": list(binomial_interval(ev["accuracy"], len(labels))),
                     "per_class": ev["per_class_accuracy"], "n": len(labels)}
    return out


def _summary(values) -> dict:
    v = np.asarray(values, np.float64)
    return {"mean": float(v.mean()), "median": float(np.median(v))}


def gray2color_report(
    generators: dict,
    gray,
    colour,
    labels,
    classifiers: dict | None = None,
    *,
    batch_size: int = 256,
) -> dict:
    """The gray -> colour table: every colourizer scored against the true colours.

    Args:
        generators: ``{name: G}`` with ``G`` a Keras model ``(N, 32, 32, 1) -> (N, 32, 32, 3)``
            in [-1, 1] (or precomputed ``(N, 32, 32, 3)`` arrays of colourizations).
        gray: ``(N, 32, 32, 1)`` luma of the test images; colour: ``(N, 32, 32, 3)`` their true
            colours; labels: ``(N,)`` their classes.
        classifiers: ``{kind: model}`` as for :func:`classifier_accuracies` (``None``: no
            classifier rows).

    Returns:
        ``{"n": N, "rows": {name: {...}}}`` with a row per generator plus ``"gray"`` (the input
        repeated in R, G, B: the baseline) and ``"truth"`` (the real colours). Each row:
        ``psnr`` and ``ssim`` against the truth (mean over images; ``inf`` PSNR of identical
        images is left out), ``luma_corr`` (mean and median of :func:`luma_correlation`, and
        ``luma_corr_negative``: the share of images below 0), ``colourfulness`` (mean),
        ``saturation_distance`` to the true colours of the same images, and per classifier
        ``accuracy``, ``ci95``, ``per_class``.
    """
    gray = _gray(gray, "gray2color_report")
    colour = _rgb(colour, "gray2color_report")
    if len(gray) != len(colour) or len(gray) != len(labels):
        raise ValueError(f"gray2color_report: {len(gray)} gray, {len(colour)} colour images and "
                         f"{len(labels)} labels; they must describe the same test images.")
    outputs = {"gray": np.asarray(to_channels(gray, 3), np.float32)}
    for name, g in generators.items():
        outputs[name] = (np.asarray(g, np.float32) if isinstance(g, np.ndarray)
                         else colourize(g, gray, batch_size))
    outputs["truth"] = colour
    rows = {}
    for name, out in outputs.items():
        p = psnr(out, colour)
        r = luma_correlation(gray, out)
        row = {"psnr": float(np.mean(p[np.isfinite(p)])) if np.isfinite(p).any()
               else float("inf"),
               "ssim": float(np.mean(ssim(out, colour))),
               "luma_corr": _summary(r),
               "luma_corr_negative": float(np.mean(r < 0)),
               "colourfulness": float(np.mean(colourfulness(out))),
               "saturation_distance": saturation_distance(out, colour)}
        if classifiers:
            row["classifiers"] = classifier_accuracies(classifiers, out, labels, batch_size)
        rows[name] = row
    return {"n": len(gray), "rows": rows}
