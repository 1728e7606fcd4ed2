"""The CycleGAN training machinery: image pool, learning-rate schedule, the model, export.

Everything here follows the paper (Zhu et al., ICCV 2017) and its official implementation
(``pytorch-CycleGAN-and-pix2pix``):

* :class:`ImagePool` -- the history buffer of generated images the discriminators are trained on
  (Shrivastava et al. 2017), 50 images, swapped with probability 0.5 once full.
* :class:`LinearDecay` -- learning rate 2e-4 for ``n_epochs``, then linearly to zero over
  ``n_epochs_decay``.
* :class:`CycleGAN` -- a ``keras.Model`` holding ``G_AB: A -> B``, ``G_BA: B -> A`` and the two
  discriminators ``D_A`` (real A vs ``G_BA(b)``) and ``D_B`` (real B vs ``G_AB(a)``). Its
  ``train_step`` updates both generators with one gradient of the total generator loss, then both
  discriminators on pooled fakes, exactly in the order of the official code, and returns every
  loss term. It trains with ``model.fit`` (progress bar, callbacks), under
  ``tf.distribute.MirroredStrategy`` and optionally XLA-compiled (``jit_compile=True``).
* :func:`save_generators` / :func:`load_generator` -- the ``.keras`` files users apply.

Images are NHWC float32 in [-1, 1]. The model math uses ``keras.ops``; the training step and the
pool use TensorFlow (``tf.GradientTape``, ``tf.while_loop``, stateless random ops), the backend
this course trains on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import keras
import numpy as np
from keras import ops

from ..files import keras_compat
from ..files import atomic
from ..nn import losses
from ..nn.numerics import (PRECISIONS, NonFiniteError, check_precision,  # noqa: F401
                           first_non_finite_weight, precision_scope)

__all__ = [
    "ImagePool",
    "LinearDecay",
    "PRECISIONS",
    "precision_scope",
    "CycleGAN",
    "LOSS_NAMES",
    "LUMA_LOSS_NAMES",
    "build_cyclegan",
    "default_optimizer",
    "StepCountingLossScaleOptimizer",
    "save_generators",
    "load_generator",
]

#: The loss terms ``CycleGAN.train_step`` / ``test_step`` report, in this order: the six
#: weighted generator terms of :func:`losses.generator_total_loss` (``adv_ab`` = adversarial
#: loss of ``G_AB`` against ``D_B``, ``cycle_aba`` = lambda_A |a - G_BA(G_AB(a))|, ``identity_ab``
#: = lambda_idt lambda_B |b - G_AB(b)|, ...), their sum ``G_total``, and the halved
#: discriminator losses ``D_A`` and ``D_B``.
LOSS_NAMES = (*losses.GENERATOR_LOSS_TERMS, "G_total", "D_A", "D_B")
#: The two extra terms reported when ``weights.lambda_luma > 0`` (gray <-> colour domains).
LUMA_LOSS_NAMES = ("luma_ab", "luma_ba")


def _tf():
    import tensorflow as tf

    return tf


# --------------------------------------------------------------------------------------------
# Image pool
# --------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class ImagePool(keras.layers.Layer):
    """A buffer of previously generated images (the paper's Sec. 4, after Shrivastava et al.).

    For every image of a batch, in order, exactly as ``ImagePool.query`` of the official code:

    * while fewer than ``size`` images are stored, store the image and return it;
    * once full, with probability 0.5 return a stored image chosen uniformly at random and store
      the new image in its place, otherwise return the new image unchanged.

    ``size=0`` disables the pool (images pass through). The discriminators then see a mix of
    current and older fakes, which damps the oscillation of adversarial training.

    Input and output: ``(N, H, W, C)`` float32 batches (NumPy arrays or tensors). ``H, W, C``
    are fixed at the first call (or by :meth:`build`). Calling the layer returns a tensor;
    :meth:`query` returns the same kind it was given (NumPy in, NumPy out).

    The state lives in non-trainable variables (``images``, ``num_images``, ``draws``), so it is
    saved by ``tf.train.Checkpoint`` with the model, and :meth:`get_state` / :meth:`set_state`
    expose it as NumPy. Randomness comes from stateless random ops keyed by ``(seed, draws)``:
    the same seed and state give the same decisions, in eager mode, inside ``tf.function``,
    under XLA and after a resume. Under ``MirroredStrategy`` the replicas' batches are gathered,
    the pool is queried once on the global batch (identically on every replica), and each replica
    takes back its own slice -- one pool, as with a single device.
    """

    def __init__(self, size: int = 50, seed: int | None = None, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        if int(size) < 0:
            raise ValueError(f"ImagePool: size must be >= 0, got {size}.")
        self.size = int(size)
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        self.seed = int(seed)

    def build(self, input_shape):
        if len(input_shape) != 4 or any(d is None for d in input_shape[1:]):
            raise ValueError(
                "ImagePool needs NHWC batches with known height, width and channels, got shape "
                f"{tuple(input_shape)}."
            )
        shape = (max(self.size, 1), *(int(d) for d in input_shape[1:]))
        # ONLY_FIRST_REPLICA: every replica computes the same new state (see class docstring);
        # the aggregation mode is what allows assigning a mirrored variable inside a replica.
        self.images = self.add_weight(
            shape=shape, initializer="zeros", trainable=False, name="images",
            aggregation="only_first_replica",
        )
        self.num_images = self.add_weight(
            shape=(), initializer="zeros", dtype="int64", trainable=False, name="num_images",
            aggregation="only_first_replica",
        )
        self.draws = self.add_weight(
            shape=(), initializer="zeros", dtype="int64", trainable=False, name="draws",
            aggregation="only_first_replica",
        )

    # -- the algorithm, on the whole (global) batch ------------------------------------------
    def _query_batch(self, images):
        tf = _tf()
        n = tf.shape(images)[0]
        size = tf.constant(self.size, tf.int64)
        seed0 = tf.constant(self.seed, tf.int64)
        draws0 = tf.convert_to_tensor(self.draws)

        def body(i, buffer, count, outputs):
            image = images[i]
            key = tf.stack([seed0, draws0 + tf.cast(i, tf.int64)])
            u = tf.random.stateless_uniform([2], seed=key, dtype=tf.float32)
            index = tf.minimum(tf.cast(u[1] * self.size, tf.int64), size - 1)

            def fill():
                new = tf.tensor_scatter_nd_update(buffer, [[count]], image[None])
                return new, count + 1, image

            def swap():
                old = buffer[index]
                new = tf.tensor_scatter_nd_update(buffer, [[index]], image[None])
                return new, count, old

            def keep():
                return buffer, count, image

            buffer, count, out = tf.cond(
                count < size, fill, lambda: tf.cond(u[0] > 0.5, swap, keep)
            )
            outputs = tf.tensor_scatter_nd_update(outputs, [[i]], out[None])
            return i + 1, buffer, count, outputs

        _, buffer, count, outputs = tf.while_loop(
            lambda i, *_: i < n,
            body,
            (tf.constant(0), tf.convert_to_tensor(self.images),
             tf.convert_to_tensor(self.num_images), tf.zeros_like(images)),
        )
        self.images.assign(buffer)
        self.num_images.assign(count)
        self.draws.assign(draws0 + tf.cast(n, tf.int64))
        return outputs

    def call(self, images):
        tf = _tf()
        images = tf.cast(tf.convert_to_tensor(images), self.images.dtype)
        if self.size == 0:
            return images
        images = tf.stop_gradient(images)
        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            n = tf.shape(images)[0]
            everything = ctx.all_gather(images, axis=0)
            pooled = self._query_batch(everything)
            start = tf.cast(ctx.replica_id_in_sync_group, tf.int32) * n
            return pooled[start : start + n]
        return self._query_batch(images)

    def query(self, images):
        """Pass a batch through the pool; NumPy in gives NumPy out, a tensor gives a tensor."""
        out = self(images)
        return np.asarray(out) if isinstance(images, np.ndarray) else out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "seed": self.seed}

    # -- state as NumPy (for inspection and for resuming without tf.train.Checkpoint) ---------
    def get_state(self) -> dict:
        """The pool's full state: ``size``, ``seed``, ``num_images``, ``draws`` and ``images``
        (the stored images, ``(num_images, H, W, C)`` float32)."""
        if not self.built:
            return {"size": self.size, "seed": self.seed, "num_images": 0, "draws": 0,
                    "images": None}
        count = int(np.asarray(self.num_images))
        return {
            "size": self.size,
            "seed": self.seed,
            "num_images": count,
            "draws": int(np.asarray(self.draws)),
            "images": np.asarray(self.images)[:count].copy(),
        }

    def set_state(self, state: Mapping) -> None:
        """Restore a state returned by :meth:`get_state` (same ``size``)."""
        if int(state["size"]) != self.size:
            raise ValueError(f"ImagePool.set_state: size {state['size']} != pool size {self.size}.")
        self.seed = int(state["seed"])
        images = state["images"]
        count = int(state["num_images"])
        if count and not self.built:
            self.build((None, *np.shape(images)[1:]))
        if self.built:
            buffer = np.zeros(tuple(self.images.shape), dtype=np.float32)
            if count:
                buffer[:count] = np.asarray(images, dtype=np.float32)[:count]
            self.images.assign(buffer)
            self.num_images.assign(count)
            self.draws.assign(int(state["draws"]))


# --------------------------------------------------------------------------------------------
# Learning-rate schedule
# --------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """The paper's schedule: ``initial_lr`` for ``n_epochs`` epochs, then linearly to zero over
    ``n_epochs_decay`` epochs (and zero afterwards).

    ``lr(step) = initial_lr * (1 - clip((step / steps_per_epoch - n_epochs) / n_epochs_decay,
    0, 1))``

    ``step`` is the optimizer's update counter, so the schedule position is restored with the
    optimizer state when training resumes. The decay is per step (smooth); the official code
    lowers the rate once per epoch, which differs by at most one epoch's step.
    """

    def __init__(self, initial_lr: float = 2e-4, n_epochs: int = 100, n_epochs_decay: int = 100,
                 steps_per_epoch: int = 1):
        if initial_lr < 0:
            raise ValueError(f"LinearDecay: initial_lr must be >= 0, got {initial_lr}.")
        if n_epochs < 0 or n_epochs_decay < 0:
            raise ValueError(
                f"LinearDecay: n_epochs and n_epochs_decay must be >= 0, got {n_epochs}, "
                f"{n_epochs_decay}."
            )
        if steps_per_epoch < 1:
            raise ValueError(f"LinearDecay: steps_per_epoch must be >= 1, got {steps_per_epoch}.")
        self.initial_lr = float(initial_lr)
        self.n_epochs = int(n_epochs)
        self.n_epochs_decay = int(n_epochs_decay)
        self.steps_per_epoch = int(steps_per_epoch)

    def __call__(self, step):
        epoch = ops.cast(step, "float32") / float(self.steps_per_epoch)
        if self.n_epochs_decay > 0:
            frac = ops.clip((epoch - self.n_epochs) / float(self.n_epochs_decay), 0.0, 1.0)
        else:
            frac = ops.cast(epoch >= self.n_epochs, "float32")
        return self.initial_lr * (1.0 - frac)

    def get_config(self):
        return {
            "initial_lr": self.initial_lr,
            "n_epochs": self.n_epochs,
            "n_epochs_decay": self.n_epochs_decay,
            "steps_per_epoch": self.steps_per_epoch,
        }


def default_optimizer(learning_rate=2e-4) -> keras.optimizers.Optimizer:
    """Adam with the paper's ``beta_1 = 0.5`` (``learning_rate``: a float or a schedule)."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.5, beta_2=0.999)


@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class StepCountingLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """``keras.optimizers.LossScaleOptimizer`` whose skipped steps still count as steps.

    Under ``mixed_float16`` a step whose scaled gradients overflow is skipped (no update, the
    loss scale halved). Keras then leaves ``iterations`` unchanged, so the step counter would
    fall behind the batches trained on: a resumed run would skip too few batches of the data
    stream and the learning-rate schedule would lag. Here a skipped step advances
    ``iterations`` too, as PyTorch's ``GradScaler`` leaves its scheduler stepping, so
    ``CycleGAN.step`` is always the number of training steps run. Same variables as the Keras
    class, so checkpoints are interchangeable.
    """

    def _stateful_handle_non_finite_grads(self):
        super()._stateful_handle_non_finite_grads()
        self.inner_optimizer.iterations.assign_add(1)


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


def _image_shape(model: keras.Model, which: str) -> tuple[int, int, int]:
    shape = model.output_shape if which == "output" else model.input_shape
    if isinstance(shape, list):
        shape = shape[0]
    if len(shape) != 4:
        raise ValueError(f"{model.name}: expected an NHWC {which}, got shape {shape}.")
    return tuple(shape[1:])


#: Layers that mix the samples of a batch (their output for one image depends on the others).
_BATCH_COUPLED = (keras.layers.BatchNormalization,)


def _per_sample(model: keras.Model) -> bool:
    """Whether ``model`` computes each sample of a batch independently of the others (no batch
    norm), so that stacking two batches into one call gives the same per-sample outputs."""
    cached = getattr(model, "_cyclegan_per_sample", None)
    if cached is None:
        cached = not any(isinstance(layer, _BATCH_COUPLED) for layer in model._flatten_layers())
        model._cyclegan_per_sample = cached
    return cached


class CycleGAN(keras.Model):
    """Two generators and two discriminators trained together (Zhu et al. 2017).

    Args:
        generator_ab, generator_ba: ``G_AB: A -> B`` and ``G_BA: B -> A``, Keras models mapping
            NHWC images in [-1, 1] to NHWC images in [-1, 1] (tanh output). Their input channels
            may differ from their output channels (1 -> 3 for MNIST -> SVHN).
        discriminator_a, discriminator_b: ``D_A`` judges domain A (real A vs ``G_BA(b)``),
            ``D_B`` judges domain B (real B vs ``G_AB(a)``); any output shape (a PatchGAN map).
        weights: a :class:`losses.CycleGANLossWeights` (paper defaults: lambda_cycle 10 for both
            cycles, identity 0.5 x lambda, least-squares adversarial loss; ``mode="bce"`` for the
            log loss). The identity terms need ``G_AB`` to accept B images and ``G_BA`` to accept
            A images, i.e. equal channel counts; they are skipped (reported as 0) when the
            identity weight is 0.
        pool_size: size of each :class:`ImagePool` (50 in the paper; 0 disables it).
        seed: seed of the pools' random decisions.

    ``fit`` takes a dataset of ``(a_batch, b_batch)`` pairs (unpaired: independently drawn).
    ``train_step`` and ``test_step`` return :data:`LOSS_NAMES`, averaged over the epoch.
    Calling the model on ``(a, b)`` returns ``(G_AB(a), G_BA(b))``.
    """

    def __init__(
        self,
        generator_ab: keras.Model,
        generator_ba: keras.Model,
        discriminator_a: keras.Model,
        discriminator_b: keras.Model,
        *,
        weights: losses.CycleGANLossWeights | None = None,
        pool_size: int = 50,
        seed: int | None = None,
        name: str = "cyclegan",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.G_AB = generator_ab
        self.G_BA = generator_ba
        self.D_A = discriminator_a
        self.D_B = discriminator_b
        self.loss_weights = weights if weights is not None else losses.CycleGANLossWeights()
        if self.loss_weights.mode not in ("lsgan", "bce"):
            raise ValueError(
                f"CycleGAN: the adversarial loss must be 'lsgan' or 'bce', got "
                f"{self.loss_weights.mode!r} (WGAN needs a gradient penalty; see chapter 7)."
            )
        self.adversarial = self.loss_weights.mode

        a_in, b_out = _image_shape(generator_ab, "input"), _image_shape(generator_ab, "output")
        b_in, a_out = _image_shape(generator_ba, "input"), _image_shape(generator_ba, "output")
        if a_in[-1] != a_out[-1] or b_in[-1] != b_out[-1]:
            raise ValueError(
                f"CycleGAN: G_AB maps {a_in} -> {b_out} but G_BA maps {b_in} -> {a_out}; the "
                "channels of each domain must agree so that both cycles close."
            )
        self.a_shape, self.b_shape = a_out, b_out
        self.use_identity = float(self.loss_weights.lambda_identity) > 0
        if self.use_identity and a_in[-1] != b_in[-1]:
            raise ValueError(
                f"CycleGAN: the identity loss feeds B images to G_AB (and A to G_BA), which needs "
                f"equal channel counts, but A has {a_in[-1]} and B {b_in[-1]}; use "
                "lambda_identity=0 for this pair of domains."
            )
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 2))
        self.seed = int(seed)
        self.pool_size = int(pool_size)
        # pool_A holds fakes of domain A (G_BA outputs) for D_A; pool_B those of B for D_B.
        self.pool_A = ImagePool(pool_size, seed=self.seed, name="pool_A")
        self.pool_B = ImagePool(pool_size, seed=self.seed + 1, name="pool_B")
        if None in a_out or None in b_out:
            raise ValueError(
                "CycleGAN: the generators need a fixed image size (build them with an input "
                f"shape), got A {a_out} and B {b_out}."
            )
        self.pool_A.build((None, *a_out))
        self.pool_B.build((None, *b_out))
        self.trackers = [keras.metrics.Mean(name=n) for n in LOSS_NAMES]
        self.use_luma = float(self.loss_weights.lambda_luma) > 0
        if self.use_luma:
            if a_out[-1] != 1 or b_out[-1] != 3:
                raise ValueError(
                    f"CycleGAN: the luma-consistency loss needs a gray domain A (1 channel) and "
                    f"a colour domain B (3 channels), got {a_out[-1]} and {b_out[-1]}; use "
                    "lambda_luma=0 for this pair of domains."
                )
            self.trackers += [keras.metrics.Mean(name=n) for n in LUMA_LOSS_NAMES]
        self.built = True

    # -- plumbing ------------------------------------------------------------------------------
    def call(self, inputs, training=False):
        a, b = inputs
        return self.G_AB(a, training=training), self.G_BA(b, training=training)

    @property
    def metrics(self):
        return list(self.trackers)

    @property
    def precision(self) -> str:
        """The generators' ``keras.mixed_precision`` policy name (see :data:`PRECISIONS`)."""
        return self.G_AB.dtype_policy.name

    @property
    def generator_variables(self):
        return self.G_AB.trainable_variables + self.G_BA.trainable_variables

    @property
    def discriminator_variables(self):
        return self.D_A.trainable_variables + self.D_B.trainable_variables

    def compile(
        self,
        g_optimizer: keras.optimizers.Optimizer | None = None,
        d_optimizer: keras.optimizers.Optimizer | None = None,
        *,
        learning_rate=None,
        steps_per_epoch: int = 1,
        n_epochs: int = 100,
        n_epochs_decay: int = 100,
        jit_compile: bool = False,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
    ):
        """Set the two optimizers (one for both generators, one for both discriminators).

        By default each is ``Adam(learning_rate, beta_1=0.5)``; ``learning_rate`` is a float, a
        schedule, or (default) ``LinearDecay(2e-4, n_epochs, n_epochs_decay, steps_per_epoch)``
        -- the paper's 100 constant + 100 decaying epochs; pass your ``steps_per_epoch``.
        Optimizer variables are created here, so they exist before a checkpoint is restored
        and under the distribution strategy's scope. ``jit_compile=True`` compiles the training
        step with XLA (not combined with a multi-replica strategy: the pool's cross-replica
        gather cannot run inside an XLA cluster). Networks built under
        :func:`precision_scope` ``("mixed_float16")`` get loss-scaling optimizers
        (:class:`StepCountingLossScaleOptimizer`, which counts a skipped step as a step).
        """
        if learning_rate is None:
            learning_rate = LinearDecay(2e-4, n_epochs=n_epochs, n_epochs_decay=n_epochs_decay,
                                        steps_per_epoch=steps_per_epoch)
        if jit_compile:
            tf = _tf()
            if tf.distribute.has_strategy() and \
                    tf.distribute.get_strategy().num_replicas_in_sync > 1:
                raise ValueError("CycleGAN.compile: jit_compile=True is not supported with a "
                                 "multi-replica distribution strategy; use one or the other.")
        self.g_optimizer = g_optimizer or default_optimizer(learning_rate)
        self.d_optimizer = d_optimizer or default_optimizer(learning_rate)
        if self.g_optimizer is self.d_optimizer:
            raise ValueError("CycleGAN.compile: give the generators and the discriminators "
                             "separate optimizer objects.")
        if self.precision == "mixed_float16":
            # float16 gradients underflow without loss scaling; LossScaleOptimizer scales the
            # loss (train_step calls scale_loss), unscales the gradients and skips a step whose
            # gradients overflowed (lowering the scale) -- counting it as a step.
            self.g_optimizer, self.d_optimizer = (
                opt if isinstance(opt, keras.optimizers.LossScaleOptimizer)
                else StepCountingLossScaleOptimizer(opt)
                for opt in (self.g_optimizer, self.d_optimizer))
        super().compile(optimizer=None, jit_compile=jit_compile, run_eagerly=run_eagerly,
                        steps_per_execution=steps_per_execution)
        self.g_optimizer.build(self.generator_variables)
        self.d_optimizer.build(self.discriminator_variables)

    @property
    def step(self) -> int:
        """Training steps done so far (the generator optimizer's update counter)."""
        return int(np.asarray(self.g_optimizer.iterations))

    @staticmethod
    def _unpack(data):
        if isinstance(data, Mapping):
            return data["a"], data["b"]
        if isinstance(data, (tuple, list)) and len(data) == 1:
            data = data[0]
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError("CycleGAN expects batches (a_images, b_images).")
        return data[0], data[1]

    # -- the forward passes --------------------------------------------------------------------
    def identity_inputs(self, real_a, real_b):
        """What the identity terms feed ``G_AB`` and ``G_BA``: ``(real_b, real_a)`` when the
        identity weight is > 0, else ``None`` (subclasses may convert channels)."""
        return (real_b, real_a) if self.use_identity else None

    #: Stack the identity passes with the translations, and real with pooled images in the
    #: discriminators, into one call each (per-sample networks only). Off by default: on the
    #: 2-core CPU it was measured slower at batch 32 (engine / plain 0.82 vs 0.90 unstacked) and
    #: no faster at batch 8, and one larger convolution may round differently from two.
    stack_calls: bool = False

    def _translate_pair(self, generator, real, identity_input, training):
        """``(generator(real), generator(identity_input))``; one call on both batches stacked
        when :attr:`stack_calls` is on and the generator treats samples independently
        (instance norm: the same values up to rounding), else two calls."""
        if identity_input is None:
            return generator(real, training=training), None
        if self.stack_calls and _per_sample(generator):
            n = ops.shape(real)[0]
            both = generator(ops.concatenate([real, identity_input], axis=0), training=training)
            return both[:n], both[n:]
        return generator(real, training=training), generator(identity_input, training=training)

    def _judge_pair(self, discriminator, real, fake, training):
        """``(D(real), D(fake))``, as one call on both batches when :attr:`stack_calls` is on
        and ``D`` treats samples independently (PatchGAN with instance norm), else two calls."""
        if (self.stack_calls and _per_sample(discriminator)
                and tuple(real.shape[1:]) == tuple(fake.shape[1:])):
            n = ops.shape(real)[0]
            both = discriminator(ops.concatenate([real, ops.cast(fake, real.dtype)], axis=0),
                                 training=training)
            return both[:n], both[n:]
        return discriminator(real, training=training), discriminator(fake, training=training)

    # -- the losses ----------------------------------------------------------------------------
    def forward_cycles(self, real_a, real_b, training: bool = True) -> dict:
        """Every generator pass of a step: ``fake_b = G_AB(a)``, ``fake_a = G_BA(b)``,
        ``rec_a = G_BA(fake_b)``, ``rec_b = G_AB(fake_a)`` and, when :meth:`identity_inputs`
        gives inputs, ``same_b = G_AB(idt_b)`` and ``same_a = G_BA(idt_a)`` (else ``None``)."""
        idt_b, idt_a = self.identity_inputs(real_a, real_b) or (None, None)
        fake_b, same_b = self._translate_pair(self.G_AB, real_a, idt_b, training)
        fake_a, same_a = self._translate_pair(self.G_BA, real_b, idt_a, training)
        return {"fake_b": fake_b, "fake_a": fake_a,
                "rec_a": self.G_BA(fake_b, training=training),
                "rec_b": self.G_AB(fake_a, training=training),
                "same_b": same_b, "same_a": same_a}

    def generator_terms(self, real_a, real_b, passes: Mapping, training: bool = True) -> dict:
        """The six weighted generator terms and ``G_total`` (their sum) from the passes of
        :meth:`forward_cycles` (the discriminators judge the fakes here)."""
        identity = self.use_identity
        total, terms = losses.generator_total_loss(
            disc_fake_b=self.D_B(passes["fake_b"], training=training),
            disc_fake_a=self.D_A(passes["fake_a"], training=training),
            real_a=real_a, real_b=real_b, rec_a=passes["rec_a"], rec_b=passes["rec_b"],
            same_a=passes["same_a"] if identity else None,
            same_b=passes["same_b"] if identity else None,
            weights=self.loss_weights,
        )
        out = dict(terms)
        if self.use_luma:
            # Luma consistency: G_AB may only add chroma (lum(G_AB(a)) = a), and G_BA must
            # return the luma of its input (G_BA(b) = lum(b)).
            weight = float(self.loss_weights.lambda_luma)
            out["luma_ab"] = weight * losses.luma_consistency_loss(real_a, passes["fake_b"])
            out["luma_ba"] = weight * losses.luma_consistency_loss(passes["fake_a"], real_b)
            total = total + out["luma_ab"] + out["luma_ba"]
        out["G_total"] = total
        return out

    def generator_losses(self, real_a, real_b, training: bool = True):
        """Forward pass of both cycles; returns ``(terms, fake_a, fake_b)`` where ``terms`` maps
        the six weighted generator terms and ``G_total`` (their sum) to scalars."""
        passes = self.forward_cycles(real_a, real_b, training=training)
        terms = self.generator_terms(real_a, real_b, passes, training=training)
        return terms, passes["fake_a"], passes["fake_b"]

    def discriminator_losses(self, real_a, real_b, fake_a, fake_b, training: bool = True):
        """Halved discriminator losses ``(D_A, D_B)`` on real images and (pooled) fakes."""
        d_a = losses.discriminator_loss(*self._judge_pair(self.D_A, real_a, fake_a, training),
                                        mode=self.adversarial)
        d_b = losses.discriminator_loss(*self._judge_pair(self.D_B, real_b, fake_b, training),
                                        mode=self.adversarial)
        return d_a, d_b

    def _record(self, values: Mapping):
        for tracker in self.trackers:
            tracker.update_state(values[tracker.name])
        return {t.name: t.result() for t in self.trackers}

    # -- steps ---------------------------------------------------------------------------------
    def train_step(self, data):
        tf = _tf()
        # Each replica sees 1/n of the global batch and the optimizer sums the replicas'
        # gradients, so each replica's loss is divided by n (the global mean's gradient).
        replicas = tf.distribute.get_strategy().num_replicas_in_sync

        def scale(loss):
            return loss / float(replicas) if replicas > 1 else loss

        real_a, real_b = self._unpack(data)
        g_vars, d_vars = self.generator_variables, self.discriminator_variables

        # 1. Both generators, one tape, one total loss (D frozen: only G variables updated).
        #    scale_loss multiplies by the loss scale under mixed_float16 (else a no-op).
        with tf.GradientTape() as tape:
            terms, fake_a, fake_b = self.generator_losses(real_a, real_b, training=True)
            g_loss = self.g_optimizer.scale_loss(scale(terms["G_total"]))
        self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)

        # 2. Both discriminators on real images and on fakes drawn from the pools (the fakes of
        #    this step's forward pass, generated before the generator update, as in the paper).
        pooled_a = self.pool_A(ops.stop_gradient(fake_a))
        pooled_b = self.pool_B(ops.stop_gradient(fake_b))
        with tf.GradientTape() as tape:
            d_a, d_b = self.discriminator_losses(real_a, real_b, pooled_a, pooled_b)
            d_loss = self.d_optimizer.scale_loss(scale(d_a + d_b))
        self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)

        return self._record({**terms, "D_A": d_a, "D_B": d_b})

    def test_step(self, data):
        real_a, real_b = self._unpack(data)
        terms, fake_a, fake_b = self.generator_losses(real_a, real_b, training=False)
        d_a, d_b = self.discriminator_losses(real_a, real_b, fake_a, fake_b, training=False)
        return self._record({**terms, "D_A": d_a, "D_B": d_b})

    def translate(self, a=None, b=None):
        """``G_AB(a)`` and/or ``G_BA(b)`` in inference mode (NumPy arrays)."""
        out = []
        if a is not None:
            out.append(np.asarray(self.G_AB(a, training=False)))
        if b is not None:
            out.append(np.asarray(self.G_BA(b, training=False)))
        return out[0] if len(out) == 1 else tuple(out)


