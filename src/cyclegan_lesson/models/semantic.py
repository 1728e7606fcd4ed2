"""Semantic consistency (CyCADA, Hoffman et al. 2018): a translation must keep the class.

CycleGAN's cycle loss only asks that ``G_BA(G_AB(a))`` return to ``a``; nothing stops ``G_AB``
from turning a 3 into an 8 as long as ``G_BA`` turns the 8 back into that 3 (the generator can
hide the information in faint patterns). The semantic-consistency loss adds what the cycle
cannot see: a frozen classifier of the *source* domain labels the input, and a frozen
classifier of the *target* domain must give the translation the same label.

For a batch ``a`` of domain A translated to ``G_AB(a)``::

    y_hat  = argmax f_A(a)                               (pseudo-label, no gradient)
    L_sem  = mean_n  CE(y_hat_n, softmax f_B(G_AB(a))_n)  = mean_n -log p_B(y_hat_n | G_AB(a_n))

and symmetrically for B -> A. Only the generator receives gradients (through ``f_B``, whose
weights are frozen and whose batch norm runs in inference mode).

Which classifiers, and so which labels, the loss uses (``labels``):

* ``"source"`` (CyCADA as published): one frozen classifier ``f_S`` of the labelled *source*
  domain A everywhere, ``f_A = f_B = f_S`` (images converted to its channels). Only source
  labels were used to train it, so the translation stays unsupervised in the target domain;
  on B -> A it pseudo-labels real B images with a classifier that never saw domain B.
* ``"both"``: each domain's own classifier (``f_A`` trained on labelled A, ``f_B`` on labelled
  B). This uses *target-domain labels*: stronger, but no longer unsupervised translation.

Why hard pseudo-labels (the CyCADA choice, the default ``mode="hard"``): the source classifier
is confident on its own domain, so its argmax is the label we want kept; cross-entropy against it
is ~0 when the target classifier confidently agrees and grows without bound when it disagrees.
``mode="soft"`` uses ``KL(p_A || p_B)`` instead: exactly 0 when the two predicted distributions
agree, and it also transfers the source classifier's uncertainty (useful when it is often unsure).
"""

from __future__ import annotations

import keras
from keras import ops

from ..evaluation.metrics import to_channels as _to_channels
from .cyclegan import CycleGAN

__all__ = ["semantic_consistency_loss", "freeze_classifier", "SemanticConsistency",
           "SemanticCycleGAN", "with_semantic_terms", "LABEL_SOURCES"]

#: Which classifiers the semantic loss uses: each domain's own ("both": needs labels in both
#: domains) or the source domain A's only ("source": CyCADA, labels of A only).
LABEL_SOURCES = ("both", "source")


def semantic_consistency_loss(
    source_classifier_logits_on_input,
    target_classifier_logits_on_translation,
    *,
    mode: str = "hard",
):
    """Semantic-consistency loss of one translation direction (a scalar tensor, >= 0).

    Args:
        source_classifier_logits_on_input: ``(N, K)`` logits of the frozen source-domain
            classifier on the source images; treated as constants (gradient stopped).
        target_classifier_logits_on_translation: ``(N, K)`` logits of the frozen target-domain
            classifier on the translated images; gradients flow through these to the generator.
        mode: ``"hard"`` (default): mean cross-entropy of the target prediction against the
            source argmax label; ``"soft"``: mean ``KL(softmax(source) || softmax(target))``.

    Returns:
        A scalar: 0 (``"soft"``) or ~0 (``"hard"``, confident logits) when the predictions agree,
        positive otherwise.
    """
    src = ops.stop_gradient(ops.convert_to_tensor(source_classifier_logits_on_input))
    tgt = ops.convert_to_tensor(target_classifier_logits_on_translation)
    if len(src.shape) != 2 or len(tgt.shape) != 2:
        raise ValueError("semantic_consistency_loss: expected (N, K) logits, got shapes "
                         f"{tuple(src.shape)} and {tuple(tgt.shape)}.")
    if src.shape[-1] != tgt.shape[-1]:
        raise ValueError("semantic_consistency_loss: the two classifiers disagree on the number "
                         f"of classes ({src.shape[-1]} vs {tgt.shape[-1]}).")
    src = ops.cast(src, "float32")
    tgt = ops.cast(tgt, "float32")
    log_q = ops.log_softmax(tgt, axis=-1)
    if mode == "hard":
        labels = ops.one_hot(ops.argmax(src, axis=-1), src.shape[-1])
        return -ops.mean(ops.sum(labels * log_q, axis=-1))
    if mode == "soft":
        log_p = ops.log_softmax(src, axis=-1)
        return ops.mean(ops.sum(ops.exp(log_p) * (log_p - log_q), axis=-1))
    raise ValueError(f"semantic_consistency_loss: mode must be 'hard' or 'soft', got {mode!r}.")


