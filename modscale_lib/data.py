"""CIFAR-10 loading and the compositional (side-by-side) CIFAR task with a combinatorial out-of-distribution split.

The loader reads the official ``cifar-10-batches-py`` distribution and falls back to offline copies (a JPEG
copy of all images, or an exact-pixel subset) where those are all there is. Decoded arrays are cached as
``.npy`` files, checked against a manifest of SHA-256 digests on every load.

The compositional builder (composites of ``k`` images, the seen/unseen split, pixel noise, features) lives in
:mod:`modscale_lib.composites` and is re-exported here, so ``data.compositional_indices`` and the rest keep
their names.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import os
import pickle
import re
import tarfile
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import core
from .composites import (
    add_pixel_noise,  # noqa: F401
    assemble,
    composite_features,
    compositional_cifar,
    compositional_indices,
    image_features,
    is_unseen_combination,
    n_combinations,
    slot_of_feature,
    to_features,
    training_indices,
)

__all__ = [
    "CLASS_NAMES",
    "CifarSource",
    "add_pixel_noise",
    "assemble",
    "composite_features",
    "compositional_cifar",
    "compositional_indices",
    "find_cifar10",
    "image_features",
    "is_unseen_combination",
    "load_cifar10",
    "n_combinations",
    "slot_of_feature",
    "to_features",
    "training_indices",
]

#: The ten CIFAR-10 classes, in the order of their labels 0..9.
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DOWNLOAD_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"

_OFFICIAL_DIR = "cifar-10-batches-py"
_OFFICIAL_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
_JPEG_TAR, _JPEG_PERM, _LABELS = (
    "cifar10-jpeg-q75.tar.gz",
    "train_perm_jpeg_to_original.npy",
    "cifar10_labels_first51000.npy",
)
_LOSSLESS = "cifar10_lossless_5k.npz"
_KIND_FILES = {"official": _OFFICIAL_FILES, "jpeg": (_JPEG_TAR, _JPEG_PERM, _LABELS), "lossless": (_LOSSLESS,)}
_KINDS = tuple(_KIND_FILES)  # also the order of preference
_ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class CifarSource:
    """Where CIFAR-10 was found: ``kind`` is "official", "jpeg" or "lossless"; ``path`` the folder of its files."""

    kind: str
    path: Path

    def describe(self) -> str:
        """One sentence saying what this copy is and where it lies."""
        return {
            "official": f"official python batches at {self.path}",
            "jpeg": f"JPEG q75 copy (lossy, ~8 grey levels RMSE) at {self.path}, training set restored to "
            "the original order, test set in class-major order",
            "lossless": f"exact-pixel subset (4000 train / 1000 test) at {self.path}",
        }[self.kind]


def _cache_root() -> Path:
    return Path(os.environ.get("MODSCALE_CACHE") or Path.home() / ".cache" / "modscale")


def _shared_dirs() -> list[Path]:
    """The offline folder ``shared/cifar10`` beside the checkout and beside the working directory."""
    bases = (Path(__file__).resolve().parents[2], Path.cwd().resolve().parent)
    return list(dict.fromkeys(base / "shared" / "cifar10" for base in bases))


def _kinds_in(folder: Path) -> dict[str, Path]:
    """The kinds of copy found in ``folder``, each with the folder holding its files."""
    found = {}
    if folder.name == _OFFICIAL_DIR and folder.is_dir():
        found["official"] = folder
    elif (folder / _OFFICIAL_DIR).is_dir():
        found["official"] = folder / _OFFICIAL_DIR
    for kind in ("jpeg", "lossless"):
        if all((folder / name).is_file() for name in _KIND_FILES[kind]):
            found[kind] = folder
    return found


def find_cifar10(root=None, copy: str = "auto") -> CifarSource:
    """Locate CIFAR-10.

    An explicit ``root`` is the only place searched; so is ``$MODSCALE_CIFAR10`` when it is set: a setting that
    holds no usable copy (an empty folder, a file, a typo) is an error naming the variable and the path, never
    a silent fall back to another copy. Only when neither is given does the search cover the user cache folder
    (``$MODSCALE_CACHE`` or ``~/.cache/modscale``) and the offline folder ``shared/cifar10`` beside the
    checkout. A folder counts when it is ``cifar-10-batches-py``, contains it, or holds the offline
    files. With ``copy="auto"`` the official batches beat the JPEG copy, which beats the exact-pixel subset,
    wherever they lie; among copies of one kind the earlier place wins. ``copy="official"``, ``"jpeg"`` or
    ``"lossless"`` asks for that kind only.
    """
    copy = core.choice(copy, "copy", ("auto",) + _KINDS)
    explicit = os.environ.get("MODSCALE_CIFAR10")
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a path (str or os.PathLike), got {type(root).__name__}")
        places = [Path(root).expanduser()]
    elif explicit is not None and explicit.strip():
        places = [Path(explicit).expanduser()]
    else:
        places = [_cache_root(), *_shared_dirs()]
    found = [_kinds_in(place) for place in places]
    for kind in _KINDS if copy == "auto" else (copy,):
        for kinds in found:
            if kind in kinds:
                return CifarSource(kind, kinds[kind])
    wanted = "CIFAR-10" if copy == "auto" else f"the {copy!r} copy of CIFAR-10"
    if root is None and explicit is not None and explicit.strip():
        place = places[0]
        what = (
            "does not exist"
            if not place.exists()
            else "is a file, not a folder"
            if not place.is_dir()
            else "holds no usable copy (no 'cifar-10-batches-py' folder and no offline files)"
        )
        raise FileNotFoundError(
            f"The environment variable MODSCALE_CIFAR10 is set to {explicit!r}, but {place} {what}, so {wanted} "
            f"was not found there (other places are searched only when MODSCALE_CIFAR10 is unset). Download "
            f"{DOWNLOAD_URL}, extract it (it unpacks to a folder '{_OFFICIAL_DIR}'), and set MODSCALE_CIFAR10 to "
            f"that folder, pass root=<that folder>, or unset MODSCALE_CIFAR10."
        )
    raise FileNotFoundError(
        f"Could not find {wanted}. Download {DOWNLOAD_URL}, extract it (it unpacks to a folder "
        f"'{_OFFICIAL_DIR}'), and either pass root=<that folder> or set the environment variable "
        f"MODSCALE_CIFAR10 to that folder. Places searched: " + ", ".join(str(p) for p in places)
    )


# Unpickling can run arbitrary code; the batches need only numpy arrays, so nothing else may be built.
# The numpy functions come from numpy itself, which keeps old "numpy.core" pickles free of deprecation warnings.
_PICKLE_GLOBALS = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype, ("_codecs", "encode"): codecs.encode}
for _numpy in ("numpy.core", "numpy._core"):
    _PICKLE_GLOBALS[(f"{_numpy}.multiarray", "_reconstruct")] = np.empty(0).__reduce__()[0]
    _PICKLE_GLOBALS[(f"{_numpy}.numeric", "_frombuffer")] = np.empty(0).__reduce_ex__(5)[0]


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return _PICKLE_GLOBALS[(module, name)]


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One official batch as ``(x (n, 32, 32, 3) uint8 NHWC, y (n,) int64)``."""
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR-10 batch file {path} is missing; re-extract {DOWNLOAD_URL}")
    try:
        with open(path, "rb") as f:
            batch = _ArrayUnpickler(f, encoding="bytes").load()
    except Exception as error:
        raise ValueError(f"CIFAR-10 batch file {path} is corrupt: cannot unpickle it ({error})") from error
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise ValueError(f"CIFAR-10 batch file {path} is corrupt: it lacks the keys b'data' and b'labels'")
    data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(
            f"CIFAR-10 batch file {path} is corrupt: b'data' has shape {data.shape} and dtype "
            f"{data.dtype}, not (n, 3072) uint8"
        )
    if (
        labels.shape != (len(data),)
        or labels.dtype.kind not in "iu"
        or (labels.size and (labels.min() < 0 or labels.max() > 9))
    ):
        raise ValueError(f"CIFAR-10 batch file {path} is corrupt: b'labels' must be {len(data)} integers in 0..9")
    # Each row holds the red plane, then green, then blue, each 32x32 row-major.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels.astype(np.int64)


