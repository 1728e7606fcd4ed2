"""Where the time of a CycleGAN training step goes, and how close it runs to the machine's peak.

* :func:`network_flops` -- floating-point operations of one forward pass of a network on one
  image, counted from its convolution and dense layers (2 per multiply-add).
* :func:`step_flops` -- the operations of one training step of
  :class:`~cyclegan_lesson.models.cyclegan.CycleGAN` (every generator and discriminator pass,
  forward
  and backward), per image pair; ``x batch size`` for a step.
* :func:`matmul_peak` -- the arithmetic rate this machine reaches on a large square matrix
  product (GFLOP/s), the practical ceiling any convolution runs under.
* :func:`profile_step` -- the TensorFlow profiler's op self-time of a few training steps, summed
  by op type and by part of the step (generators forward/backward, discriminators, optimizers,
  pools, the rest).
* :func:`step_runner` -- a model's compiled training function on a fixed batch, as both
  ``bench --compare-plain`` and :func:`profile_step` time it.

``python -m cyclegan_lesson bench`` reports ``gflop_per_step`` and the achieved GFLOP/s;
``--peak`` adds :func:`matmul_peak` and the fraction of it, ``--profile`` the tables of
:func:`profile_step`. Elementwise work (normalization, activations, padding, the optimizers)
is left out of the counts: it is under 1 % of the operations though not of the time, which is
what the profile shows.
"""

from __future__ import annotations

import collections
import glob
import re
import tempfile
import time

import keras
import numpy as np

__all__ = ["network_flops", "step_flops", "matmul_peak", "profile_step", "step_runner",
           "PROFILE_PARTS"]

#: The parts :func:`profile_step` sums op self-time into, in the order it reports them.
PROFILE_PARTS = ("generators, forward", "generators, backward", "discriminators, forward",
                 "discriminators, backward", "optimizers and schedule", "image pools",
                 "losses, metrics, other")


# ---------------------------------------------------------------------------------------------
# Counting operations
# ---------------------------------------------------------------------------------------------


def _layers(model: keras.Model):
    """The layers of ``model`` with weights to count, nested models flattened, in build order."""
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose,
                                  keras.layers.Dense))]


def _layer_flops(layer) -> int:
    """2 x multiply-adds of ``layer`` on one sample (its built input/output shapes)."""
    if isinstance(layer, keras.layers.Conv2DTranspose):  # every input pixel scatters k x k taps
        _, h, w, c_in = layer.input.shape
        kh, kw = layer.kernel_size
        return 2 * h * w * kh * kw * c_in * layer.filters
    if isinstance(layer, keras.layers.Conv2D):
        _, h, w, c_out = layer.output.shape
        kh, kw = layer.kernel_size
        c_in = layer.input.shape[-1] // layer.groups
        return 2 * h * w * kh * kw * c_in * c_out
    inputs = layer.input.shape  # Dense on (N, ..., features)
    positions = int(np.prod([d for d in inputs[1:-1]], dtype=np.int64)) if len(inputs) > 2 else 1
    return 2 * positions * inputs[-1] * layer.units


def network_flops(model: keras.Model) -> int:
    """Floating-point operations (2 per multiply-add) of one forward pass of ``model`` on one
    image: the sum over its ``Conv2D``, ``Conv2DTranspose`` and ``Dense`` layers, nested models
    included. ``model`` must be built with a fixed image size (e.g.
    ``networks.resnet_generator(6, 64, 32)``: 1,095,499,776, about 1.1 GFLOP).
    """
    layers = _layers(model)
    for layer in layers:
        shape = layer.input.shape
        if any(d is None for d in shape[1:]):
            raise ValueError(
                f"network_flops: layer {layer.name} of {model.name} has input shape {shape} with "
                "an unknown size; build the network with a fixed image_size to count its work.")
    return int(sum(_layer_flops(layer) for layer in layers))


