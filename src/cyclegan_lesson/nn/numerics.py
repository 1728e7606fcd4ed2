"""Numerics every network shares: the precision policy networks are built under, and the check
that no weight is NaN or infinite.

* :data:`PRECISIONS`, :func:`check_precision`, :func:`precision_scope` -- build networks under a
  ``keras.mixed_precision`` policy (the engine's ``--precision``; a frozen judge inside a loss is
  loaded in float32);
* :class:`NonFiniteError`, :func:`first_non_finite_weight` -- training and export refuse NaN or
  infinite weights (:mod:`cyclegan_lesson.training.callbacks`,
  :func:`cyclegan_lesson.models.cyclegan.save_generators`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
import numpy as np

__all__ = ["PRECISIONS", "check_precision", "precision_scope", "NonFiniteError",
           "first_non_finite_weight"]

#: The ``keras.mixed_precision`` policies the engine trains with (``--precision``):
#: ``float32`` (default), ``mixed_bfloat16`` (CPUs with AVX512-BF16/AMX, TPUs, recent GPUs) and
#: ``mixed_float16`` (GPUs; the optimizers then scale the loss).
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else ``ValueError`` listing them."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


@contextlib.contextmanager
def precision_scope(precision: str = "float32") -> Iterator[str]:
    """Build networks under the ``keras.mixed_precision`` policy ``precision``; the previous
    global policy is restored on exit.

    Layers built inside compute in ``bfloat16``/``float16`` and keep float32 weights. What must
    stay float32 does: instance-norm statistics
    (:class:`~cyclegan_lesson.nn.layers.InstanceNormalization`), the generators' final ``tanh``
    and the discriminators' logits (``dtype="float32"`` layers), every loss
    (:mod:`cyclegan_lesson.nn.losses` casts to float32) and the image pools.
    """
    check_precision(precision)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        yield precision
    finally:
        keras.mixed_precision.set_global_policy(previous)


class NonFiniteError(RuntimeError):
    """Training produced a loss or a weight that is NaN or infinite (one-line message: the
    step, the loss term or variable, and what was (not) saved)."""


def first_non_finite_weight(model) -> str | None:
    """The path of the first variable of ``model`` (its networks and image pools) holding a
    NaN or an infinity, or ``None`` when every weight is finite."""
    for variable in model.weights:
        if not np.all(np.isfinite(np.asarray(variable))):
            return variable.path
    return None
