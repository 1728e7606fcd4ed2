"""Training CycleGAN: the ``train`` entry point, its callbacks, and the cost of a step.

* :mod:`~cyclegan_lesson.training.trainer` -- ``train`` (data, model, restore, fit in segments,
  export), ``train_paired``, ``benchmark``;
* :mod:`~cyclegan_lesson.training.callbacks` -- sample grids, the luma monitor, the non-finite
  guard, checkpoint + resume;
* :mod:`~cyclegan_lesson.training.profiling` -- a step's operations, FLOPs, ceilings, profile.

May import: everything below it (top-level modules, ``nn``, ``book``, ``evaluation``,
``models``) and ``training``.
"""