def _step_plan(model, discriminators_reuse_fakes: bool) -> list[tuple[str, keras.Model, dict]]:
    """What one training step runs of each network: ``(part, network, counts)`` with counts of
    forward passes, weight-gradient passes, input-gradient passes and passes whose first
    layer's input gradient nobody needs (they start from data)."""
    identity = bool(getattr(model, "use_identity", False))
    data = 2 if identity else 1  # G_AB(a) [+ G_AB(b)]; likewise G_BA(b) [+ G_BA(a)]
    plan = []
    for g in (model.G_AB, model.G_BA):
        learnt = bool(g.trainable_weights)
        plan.append(("generators", g, {
            "forward": data + 1,  # + the pass on the other generator's output (the cycle)
            # the cycle pass needs input gradients (they reach the other generator); a fixed
            # network (luma_g_ba) needs no gradient on data passes
            "weights": data + 1 if learnt else 0,
            "inputs": data + 1 if learnt else 1,
            "skip_first": data if learnt else 0}))
    for d in (model.D_A, model.D_B):
        plan.append(("discriminators", d, {
            # judging the fake for the generators (forward, input gradients), then the update
            # on D(real) and D(pooled fake): forward, weight and input gradients
            "forward": 1 + (1 if discriminators_reuse_fakes else 2),
            "weights": 2,
            "inputs": 1 + 2,
            "skip_first": 2}))
    return plan


def step_flops(model, *, discriminators_reuse_fakes: bool = False) -> dict:
    """Floating-point operations of one training step of a CycleGAN, per image pair.

    Counts what :meth:`CycleGAN.train_step <cyclegan_lesson.models.cyclegan.CycleGAN.train_step>`
    computes, each convolution's backward as an input gradient and a weight gradient of the
    forward's size, skipping what no gradient needs:

    * generators: 4 passes (``G_AB(a)``, ``G_BA(b)``, ``G_BA(G_AB(a))``, ``G_AB(G_BA(b))``) plus
      2 identity passes when the identity weight is > 0; each forward, weight gradients, and
      input gradients (less the first layer's for the passes that start from data);
    * discriminators in the generator update: ``D_B(fake_b)``, ``D_A(fake_a)``, forward and input
      gradients (they carry the adversarial gradient back to the generators);
    * discriminator update: ``D(real)`` and ``D(pooled fake)`` for both, forward, weight
      gradients and input gradients less the first layer's. With
      ``discriminators_reuse_fakes=True`` (the keras.io-style model of
      :mod:`cyclegan_lesson.tools.bench_plain`, which has no pool) the fakes' forward passes of the
      generator update are reused, so only ``D(real)`` is run again.

    Args:
        model: a :class:`~cyclegan_lesson.models.cyclegan.CycleGAN`, or any object with ``G_AB``,
            ``G_BA``, ``D_A``, ``D_B`` networks of fixed image size and ``use_identity``.

    Returns:
        ``{"generators_forward", "generators_backward", "discriminators", "total"}`` (ints,
        per image pair: multiply by the batch size for a step).
    """
    for name in ("G_AB", "G_BA", "D_A", "D_B"):
        if not hasattr(model, name):
            raise TypeError(f"step_flops: expected a CycleGAN with G_AB, G_BA, D_A and D_B, got "
                            f"{type(model).__name__} without {name}.")
    parts = {"generators_forward": 0, "generators_backward": 0, "discriminators": 0}
    for part, network, n in _step_plan(model, discriminators_reuse_fakes):
        forward = network_flops(network)  # (checks that the image size is fixed)
        layers = _layers(network)
        weights = sum(_layer_flops(layer) for layer in layers if layer.trainable_weights)
        first = _layer_flops(layers[0]) if layers else 0
        backward = n["weights"] * weights + n["inputs"] * forward - n["skip_first"] * first
        if part == "generators":
            parts["generators_forward"] += n["forward"] * forward
            parts["generators_backward"] += backward
        else:
            parts["discriminators"] += n["forward"] * forward + backward
    parts["total"] = sum(parts.values())
    return parts