def freeze_classifier(model: keras.Model) -> keras.Model:
    """Mark a classifier non-trainable (its weights never change during CycleGAN training) and
    return it. Call it with ``training=False`` so batch norm uses its moving statistics."""
    model.trainable = False
    return model


class SemanticConsistency:
    """Both directions of the semantic loss for a CycleGAN with frozen digit classifiers.

    ``SemanticConsistency(classifier_a, classifier_b, mode="hard")``; ``classifier_a`` reads
    domain-A images, ``classifier_b`` domain-B images, both NHWC in [-1, 1] -> ``(N, K)`` logits.
    Each image is converted to its classifier's channel count first (ITU-R 601 luma or a gray
    replicated to RGB), so ``SemanticConsistency(f_a, f_a)`` is CyCADA's source-only loss.
    Calling it with ``(real_a, fake_b, real_b, fake_a)`` (``fake_b = G_AB(real_a)``,
    ``fake_a = G_BA(real_b)``) returns ``(loss_ab, loss_ba)``.
    """

    def __init__(self, classifier_a: keras.Model, classifier_b: keras.Model, mode: str = "hard"):
        if mode not in ("hard", "soft"):
            raise ValueError(f"SemanticConsistency: mode must be 'hard' or 'soft', got {mode!r}.")
        self.classifier_a = freeze_classifier(classifier_a)
        self.classifier_b = freeze_classifier(classifier_b)
        self.mode = mode

    @staticmethod
    def _logits(classifier, images):
        return classifier(_to_channels(images, classifier.input_shape[-1]), training=False)

    def __call__(self, real_a, fake_b, real_b, fake_a):
        f_a, f_b = self.classifier_a, self.classifier_b
        loss_ab = semantic_consistency_loss(
            self._logits(f_a, real_a), self._logits(f_b, fake_b), mode=self.mode)
        loss_ba = semantic_consistency_loss(
            self._logits(f_b, real_b), self._logits(f_a, fake_a), mode=self.mode)
        return loss_ab, loss_ba


# --------------------------------------------------------------------------------------------
# CycleGAN + semantic consistency (+ an identity term across channel counts)