def build_cyclegan(
    image_size: int = 256,
    channels_a: int = 3,
    channels_b: int = 3,
    *,
    generator: str = "resnet",
    n_blocks: int = 9,
    ngf: int = 64,
    ndf: int = 64,
    n_layers: int = 3,
    upsample: str = "transpose",
    weights: losses.CycleGANLossWeights | None = None,
    pool_size: int = 50,
    seed: int | None = None,
    keep_luma: bool = False,
    norm: str = "instance",
    luma_g_ba: bool = False,
    g_ba: str = "same",
    n_downsampling: int = 2,
) -> CycleGAN:
    """Build the four networks with :mod:`cyclegan_lesson.nn.networks` and wrap them in a
    :class:`CycleGAN` (not compiled).

    ``generator``: ``"resnet"`` (:func:`networks.resnet_generator` with ``n_blocks``, ``ngf`` and
    ``upsample``) or ``"unet"`` (:func:`networks.unet_generator`, instance norm as CycleGAN's
    official ``--norm instance``; ``image_size`` a power of two >= 32; ``n_downsampling``: the
    ResNet generator's stride-2 layers, paper 2). Discriminators:
    :func:`networks.patch_discriminator` with ``n_layers`` and ``ndf``. The paper: resnet,
    9 blocks at 256 (6 at 128), ngf = ndf = 64, n_layers = 3.

    ``keep_luma`` (gray -> colour only: ``channels_a == 1``, ``channels_b == 3``): ``G_AB``
    predicts only the chroma (Cb, Cr; a generator with 1 input and 2 output channels) and keeps
    the input as the luma of its output (:func:`networks.keep_luma`), so it cannot change the
    brightness and all its capacity goes to colour. ``norm``: the U-Net generators'
    normalization, ``"instance"`` (CycleGAN's default) or ``"batch"`` (the official U-Net
    default, pix2pix); the ResNet generator always uses instance norm. ``luma_g_ba`` (gray2color
    only): ``G_BA`` is not learnt but is the exact colour -> gray map, the ITU-R 601 luma
    (:func:`luma_generator`), so the backward cycle ``G_AB(lum(y)) ~ y`` is a regression of
    the colours from their own luma, on colour images alone. ``g_ba``: ``"same"`` (``G_BA``
    has ``generator``'s architecture) or ``"pixel"`` (a learnt per-pixel network,
    :func:`networks.pixel_generator`: every output pixel a function of its input pixel only).
    """
    from ..nn import networks

    if g_ba not in G_BA_KINDS:
        raise ValueError(f"build_cyclegan: g_ba must be one of {G_BA_KINDS}, got {g_ba!r}.")
    if g_ba != "same" and luma_g_ba:
        raise ValueError("build_cyclegan: luma_g_ba fixes G_BA to the luma; it cannot also be "
                         f"g_ba={g_ba!r} (use one of them).")

    if norm not in ("instance", "batch"):
        raise ValueError(f"build_cyclegan: norm must be 'instance' or 'batch', got {norm!r}.")
    if norm != "instance" and generator != "unet":
        raise ValueError("build_cyclegan: norm='batch' is an option of the U-Net generator; "
                         f"use generator='unet' or norm='instance' (got generator={generator!r}).")
    if (keep_luma or luma_g_ba) and (channels_a, channels_b) != (1, 3):
        raise ValueError(
            "build_cyclegan: keep_luma and luma_g_ba are for gray -> RGB colourization; they need "
            f"channels_a = 1 and channels_b = 3 (gray2color), got {channels_a} and {channels_b}.")

    if generator == "resnet":
        def make(cin, cout, name):
            return networks.strided_resnet_generator(
                n_blocks=n_blocks, ngf=ngf, image_size=image_size,
                                             in_channels=cin, out_channels=cout,
                                             upsample=upsample, name=name,
                                             n_downsampling=n_downsampling)
    elif generator == "unet":
        def make(cin, cout, name):
            return networks.unet_generator(image_size=image_size, ngf=ngf, in_channels=cin,
                                           out_channels=cout, norm=norm, name=name)
    else:
        raise ValueError(
            f"build_cyclegan: generator must be 'resnet' or 'unet', got {generator!r}.")
    if keep_luma:
        g_ab = networks.keep_luma(make(1, 2, "G_AB_chroma"), name="G_AB")
    else:
        g_ab = make(channels_a, channels_b, "G_AB")
    return CycleGAN(
        g_ab,
        luma_generator(image_size, name="G_BA") if luma_g_ba
        else _other_g_ba(g_ba, image_size, channels_b, channels_a) or make(channels_b, channels_a, "G_BA"),
        networks.patch_discriminator(n_layers=n_layers, ndf=ndf, in_channels=channels_a,
                                     image_size=image_size, name="D_A"),
        networks.patch_discriminator(n_layers=n_layers, ndf=ndf, in_channels=channels_b,
                                     image_size=image_size, name="D_B"),
        weights=weights, pool_size=pool_size, seed=seed,
    )