# ---------------------------------------------------------------------------------------------
# The machine's ceiling
# ---------------------------------------------------------------------------------------------


def matmul_peak(dtype: str = "float32", n: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of an ``n x n`` by ``n x n`` matrix product in ``dtype`` (``"float32"``,
    ``"bfloat16"`` or ``"float16"``) on TensorFlow's default device: the best of ``repeats``
    timed products after one untimed one. A convolution is a matrix product in disguise, so this
    is the rate a training step's arithmetic cannot beat on this machine (the course's 2-core
    AVX-512 CPU: about 200 in float32). On an NVIDIA GPU since Ampere TensorFlow runs float32
    products as TensorFloat-32 by default, so ``"float32"`` measures that rate there.
    """
    import tensorflow as tf

    if dtype not in ("float32", "bfloat16", "float16"):
        raise ValueError(f"matmul_peak: dtype must be float32, bfloat16 or float16, got {dtype!r}")
    if n < 1 or repeats < 1:
        raise ValueError(f"matmul_peak: n and repeats must be positive, got {n} and {repeats}")
    a = tf.cast(tf.random.stateless_uniform((n, n), seed=(0, 1)), dtype)
    b = tf.cast(tf.random.stateless_uniform((n, n), seed=(0, 2)), dtype)
    product = tf.function(lambda x, y: tf.reduce_sum(tf.cast(tf.matmul(x, y)[:1, :1], "float32")))
    float(product(a, b))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        float(product(a, b))  # the scalar forces the product to finish
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


# ---------------------------------------------------------------------------------------------
# Timing and profiling a training step
# ---------------------------------------------------------------------------------------------


def step_runner(model: keras.Model, batch):
    """A function ``run(n) -> [seconds, ...]`` timing ``n`` calls of ``model``'s compiled
    training function on ``batch`` (a tuple of NumPy arrays, repeated), each waited for."""
    import tensorflow as tf

    model.make_train_function()
    fn = model.train_function
    iterator = iter(tf.data.Dataset.from_tensors(batch).repeat())

    def run(n: int) -> list[float]:
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            logs = fn(iterator)
            float(np.asarray(next(iter(logs.values()))))  # wait for the step to finish
            times.append(time.perf_counter() - t0)
        return times

    return run


def _xplane_module():
    try:
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    except ImportError as exc:  # moved in some TensorFlow versions
        raise RuntimeError(
            "profile_step reads the TensorFlow profiler's trace with "
            "tensorflow.tsl.profiler.protobuf.xplane_pb2, which this TensorFlow "
            f"({__import__('tensorflow').__version__}) does not have; use TensorFlow 2.16-2.21 "
            "or open the trace in TensorBoard's profile plugin.") from exc
    return xplane_pb2


#: Ops whose trace event spans the ops they run (counted themselves), left out of the sums.
_CONTAINER_OPS = frozenset({"StatefulPartitionedCall", "PartitionedCall", "While",
                            "StatelessWhile", "If", "StatelessIf", "Case", "StatelessCase"})


def _part(op_name: str, generators: tuple[str, ...], discriminators: tuple[str, ...]) -> str:
    """The :data:`PROFILE_PARTS` entry an op belongs to, from its graph name."""
    scopes = op_name.split("/")
    backward = "gradient_tape" in scopes

    def within(names):
        return any(re.fullmatch(rf"{re.escape(n)}(_\d+)?", s) for s in scopes for n in names)

    if within(generators):
        return "generators, backward" if backward else "generators, forward"
    if within(discriminators):
        return "discriminators, backward" if backward else "discriminators, forward"
    if any(s.startswith(("adam", "Adam", "loss_scale", "learning_rate")) for s in scopes):
        return "optimizers and schedule"
    if any(s.startswith("pool_") for s in scopes):
        return "image pools"
    return "losses, metrics, other"


def profile_step(model: keras.Model, batch, steps: int = 3, warmup: int = 2,
                 networks: dict | None = None) -> dict:
    """Profile ``steps`` training steps of ``model`` on ``batch`` with the TensorFlow profiler.

    Args:
        model: a compiled Keras model with a ``train_step`` (a CycleGAN, or
            :class:`~cyclegan_lesson.tools.bench_plain.PlainCycleGAN`).
        batch: the tuple of NumPy arrays one step trains on (repeated).
        steps, warmup: profiled steps, after ``warmup`` untimed ones (tracing).
        networks: ``{"generators": names, "discriminators": names}``, the sub-models' names as
            they appear in the graph's op names (default: the CycleGAN's ``G_AB``, ``G_BA`` /
            ``D_A``, ``D_B``).

    Returns:
        ``wall_ms`` (per step), ``op_ms`` (op self-time per step, summed over the threads that
        ran ops at the same time, so it can exceed the wall time), ``by_part`` (``PROFILE_PARTS``
        -> ms per step and share) and ``by_type`` (op type -> ms per step and share, largest
        first; oneDNN kernels appear as ``_MklNative...``).

    On a CPU an op's self-time is its compute time. On a GPU the host trace read here holds the
    ops' launch times, not their kernels' run times: open the trace in TensorBoard's profile
    plugin there instead.
    """
    import tensorflow as tf

    xplane_pb2 = _xplane_module()
    if steps < 1 or warmup < 0:
        raise ValueError(f"profile_step: steps must be >= 1 and warmup >= 0, got {steps}, "
                         f"{warmup}")
    if networks is None:
        networks = {"generators": tuple(m.name for m in (model.G_AB, model.G_BA)),
                    "discriminators": tuple(m.name for m in (model.D_A, model.D_B))}
    run = step_runner(model, batch)
    run(max(warmup, 1))
    with tempfile.TemporaryDirectory() as logdir:
        options = tf.profiler.experimental.ProfilerOptions(host_tracer_level=3,
                                                           python_tracer_level=0,
                                                           device_tracer_level=1)
        tf.profiler.experimental.start(logdir, options=options)
        try:
            wall = sum(run(steps))
        finally:
            tf.profiler.experimental.stop()
        files = glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)
        if not files:
            raise RuntimeError(f"profile_step: the profiler wrote no trace under {logdir}")
        space = xplane_pb2.XSpace()
        with open(files[0], "rb") as fh:
            space.ParseFromString(fh.read())
    by_type: collections.Counter = collections.Counter()
    by_part: collections.Counter = collections.Counter()
    gens, discs = tuple(networks["generators"]), tuple(networks["discriminators"])
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                # TensorFlow ops are traced as "op/name:OpType"; runtime events have "::"
                if ":" not in name or "::" in name:
                    continue
                op_name, _, op_type = name.rpartition(":")
                if not re.fullmatch(r"_?[A-Za-z][A-Za-z0-9_]*", op_type) or \
                        op_type in _CONTAINER_OPS:
                    continue  # a function call or loop: its ops are counted themselves
                ms = event.duration_ps / 1e9 / steps
                by_type[op_type] += ms
                by_part[_part(op_name, gens, discs)] += ms
    total = sum(by_type.values())
    if total <= 0:
        raise RuntimeError("profile_step: the trace holds no TensorFlow op events")

    def rows(counter, keys):
        return {k: {"ms": round(counter[k], 2), "share": round(counter[k] / total, 4)}
                for k in keys}

    return {
        "steps": steps,
        "wall_ms": round(1000 * wall / steps, 2),
        "op_ms": round(total, 2),
        "by_part": rows(by_part, PROFILE_PARTS),
        "by_type": rows(by_type, [k for k, _ in by_type.most_common()]),
    }
