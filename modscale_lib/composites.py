"""The compositional (side-by-side) CIFAR task: composites of ``k`` images and a combinatorial split (numpy only).

A composite image puts ``k`` CIFAR images side by side; its label is the tuple of their ``k`` classes. A network
reads a composite as one vector of ``3072 k`` features: the ``k`` images' standardised features, concatenated slot
by slot (:func:`composite_features`; :func:`slot_of_feature` names each feature's slot). For a network whose first
layer is dense, this order is one fixed permutation of the picture's pixels, so it changes nothing the network can
learn; it lets a composite be gathered from a table of image features, on the device that trains. A class
combination ``(c_1, ..., c_k)`` is *unseen* (held out of training) iff ``(c_1 + ... + c_k + offset) % holdout_mod
== 0``: a fraction ``1 / holdout_mod`` of all combinations, while every class still appears at every position
in training (and, for ``k >= 3``, every pair of classes at every pair of positions). Also the pixel noise and
the standardised features the networks read. Every name here is re-exported by :mod:`modscale_lib.data`.
"""

from __future__ import annotations

import numpy as np

from . import core

__all__ = [
    "add_pixel_noise",
    "assemble",
    "compositional_cifar",
    "compositional_indices",
    "is_unseen_combination",
    "n_combinations",
    "to_features",
    "image_features",
    "composite_features",
    "slot_of_feature",
    "training_indices",
    "CIFAR_MEAN",
    "CIFAR_STD",
    "MAX_POSITIONS",
    "IMAGE_FEATURES",
]

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)  # per-channel statistics of the training set, pixels on [0, 1]
CIFAR_STD = (0.2470, 0.2435, 0.2616)
MAX_POSITIONS = 16
IMAGE_FEATURES = 32 * 32 * 3  # features of one image slot


def _class_labels(labels, name: str, ndim: int) -> np.ndarray:
    labels = np.asarray(core.as_numpy(labels))
    if labels.ndim != ndim or labels.dtype.kind not in "iu" or labels.size == 0 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(
            f"{name} must be a non-empty {ndim}-d integer array of classes in 0..9, got shape "
            f"{labels.shape} and dtype {labels.dtype}"
        )
    return labels.astype(np.int64)


def _rng_seed(seed):
    """A seed for ``np.random.default_rng``: one whole number, or a sequence of them, each in [0, 2**63 - 1]."""
    if isinstance(seed, (list, tuple, np.ndarray)):
        return core.seeds(seed, "seed")
    return core.seed(seed, "seed")


def _unseen_share(k: int, holdout_mod: int, offset: int) -> float:
    """The exact share of the ``10**k`` class combinations that :func:`is_unseen_combination` holds out."""
    counts = np.array([1.0])
    for _ in range(k):  # the distribution of the sum of k classes, each uniform on 0..9
        counts = np.convolve(counts, np.full(10, 0.1))
    sums = np.arange(counts.size)
    return float(counts[(sums + offset) % holdout_mod == 0].sum())


def is_unseen_combination(labels, holdout_mod: int = 5, offset: int = 0) -> np.ndarray:
    """Whether each class combination is held out: ``(labels.sum(axis=1) + offset) % holdout_mod == 0``.

    ``labels`` is ``(n, k)`` classes in 0..9 with ``k >= 2``; returns a bool array ``(n,)``.
    """
    labels = _class_labels(labels, "labels", 2)
    if labels.shape[1] < 2:
        raise ValueError(
            f"labels must have k >= 2 columns for the seen/unseen split (with one position a "
            "combination is a single class: holding some out removes classes), "
            f"got k={labels.shape[1]}"
        )
    holdout_mod = core.whole(holdout_mod, "holdout_mod", low=2, high=10**6)
    offset = core.whole(offset, "offset", low=-(10**6), high=10**6)
    return (labels.sum(axis=1) + offset) % holdout_mod == 0


def n_combinations(k: int, n_classes: int = 10) -> int:
    """The number of class combinations of ``k`` positions: ``n_classes ** k``."""
    return core.whole(n_classes, "n_classes", low=1, high=10**6) ** core.whole(k, "k", low=1, high=MAX_POSITIONS)


def _draw_split(rng, n: int, k: int, combos: str, holdout_mod: int, offset: int) -> np.ndarray:
    """``(n, k)`` classes drawn uniformly, rows redrawn until each lies on the ``combos`` side ("seen" or
    "unseen") of :func:`is_unseen_combination`."""
    want_unseen = combos == "unseen"
    share = _unseen_share(k, holdout_mod, offset)
    share = share if want_unseen else 1.0 - share
    if share < 0.01:  # the redraws below would take 1/share rounds, or never end
        raise ValueError(
            f"combos={combos!r} with k={k}, holdout_mod={holdout_mod} and offset={offset}: only "
            f"{share:.3g} of the class combinations are {combos}, too few to draw from (at "
            f"least 0.01 are needed); choose another holdout_mod or offset"
        )
    labels = rng.integers(0, 10, size=(n, k))
    redraw = is_unseen_combination(labels, holdout_mod, offset) != want_unseen
    for _ in range(100_000):  # each round keeps a share >= 0.01 of what is left: ends long before this
        if not redraw.any():
            break
        labels[redraw] = rng.integers(0, 10, size=(int(redraw.sum()), k))
        redraw = is_unseen_combination(labels, holdout_mod, offset) != want_unseen
    if redraw.any():
        raise RuntimeError(f"could not draw {n} {combos} combinations in 100000 rounds of redraws")
    return labels