def _decode_official(folder: Path) -> tuple[np.ndarray, ...]:
    train = [_read_batch(folder / name) for name in _OFFICIAL_FILES[:-1]]
    x_test, y_test = _read_batch(folder / _OFFICIAL_FILES[-1])
    return np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test


_JPEG_MEMBER = re.compile(r"^(?:\./)?(train|test)/([a-z]+)/(\d+)\.jpg$")


def _decode_jpeg(folder: Path) -> tuple[np.ndarray, ...]:
    from PIL import Image

    per_class = {"train": 5000, "test": 1000}
    x = {split: np.zeros((10 * m, 32, 32, 3), np.uint8) for split, m in per_class.items()}
    filled = {split: np.zeros(10 * m, bool) for split, m in per_class.items()}
    # Streaming mode reads the 19 MB archive once, front to back, without touching the disk.
    with tarfile.open(folder / _JPEG_TAR, mode="r|gz") as tar:
        for member in tar:
            match = _JPEG_MEMBER.match(member.name)
            if not member.isfile() or match is None:
                continue
            split, name, number = match.group(1), match.group(2), int(match.group(3))
            if name not in CLASS_NAMES or number >= per_class[split]:
                raise ValueError(f"{folder / _JPEG_TAR}: unexpected member {member.name}")
            with Image.open(io.BytesIO(tar.extractfile(member).read())) as image:
                pixels = np.asarray(image.convert("RGB"))
            if pixels.shape != (32, 32, 3):
                raise ValueError(f"{folder / _JPEG_TAR}: {member.name} is {pixels.shape}, not 32x32 RGB")
            row = CLASS_NAMES.index(name) * per_class[split] + number
            x[split][row], filled[split][row] = pixels, True
    for split, done in filled.items():
        if not done.all():
            raise ValueError(f"{folder / _JPEG_TAR} lacks {np.sum(~done)} of the {split} images")
    y = {split: np.repeat(np.arange(10, dtype=np.int64), m) for split, m in per_class.items()}
    perm = np.load(folder / _JPEG_PERM, allow_pickle=False)
    if perm.shape != (50000,) or not np.array_equal(np.sort(perm), np.arange(50000)):
        raise ValueError(f"{folder / _JPEG_PERM} is not a permutation of 0..49999")
    y_train = y["train"][perm]
    expected = np.load(folder / _LABELS, allow_pickle=False)[:50000]
    if not np.array_equal(y_train, expected):
        raise ValueError(
            f"training labels restored with {folder / _JPEG_PERM} disagree with {folder / _LABELS} "
            f"at {np.sum(y_train != expected)} of 50000 places"
        )
    return x["train"][perm], y_train, x["test"], y["test"]