#: Architectures of ``G_BA`` in :func:`build_cyclegan`: the generator's own, or per pixel.
G_BA_KINDS = ("same", "pixel")


def _other_g_ba(g_ba: str, image_size: int, cin: int, cout: int) -> keras.Model | None:
    """``G_BA`` when ``g_ba`` asks for an architecture other than the generator's, else None."""
    from ..nn import networks

    if g_ba == "pixel":
        return networks.pixel_generator(image_size, in_channels=cin, out_channels=cout,
                                        name="G_BA")
    return None


def luma_generator(image_size: int = 32, name: str = "G_BA") -> keras.Model:
    """The exact colour -> gray map as a (frozen) generator: ``(N, S, S, 3)`` RGB in [-1, 1] ->
    ``(N, S, S, 1)`` ITU-R 601 luma ``0.299 R + 0.587 G + 0.114 B`` in [-1, 1], a 1x1
    convolution with fixed weights and no bias (no trainable parameters; a plain Keras model
    that saves and loads as a ``.keras`` file)."""
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ValueError(f"luma_generator: image_size must be a positive int, got {image_size!r}")
    rgb = keras.Input((image_size, image_size, 3), name="rgb")
    conv = keras.layers.Conv2D(1, 1, use_bias=False, trainable=False, name="luma_601",
                               dtype="float32")
    gray = conv(rgb)
    conv.set_weights([np.array([0.299, 0.587, 0.114], np.float32).reshape(1, 1, 3, 1)])
    return keras.Model(rgb, gray, name=name)


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------