def compositional_indices(y, k: int, n: int, seed, combos=None, *, holdout_mod: int = 5, offset: int = 0):
    """Choose the source images of ``n`` composites of ``k`` positions.

    Parameters
    ----------
    y : ``(N,)`` integer classes in 0..9 of the source images.
    k, n : positions per composite (1..16) and number of composites (>= 1).
    seed : seeds ``np.random.default_rng``; the draw is a deterministic function of it.
    combos : None or "all": each position draws an image uniformly from all ``N`` (every combination occurs).
        "seen" / "unseen": classes drawn uniformly, rows redrawn until they lie on the chosen side of
        :func:`is_unseen_combination` (needs ``k >= 2``), then a uniformly random image of each class.
        An ``(c, k)`` integer array: each composite takes a uniformly chosen row as its classes.

    Returns
    -------
    index : ``(n, k)`` int64 rows of ``y`` (and of the images).
    labels : ``(n, k)`` int64, ``y[index]``.
    """
    y = _class_labels(y, "y", 1)
    k, n = core.whole(k, "k", low=1, high=MAX_POSITIONS), core.whole(n, "n", low=1)
    core.check_size(n * k, "n * k")
    holdout_mod = core.whole(holdout_mod, "holdout_mod", low=2, high=10**6)
    offset = core.whole(offset, "offset", low=-(10**6), high=10**6)
    rng = np.random.default_rng(_rng_seed(seed))
    if combos is None or (isinstance(combos, str) and combos == "all"):
        index = rng.integers(0, len(y), size=(n, k))
        return index, y[index]
    if isinstance(combos, str):
        if combos not in ("seen", "unseen"):
            raise ValueError(f"combos must be None, 'all', 'seen', 'unseen' or a (c, k) array, got {combos!r}")
        if k < 2:
            raise ValueError(
                "k must be >= 2 for combos='seen' or 'unseen': with one position there is no compositional split"
            )
        labels = _draw_split(rng, n, k, combos, holdout_mod, offset)
    else:
        allowed = _class_labels(combos, "combos", 2)
        if allowed.shape[1] != k:
            raise ValueError(f"combos must have shape (c, k) with k={k}, got {allowed.shape}")
        labels = allowed[rng.integers(0, len(allowed), size=n)]
    counts = np.bincount(y, minlength=10)
    if missing := [c for c in np.unique(labels) if counts[c] == 0]:
        raise ValueError(f"y has no images of class(es) {missing}, which the combinations need")
    by_class = np.argsort(y, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    index = by_class[starts[labels] + rng.integers(0, counts[labels])]
    return index, labels


def assemble(x, index) -> np.ndarray:
    """Composite images from source images ``x`` ``(N, H, W, C)`` and ``index`` ``(n, k)``: ``(n, H, k*W, C)``.

    Position ``j`` occupies columns ``j*W .. j*W + W - 1``; the dtype is that of ``x``.
    """
    x = np.asarray(core.as_numpy(x))
    index = np.asarray(core.as_numpy(index))
    if x.ndim != 4 or index.ndim != 2 or index.dtype.kind not in "iu":
        raise ValueError(f"x must be (N, H, W, C) and index an (n, k) integer array; got {x.shape}, {index.shape}")
    n, k = index.shape
    N, h, w, c = x.shape
    if index.size and (index.min() < 0 or index.max() >= N):
        raise ValueError(f"index must hold rows of x in 0..{N - 1}, got values in {index.min()}..{index.max()}")
    core.check_size(n * k * h * w * c, "index (n * k images of x)")
    return x[index].transpose(0, 2, 1, 3, 4).reshape(n, h, k * w, c)


def compositional_cifar(x, y, k: int, n: int, seed, combos=None, *, holdout_mod: int = 5, offset: int = 0):
    """``n`` composites of ``k`` images side by side: images ``(n, 32, 32*k, 3)`` uint8, labels ``(n, k)`` int64.

    Explained in the chapter :doc:`/book/compositional_cifar`.

    The draw is :func:`compositional_indices` (same arguments); images are :func:`assemble` of it.
    """
    if np.ndim(x) < 1 or np.ndim(y) < 1 or len(x) != len(y):
        raise ValueError(f"x and y must be arrays of the same length, got shapes {np.shape(x)} and {np.shape(y)}")
    index, labels = compositional_indices(y, k, n, seed, combos, holdout_mod=holdout_mod, offset=offset)
    return assemble(x, index), labels


def add_pixel_noise(images, sigma: float, seed) -> np.ndarray:
    """``images`` (uint8, any shape) plus Gaussian noise of standard deviation ``sigma`` on the [0, 1] scale.

    ``sigma = 0.1`` is about 25.5 grey levels; the result is rounded and clipped to 0..255, uint8, same shape.
    """
    sigma = core.real(sigma, "sigma", low=0.0, high=1e6)
    images = np.asarray(core.as_numpy(images))
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8, got {images.dtype}")
    noise = np.random.default_rng(_rng_seed(seed)).standard_normal(images.shape, dtype=np.float32) * np.float32(
        255 * sigma
    )
    return np.clip(np.rint(images + noise), 0, 255).astype(np.uint8)


def to_features(images, mean=None, std=None) -> np.ndarray:
    """Flattened, standardised features ``(n, H*W*C)`` float32 from uint8 images ``(n, H, W, C)``.

    Pixels are scaled to [0, 1], then each channel has ``mean`` subtracted and is divided by ``std`` (defaults:
    CIFAR-10's training statistics); the flattening order is H, W, C.
    """
    images = np.asarray(core.as_numpy(images))
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"images must be (n, H, W, C) uint8, got shape {images.shape} and dtype {images.dtype}")
    channels = images.shape[-1]
    mean = core.array(CIFAR_MEAN if mean is None else mean, "mean", shape=(channels,)).astype(np.float32)
    std = core.real_array(CIFAR_STD if std is None else std, "std", low=0.0, low_open=True)
    if std.shape != (channels,):
        raise ValueError(f"std must have one entry per channel ({channels}), got shape {std.shape}")
    std = std.astype(np.float32)
    features = (images.astype(np.float32) * np.float32(1 / 255) - mean) / std
    return features.reshape(len(images), -1)


