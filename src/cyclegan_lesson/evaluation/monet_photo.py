"""Chapter 14's measures of a Monet <-> photo translator: does the output pass for the other
collection, and is the input still there?

CycleGAN's third case study has no labels and no paired truth, so a translation is judged on
two axes that pull against each other (a generator can win either by giving up the other):

* **style**: the share of translated photos that a Monet-vs-photo classifier trained in the
  course (:mod:`cyclegan_lesson.evaluation.painting_classifier`) reads as Monet, and of translated
  paintings it reads as photos, beside the real images' rates; and a Frechet distance on that
  classifier's features to the real images of the target collection (**FD-painting**, the
  offline stand-in for FID: comparable within this chapter only, never with published FIDs);
* **content**: :func:`content_metrics.luma_ssim` and :func:`content_metrics.edge_similarity`
  between each input and its translation (the layout of light and dark, the edges), and the
  colour change (:func:`content_metrics.hue_shift`, :func:`content_metrics.colour_histogram_distance`),
  which the identity loss is meant to keep small (the paper's Figure 9).

:func:`monet_photo_report` computes every number of the chapter's table for a set of translators;
:func:`translate` runs a generator over a batch without holding the graph of all of it at once.
Images are NHWC float32 RGB in [-1, 1]; domain A is Monet, domain B is photos (the task
``monet2photo``): ``G_AB`` turns a painting into a photo, ``G_BA`` a photo into a painting.
"""

from __future__ import annotations

import numpy as np

from . import content_metrics, painting_classifier, sample_quality
from .colour_metrics import _rgb
from .metrics import binomial_interval, predict_in_batches

__all__ = ["translate", "style_scores", "content_scores", "monet_photo_report"]


def translate(generator, images, batch_size: int = 16) -> np.ndarray:
    """``generator(images)`` in inference mode, ``batch_size`` images at a time:
    ``(N, H, W, 3)`` in [-1, 1] -> ``(N, H, W, 3)`` in [-1, 1]."""
    x = _rgb(images, "translate")
    return predict_in_batches(lambda b: generator(b, training=False), x, batch_size)


def style_scores(judge, images, reference=None, *, monet: bool,
                 reference_features=None) -> dict:
    """How ``images`` read to a Monet-vs-photo ``judge``.

    Returns ``{"share", "k", "n", "low", "high"}`` -- the share read as the collection named by
    ``monet`` (True: Monet, False: photo) with its Wilson 95 % interval -- and ``fd`` / ``kd``:
    Frechet and kernel distances on the judge's pooled features between ``images`` and the real
    images ``reference`` of that collection (or their precomputed ``reference_features``,
    :func:`sample_quality.classifier_features`, to score many image sets against one
    reference without recomputing it)."""
    x = _rgb(images, "style_scores")
    if (reference is None) == (reference_features is None):
        raise ValueError("style_scores: give the reference images or their features (one of "
                         "reference, reference_features).")
    if reference_features is None:
        reference_features = sample_quality.classifier_features(
            judge, _rgb(reference, "style_scores"))
    f = sample_quality.classifier_features(judge, x)
    s = painting_classifier.monet_share(judge, x, features=f)  # one pass: logit from features
    if not monet:
        k = s["n"] - s["k"]
        low, high = binomial_interval(k / s["n"], s["n"])
        s = {"k": k, "n": s["n"], "share": k / s["n"], "low": low, "high": high}
    s.update(fd=sample_quality.frechet_distance_of_features(f, reference_features),
             kd=sample_quality.kernel_distance(f, reference_features))
    return s