def _decode_lossless(folder: Path) -> tuple[np.ndarray, ...]:
    with np.load(folder / _LOSSLESS, allow_pickle=False) as archive:
        x_train, y_train, x_test, y_test = (archive[name] for name in _ARRAY_NAMES)
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


def _decode(source: CifarSource) -> tuple[np.ndarray, ...]:
    decoders = {"official": _decode_official, "jpeg": _decode_jpeg, "lossless": _decode_lossless}
    return decoders[source.kind](source.path)


def _check_arrays(arrays, origin: str) -> None:
    """Raise ValueError unless ``arrays`` are ``(x_train, y_train, x_test, y_test)`` of CIFAR's shapes and types."""
    for x, y in (arrays[:2], arrays[2:]):
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3):
            raise ValueError(f"{origin}: images have shape {x.shape} and dtype {x.dtype}; want (n, 32, 32, 3) uint8")
        if y.dtype != np.int64 or y.shape != (len(x),) or (y.size and (y.min() < 0 or y.max() > 9)):
            raise ValueError(
                f"{origin}: labels have shape {y.shape} and dtype {y.dtype}; want ({len(x)},) int64 in 0..9"
            )


def _cache_dir(source: CifarSource) -> Path:
    """``<cache>/cifar10/<kind>-<digest>``; the digest changes whenever a source file is replaced."""
    stamp = [str(source.path.resolve()), source.kind]
    for name in _KIND_FILES[source.kind]:
        path = source.path / name
        stamp.append([name, *((path.stat().st_size, path.stat().st_mtime_ns) if path.exists() else ())])
    digest = hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:16]
    return _cache_root() / "cifar10" / f"{source.kind}-{digest}"


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def _read_cache(folder: Path):
    """The cached arrays, or None when absent; a damaged cache is deleted so that the caller rebuilds it."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        expected = json.loads(manifest.read_text())
        arrays = tuple(np.load(folder / f"{name}.npy", allow_pickle=False) for name in _ARRAY_NAMES)
        _check_arrays(arrays, str(folder))
        if [_digest(a) for a in arrays] != [expected[name] for name in _ARRAY_NAMES]:
            raise ValueError("checksum mismatch")
        return arrays
    except (OSError, ValueError, EOFError, KeyError, TypeError) as error:
        warnings.warn(f"damaged CIFAR-10 cache in {folder} ({error}); decoding again", stacklevel=3)
        for path in [manifest] + [folder / f"{name}.npy" for name in _ARRAY_NAMES]:
            path.unlink(missing_ok=True)
        return None


def _atomic_write(path: Path, write) -> None:
    # A reader, or a second process writing the same cache, never sees a half-written file.
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_cache(folder: Path, arrays) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, array in zip(_ARRAY_NAMES, arrays):
            _atomic_write(folder / f"{name}.npy", lambda f, a=array: np.save(f, a, allow_pickle=False))
        manifest = json.dumps({name: _digest(a) for name, a in zip(_ARRAY_NAMES, arrays)}).encode()
        _atomic_write(folder / "manifest.json", lambda f: f.write(manifest))  # last: marks the cache complete
    except OSError as error:
        warnings.warn(f"could not cache CIFAR-10 in {folder} ({error}); decoding again next time", stacklevel=3)


def load_cifar10(root=None, *, copy: str = "auto", cache: bool = True):
    """Load CIFAR-10 from the copy that :func:`find_cifar10` picks.

    Returns
    -------
    x_train, y_train, x_test, y_test : images ``(n, 32, 32, 3)`` uint8 (NHWC, RGB, 0..255) and labels ``(n,)``
        int64 in 0..9, indices into :data:`CLASS_NAMES`. Official batches: 50000 / 10000 images in the official
        order. JPEG copy: the same images, lossy (about 8 grey levels RMSE); the training set is in the
        original order, but the test set is class-major (all airplanes, then all automobiles, ...), as no
        permutation for it exists. Lossless subset: the first 4000 training and first 1000 test images.
    """
    cache = core.boolean(cache, "cache")
    source = find_cifar10(root, copy)
    folder = _cache_dir(source) if cache else None
    arrays = _read_cache(folder) if cache else None
    if arrays is None:
        arrays = tuple(_decode(source))
        _check_arrays(arrays, source.describe())
        if cache:
            _write_cache(folder, arrays)
    return arrays