def image_features(images, mean=None, std=None) -> np.ndarray:
    """The standardised features of single images, ``(N, 3072)`` float32 from ``(N, 32, 32, 3)`` uint8.

    :func:`to_features` of each image (flattened H, W, C); a table that :func:`composite_features` gathers from.
    """
    images = np.asarray(core.as_numpy(images))
    if images.ndim != 4 or images.shape[1:] != (32, 32, 3):
        raise ValueError(f"images must be (N, 32, 32, 3) uint8, got shape {images.shape}")
    return to_features(images, mean, std)


def composite_features(features, index):
    """The features of composites: row ``i`` is ``features[index[i, 0]], ..., features[index[i, k-1]]`` joined.

    features : ``(N, F)`` image features (numpy array or torch tensor, on any device); index : ``(n, k)`` rows of
    it (same kind). Returns ``(n, k F)``, slot-major (slot ``j`` in columns ``j F .. j F + F - 1``), same kind.
    """
    if getattr(features, "ndim", 0) != 2 or getattr(index, "ndim", 0) != 2:
        raise ValueError(
            f"features must be (N, F) and index (n, k) arrays, got {getattr(features, 'shape', None)} "
            f"and {getattr(index, 'shape', None)}"
        )
    kind = str(index.dtype)
    if not any(word in kind for word in ("int", "long")) or "uint8" in kind or "bool" in kind:
        raise ValueError(f"index must hold integer rows of features, got dtype {kind}")
    if index.numel() if hasattr(index, "numel") else index.size:
        low, high = int(index.min()), int(index.max())
        if low < 0 or high >= features.shape[0]:
            raise ValueError(f"index must hold rows of features in 0..{features.shape[0] - 1}, got {low}..{high}")
    return features[index].reshape(index.shape[0], index.shape[1] * features.shape[1])


def slot_of_feature(k: int, per_image: int = IMAGE_FEATURES) -> np.ndarray:
    """The image slot (0..k-1) of each of the ``k * per_image`` features of :func:`composite_features`."""
    k = core.whole(k, "k", low=1, high=MAX_POSITIONS)
    per_image = core.whole(per_image, "per_image", low=1)
    return np.repeat(np.arange(k), per_image)


def training_indices(y, k: int, n: int, seed, *, holdout_mod: int = 5):
    """The ``n`` training composites of one run: ``(index (n, k), labels (n, k))``, as :func:`compositional_indices`.

    For ``k = 1`` the images come in passes without replacement (a seeded permutation of all of them, then another),
    so that ``n = len(y)`` is one epoch over the images; for ``k >= 2`` the composites hold seen combinations only,
    each image drawn uniformly within its class (with replacement).
    """
    y = _class_labels(y, "y", 1)
    k, n = core.whole(k, "k", low=1, high=MAX_POSITIONS), core.whole(n, "n", low=1)
    if k >= 2:
        return compositional_indices(y, k, n, seed, "seen", holdout_mod=holdout_mod)
    core.check_size(n, "n")
    rng = np.random.default_rng(_rng_seed(seed))
    passes = -(-n // len(y))
    index = np.concatenate([rng.permutation(len(y)) for _ in range(passes)])[:n, None]
    return index, y[index]