METADATA_FILE = "generators.json"


def _count_params(model: keras.Model) -> int:
    return int(sum(np.prod(v.shape) for v in model.weights))


def save_generators(
    model: CycleGAN,
    directory,
    *,
    domain_a: str,
    domain_b: str,
    extra: Mapping | None = None,
    which: tuple[str, ...] = ("G_AB", "G_BA"),
) -> dict:
    """Write ``G_AB.keras`` (A -> B), ``G_BA.keras`` (B -> A) and ``generators.json`` into
    ``directory`` and return the metadata written (``which``: only these generators, e.g.
    ``("G_AB",)`` for a model that has no ``G_BA``).

    The JSON records the two domains, each generator's input/output image size and channels,
    the value range ``[-1, 1]``, parameter counts (``parameter_count``), training steps done,
    and ``extra`` as ``parameters`` (e.g. the training options); ``NonFiniteError`` (nothing
    written) when a generator weight is NaN or infinite. The ``.keras`` files load
    with ``keras.models.load_model`` after ``import cyclegan_lesson`` (which registers the
    custom layers), or with :func:`load_generator`.
    """
    for gen in (getattr(model, key) for key in which):
        bad = first_non_finite_weight(gen)
        if bad is not None:
            raise NonFiniteError(f"{gen.name}: weight {bad} is not finite; generators not "
                                 "exported")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta: dict = {
        "format": "cyclegan_lesson generators v1",
        "domain_a": domain_a,
        "domain_b": domain_b,
        "value_range": [-1.0, 1.0],
        "layout": "NHWC float32",
        "training_steps": model.step if getattr(model, "g_optimizer", None) is not None else 0,
        "generators": {},
        "parameters": dict(extra or {}),
    }
    for key, src, dst in (("G_AB", domain_a, domain_b), ("G_BA", domain_b, domain_a)):
        if key not in which:
            continue
        gen = getattr(model, key)
        path = directory / f"{key}.keras"
        with atomic.replacing(path) as tmp:  # the previous export stays until this one is whole
            gen.save(tmp)
        in_shape, out_shape = _image_shape(gen, "input"), _image_shape(gen, "output")
        meta["generators"][key] = {
            "file": path.name,
            "from": src,
            "to": dst,
            "image_size": [in_shape[0], in_shape[1]],
            "input_channels": in_shape[2],
            "output_channels": out_shape[2],
            "parameter_count": _count_params(gen),
        }
    atomic.write_text(directory / METADATA_FILE, json.dumps(meta, indent=2, default=str) + "\n")
    return meta


