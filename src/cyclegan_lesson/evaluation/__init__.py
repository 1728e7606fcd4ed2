"""The judges: measures of images and of translations, and the classifiers that score them.

* :mod:`~cyclegan_lesson.evaluation.metrics` -- PSNR/SSIM, confidence intervals, label
  preservation and other numbers computed from arrays;
* :mod:`~cyclegan_lesson.evaluation.colour_metrics` -- luma, chroma, colourfulness, saturation;
* :mod:`~cyclegan_lesson.evaluation.content_metrics` -- what a style transfer keeps (luma SSIM,
  edges, hue, checkerboards);
* :mod:`~cyclegan_lesson.evaluation.classifiers` -- the digit, realism and CIFAR-10 classifiers
  (train, load the shipped ones);
* :mod:`~cyclegan_lesson.evaluation.painting_classifier` -- the Monet-vs-photo judge;
* :mod:`~cyclegan_lesson.evaluation.sample_quality` -- Frechet/kernel distances, coverage,
  conditioning accuracy, CAS, diversity;
* :mod:`~cyclegan_lesson.evaluation.case_studies` -- the case studies' tables (MNIST <-> SVHN,
  gray -> colour);
* :mod:`~cyclegan_lesson.evaluation.monet_photo` -- the Monet <-> photo table.

A judge measures images; it never needs a model of the course. May import: the top-level
modules, ``nn``, ``book`` and ``evaluation`` (in the order of the list above).
"""