def content_scores(images, translations, *, size: int = 64) -> dict:
    """Per-image content and colour measures between ``images`` and their ``translations``
    (same shape), summarised as ``{measure: {"median", "mean", "q25", "q75"}}`` for
    ``luma_ssim`` and ``edge_similarity`` (both at ``size`` x ``size``), ``hue_shift`` (degrees)
    and ``colour_histogram_distance``; ``values`` holds the per-image arrays as lists."""
    a, b = _rgb(images, "content_scores"), _rgb(translations, "content_scores")
    if a.shape != b.shape:
        raise ValueError(f"content_scores: {a.shape} images but {b.shape} translations; each "
                         "image needs its own translation of the same size.")
    values = {
        "luma_ssim": content_metrics.luma_ssim(a, b, size),
        "edge_similarity": content_metrics.edge_similarity(a, b, size),
        "hue_shift": content_metrics.hue_shift(a, b),
        "colour_histogram_distance": content_metrics.colour_histogram_distance(a, b),
    }
    out = {}
    for name, v in values.items():
        v = np.asarray(v, np.float64)
        ok = v[np.isfinite(v)]
        out[name] = {"median": float(np.median(ok)), "mean": float(ok.mean()),
                     "q25": float(np.percentile(ok, 25)), "q75": float(np.percentile(ok, 75))}
    out["values"] = {k: [float(t) for t in v] for k, v in values.items()}
    return out


def monet_photo_report(translators: dict, photos, paintings, judges: dict, *,
                       reference_photos=None, reference_paintings=None,
                       batch_size: int = 16, size: int = 64) -> dict:
    """The chapter's table: every translator scored in both directions.

    Args:
        translators: ``{name: (G_BA, G_AB)}`` -- photo -> Monet and Monet -> photo generators
            (Keras models, or precomputed translation arrays of ``photos`` and ``paintings``).
        photos, paintings: the held-out test images ``(N, H, W, 3)`` in [-1, 1].
        judges: ``{name: classifier}`` Monet-vs-photo classifiers (logit of Monet).
        reference_photos, reference_paintings: the real images the Frechet distances compare
            with (default: ``photos`` and ``paintings`` themselves).
        size: the resolution of the content measures.

    Returns:
        ``{"n": {"photos", "paintings"}, "real": {judge: {"photos_read_as_monet",
        "paintings_read_as_monet"}}, "rows": {name: {"photo->monet": {judge: style_scores,
        "content": content_scores}, "monet->photo": {...}}}}``.
    """
    photos = _rgb(photos, "monet_photo_report")
    paintings = _rgb(paintings, "monet_photo_report")
    if not judges:
        raise ValueError("monet_photo_report: give at least one judge (painting_classifier).")
    ref_p = photos if reference_photos is None else _rgb(reference_photos, "monet_photo_report")
    ref_m = (paintings if reference_paintings is None
             else _rgb(reference_paintings, "monet_photo_report"))
    feats = {jn: {"monet": sample_quality.classifier_features(j, ref_m),
                  "photo": sample_quality.classifier_features(j, ref_p)}
             for jn, j in judges.items()}

    def score(images, monet: bool) -> dict:
        return {jn: style_scores(j, images, monet=monet,
                                 reference_features=feats[jn]["monet" if monet else "photo"])
                for jn, j in judges.items()}

    real_p, real_m = score(photos, True), score(paintings, True)
    real = {jn: {"photos_read_as_monet": real_p[jn], "paintings_read_as_monet": real_m[jn]}
            for jn in judges}
    rows = {}
    for name, (g_ba, g_ab) in translators.items():
        fake_m = (np.asarray(g_ba, np.float32) if isinstance(g_ba, np.ndarray)
                  else translate(g_ba, photos, batch_size))
        fake_p = (np.asarray(g_ab, np.float32) if isinstance(g_ab, np.ndarray)
                  else translate(g_ab, paintings, batch_size))
        row = {"photo->monet": score(fake_m, True), "monet->photo": score(fake_p, False)}
        row["photo->monet"]["content"] = content_scores(photos, fake_m, size=size)
        row["monet->photo"]["content"] = content_scores(paintings, fake_p, size=size)
        rows[name] = row
    return {"n": {"photos": len(photos), "paintings": len(paintings)}, "real": real,
            "rows": rows}