def _same_shapes(entry: dict, meta: dict) -> bool:
    return all(entry.get(k) == meta[k] for k in ("image_size", "input_channels",
                                                   "output_channels") if k in entry)


def load_generator(path) -> tuple[keras.Model, dict]:
    """Load an exported generator; return ``(model, metadata)``.

    ``metadata`` is this generator's entry of ``generators.json`` beside the file (``from``,
    ``to``, ``image_size``, channels, ...) plus the shared fields (``domain_a``, ``domain_b``,
    ``value_range``, ``training_steps``, ``parameters``); when no JSON is found it is derived
    from the model itself. Raises ``FileNotFoundError`` / ``ValueError`` with the path.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    from ..pretrained import check_keras_archive

    check_keras_archive(path)  # a truncated or non-zip file: its reason, not "File not found"
    try:
        model = keras_compat.load_model(path, compile=False)
    except Exception as exc:  # noqa: BLE001 - report any unreadable file the same way
        raise ValueError(f"cannot load a Keras model from {path}: {exc}") from exc
    in_shape, out_shape = _image_shape(model, "input"), _image_shape(model, "output")
    if in_shape[:2] != out_shape[:2]:
        raise ValueError(f"{path} is not a generator: it maps {in_shape[0]}x{in_shape[1]} "
                         f"images to {out_shape[0]}x{out_shape[1]} (a discriminator?); use an "
                         "exported G_AB.keras or G_BA.keras")
    meta: dict = {
        "file": path.name,
        "image_size": [in_shape[0], in_shape[1]],
        "input_channels": in_shape[2],
        "output_channels": out_shape[2],
        "value_range": [-1.0, 1.0],
    }
    json_path = path.parent / METADATA_FILE
    if json_path.is_file():
        try:
            saved = json.loads(json_path.read_text())
        except (OSError, ValueError):
            saved = {}
        entry = saved.get("generators", {}).get(path.stem)
        if entry and _same_shapes(entry, meta):  # a JSON of another model is not used
            meta.update(entry)
            for key in ("domain_a", "domain_b", "value_range", "training_steps", "parameters"):
                if key in saved:
                    meta[key] = saved[key]
    return model, meta