class SemanticCycleGAN(CycleGAN):
    """:class:`~cyclegan_lesson.models.cyclegan.CycleGAN` plus two optional terms in the generator
    objective, each reported with the other losses:

    * ``semantic_ab`` / ``semantic_ba`` = ``lambda_semantic`` x the semantic-consistency loss
      of each direction (:class:`SemanticConsistency`; needs ``semantic``).
    * ``identity_ab`` / ``identity_ba`` when the two domains have *different* channel counts
      (MNIST 1, SVHN 3), where the plain identity loss is undefined: ``lambda_identity_x``
      (relative to the cycle weight, like the paper's 0.5) x ``|lum(G_AB(gray(b))) - lum(b)|``
      and ``|G_BA(rgb(a)) - a|``: a generator fed an image already of its target domain
      (converted to its input channels) must keep its gray levels.

    With ``lambda_semantic=0`` and ``lambda_identity_x=0`` it is exactly the parent model.
    """

    def __init__(self, *args, semantic: SemanticConsistency | None = None,
                 lambda_semantic: float = 0.0, lambda_identity_x: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        if lambda_semantic < 0 or lambda_identity_x < 0:
            raise ValueError("SemanticCycleGAN: lambda_semantic and lambda_identity_x must "
                             "be >= 0.")
        if lambda_semantic > 0 and semantic is None:
            raise ValueError("SemanticCycleGAN: lambda_semantic > 0 needs `semantic` "
                             "(a SemanticConsistency with the two frozen classifiers).")
        if lambda_identity_x > 0 and self.use_identity:
            raise ValueError("SemanticCycleGAN: use either the plain identity loss "
                             "(weights.lambda_identity) or lambda_identity_x, not both.")
        self.semantic = semantic
        self.lambda_semantic = float(lambda_semantic)
        self.lambda_identity_x = float(lambda_identity_x)
        self.trackers = self.trackers + [keras.metrics.Mean(name="semantic_ab"),
                                         keras.metrics.Mean(name="semantic_ba")]

    def identity_inputs(self, real_a, real_b):
        """The cross-channel identity passes' inputs ``(gray(b) for G_AB, rgb(a) for G_BA)``
        when ``lambda_identity_x > 0`` (run stacked with the translations of this step)."""
        if self.lambda_identity_x > 0:
            return (_to_channels(real_b, self.a_shape[-1]), _to_channels(real_a, self.b_shape[-1]))
        return super().identity_inputs(real_a, real_b)

    def generator_terms(self, real_a, real_b, passes, training: bool = True):
        terms = super().generator_terms(real_a, real_b, passes, training=training)
        total = terms["G_total"]
        zero = ops.zeros((), "float32")
        if self.lambda_identity_x > 0:
            w = self.loss_weights
            same_b, same_a = passes["same_b"], passes["same_a"]
            id_ab = self.lambda_identity_x * w.lambda_b * ops.mean(
                ops.abs(_to_channels(same_b, 1) - _to_channels(real_b, 1)))
            id_ba = self.lambda_identity_x * w.lambda_a * ops.mean(
                ops.abs(_to_channels(same_a, 1) - _to_channels(real_a, 1)))
            terms["identity_ab"], terms["identity_ba"] = id_ab, id_ba
            total = total + id_ab + id_ba
        if self.lambda_semantic > 0:
            s_ab, s_ba = self.semantic(real_a, passes["fake_b"], real_b, passes["fake_a"])
            terms["semantic_ab"] = self.lambda_semantic * s_ab
            terms["semantic_ba"] = self.lambda_semantic * s_ba
            total = total + terms["semantic_ab"] + terms["semantic_ba"]
        else:
            terms["semantic_ab"] = terms["semantic_ba"] = zero
        terms["G_total"] = total
        return terms


def with_semantic_terms(
    model: CycleGAN,
    *,
    domains: tuple[str, str],
    lambda_semantic: float = 0.0,
    lambda_identity_x: float = 0.0,
    classifier_paths: tuple[str | None, str | None] | None = None,
    mode: str = "hard",
    labels: str = "both",
) -> CycleGAN:
    """Rebuild a (not yet compiled) :class:`CycleGAN` as a :class:`SemanticCycleGAN` with the
    same four networks, loss weights (incl. the adversarial loss), pool size and seed.

    ``domains``: the task's two domain names; the semantic loss needs digit domains ("mnist",
    "svhn"). ``classifier_paths``: ``(path_a, path_b)`` ``.keras`` files of the frozen
    classifiers; ``None`` entries use the shipped ``models/classifiers/<domain>_semantic.keras``
    (the pair kept independent of the measuring classifiers). ``labels``: ``"both"`` (each
    domain's own classifier) or ``"source"`` (domain A's classifier on both sides, CyCADA; the
    domain-B path is then ignored). Returns ``model`` unchanged when both weights are 0.
    """
    if lambda_semantic < 0 or lambda_identity_x < 0:
        raise ValueError("lambda_semantic and lambda_identity_x must be >= 0.")
    if labels not in LABEL_SOURCES:
        raise ValueError(f"semantic labels must be one of {LABEL_SOURCES} ('source': CyCADA's "
                         f"source classifier only; 'both': each domain's own), got {labels!r}.")
    if lambda_semantic == 0 and lambda_identity_x == 0:
        return model
    sem = None
    if lambda_semantic > 0:
        from ..evaluation import classifiers

        paths = list(classifier_paths or (None, None))
        for domain in domains:
            if domain not in classifiers.CLASSIFIER_DOMAINS:
                raise ValueError(f"the semantic loss needs digit classifiers; domain {domain!r} "
                                 "has none (use it with the mnist2svhn task).")

        def load(i):
            return (classifiers.load_classifier(paths[i]) if paths[i]
                    else classifiers.load_shipped_classifier(domains[i], "semantic"))

        f_a = load(0)
        sem = SemanticConsistency(f_a, f_a if labels == "source" else load(1), mode=mode)
    return SemanticCycleGAN(
        model.G_AB, model.G_BA, model.D_A, model.D_B, weights=model.loss_weights,
        pool_size=model.pool_size, seed=model.seed,
        semantic=sem, lambda_semantic=lambda_semantic, lambda_identity_x=lambda_identity_x)
