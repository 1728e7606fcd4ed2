"""A synthetic multi-domain digit set (chapter 10): MNIST digits in k = 7 styles whose ground
truth is known.

Every domain is a fixed, deterministic function of the gray MNIST digit (32x32, white stroke on
black, the data layer's convention), so the "right" translation of a test digit into any domain
exists: apply that domain's transform to the digit. That makes three measurements possible that
real multi-domain data (faces with attributes) does not allow: the PSNR of a translation
against its ground truth, the digit kept, and the domain reached, all on the same test digits.

========== =======================================================================
domain     transform of the gray digit ``g`` in [0, 1] (stroke 1, background 0)
========== =======================================================================
original   ``g`` in R, G and B (white on black)
inverted   ``1 - g`` in R, G and B (black on white)
red        ``g * (1, 0.25, 0.25)`` (a red stroke on black)
green      ``g * (0.25, 1, 0.25)``
blue       ``g * (0.3, 0.5, 1)`` (light enough that its luma still shows the digit)
thick      grey dilation of ``g`` with a 3x3 cross (each stroke about 2 pixels wider)
thin       grey erosion of ``g`` with a 2x2 square (each stroke about 1 pixel thinner)
========== =======================================================================

Images are NHWC float32 ``(N, 32, 32, 3)`` in [-1, 1] in every domain (gray ones repeat the
channel). :func:`transform` applies one domain to gray digits; :func:`make_split` gives a
training set in which every digit appears in **one** source domain only (so a translation's
target is never a training image of that digit) and :func:`all_domains` the ground truth of
test digits in every domain.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DOMAINS", "NUM_DOMAINS", "domain_index", "transform", "all_domains", "make_split"]

#: The domains, by index (the StarGAN's target label ``c`` is the index).
DOMAINS = ("original", "inverted", "red", "green", "blue", "thick", "thin")
NUM_DOMAINS = len(DOMAINS)

_COLOURS = {"red": (1.0, 0.25, 0.25), "green": (0.25, 1.0, 0.25), "blue": (0.3, 0.5, 1.0)}


def domain_index(domain) -> int:
    """The index of a domain given by name (``"thick"``) or index; ``ValueError`` otherwise."""
    if isinstance(domain, str):
        if domain not in DOMAINS:
            raise ValueError(f"unknown domain {domain!r}; expected one of {DOMAINS}.")
        return DOMAINS.index(domain)
    d = int(domain)
    if d != domain or not 0 <= d < NUM_DOMAINS:
        raise ValueError(f"domain index must be an integer in 0..{NUM_DOMAINS - 1}, got "
                         f"{domain!r}.")
    return d


def _gray01(gray) -> np.ndarray:
    x = np.asarray(gray, np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"gray digits must be NHWC with one channel (N, 32, 32, 1) in [-1, 1] "
                         f"(classifiers.load_digit_arrays('mnist')), got shape {x.shape}.")
    if x.size and (x.min() < -1.001 or x.max() > 1.001):
        raise ValueError(f"gray digits must be in [-1, 1], got values in [{x.min():.3g}, "
                         f"{x.max():.3g}].")
    return (np.clip(x[..., 0], -1.0, 1.0) + 1.0) / 2.0          # (N, H, W) in [0, 1]


def _shifted(g: np.ndarray, offsets) -> np.ndarray:
    """``(len(offsets), N, H, W)``: ``g`` shifted by each (dy, dx), zero (background) padded."""
    _, h, w = g.shape
    pad = np.pad(g, ((0, 0), (1, 1), (1, 1)))
    return np.stack([pad[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy, dx in offsets])


def transform(gray, domain) -> np.ndarray:
    """Gray digits ``(N, 32, 32, 1)`` (or ``(N, 32, 32)``) in [-1, 1], white on black, ->
    the same digits in ``domain`` (name or index): ``(N, 32, 32, 3)`` float32 in [-1, 1]."""
    g = _gray01(gray)
    name = DOMAINS[domain_index(domain)]
    if name == "thick":
        g = _shifted(g, ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))).max(axis=0)
    elif name == "thin":
        g = _shifted(g, ((0, 0), (1, 0), (0, 1), (1, 1))).min(axis=0)
    if name in _COLOURS:
        rgb = g[..., None] * np.asarray(_COLOURS[name], np.float32)
    elif name == "inverted":
        rgb = np.repeat(1.0 - g[..., None], 3, axis=-1)
    else:
        rgb = np.repeat(g[..., None], 3, axis=-1)
    return (2.0 * rgb - 1.0).astype(np.float32)


def all_domains(gray) -> np.ndarray:
    """The ground truth of every digit in every domain: ``(NUM_DOMAINS, N, 32, 32, 3)``."""
    return np.stack([transform(gray, d) for d in range(NUM_DOMAINS)])


def make_split(gray, digits, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A multi-domain set in which each digit appears in one domain only: digit ``i`` is drawn
    in domain ``perm[i] % NUM_DOMAINS`` for a seeded permutation, so the domains are balanced
    (up to one image) and disjoint.

    Returns ``(images (N, 32, 32, 3) in [-1, 1], domains (N,) int32, digits (N,) int64)``."""
    g = np.asarray(gray, np.float32)
    y = np.asarray(digits)
    if len(g) != len(y):
        raise ValueError(f"make_split: {len(g)} digits but {len(y)} labels; pass one label per "
                         "digit.")
    dom = (np.random.default_rng(seed).permutation(len(g)) % NUM_DOMAINS).astype(np.int32)
    images = np.zeros((len(g), *np.shape(g)[1:3], 3), np.float32)
    for d in range(NUM_DOMAINS):
        idx = np.flatnonzero(dom == d)
        if len(idx):
            images[idx] = transform(g[idx], d)
    return images, dom, y.astype(np.int64)
