"""Tests of modscale_lib.data: the CIFAR-10 loader (on synthetic batches, and on the offline copies when present),
the compositional builder and the seen/unseen combination split."""

import itertools
import pickle
import warnings

import numpy as np
import pytest

from modscale_lib import composites, data


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test caches into a temporary folder and ignores any MODSCALE_CIFAR10 of the person running it."""
    monkeypatch.setenv("MODSCALE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MODSCALE_CIFAR10", raising=False)
    return tmp_path / "cache"


def _write_batch(path, x, y, protocol=2):
    rows = x.transpose(0, 3, 1, 2).reshape(len(x), 3072)  # the official CHW row layout
    payload = pickle.dumps(
        {b"batch_label": b"synthetic", b"data": rows, b"labels": [int(v) for v in y]}, protocol=protocol
    )
    # Pickles of the official distribution name numpy's pre-2.0 module.
    path.write_bytes(payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))


@pytest.fixture
def fake_official(tmp_path):
    """A ``cifar-10-batches-py`` folder of 5 x 20 training and 10 test images of random pixels and labels."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "download" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    x = rng.integers(0, 256, size=(110, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, size=110)
    for i in range(5):
        _write_batch(folder / f"data_batch_{i + 1}", x[20 * i : 20 * (i + 1)], y[20 * i : 20 * (i + 1)])
    _write_batch(folder / "test_batch", x[100:], y[100:])
    return folder, (x[:100], y[:100], x[100:], y[100:])


def _shared_file(name):
    for folder in data._shared_dirs():
        if (folder / name).is_file():
            return folder / name
    pytest.skip(f"offline CIFAR-10 file {name} not present")


@pytest.fixture(scope="module")
def sample():
    with np.load(_shared_file("cifar10_sample_300.npz")) as archive:
        return archive["x_train"], archive["y_train"].astype(np.int64)


# --- locating and loading --------------------------------------------------------------------------------------


def test_official_round_trip(fake_official):
    folder, expected = fake_official
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy deprecation warning from the old module name
        arrays = data.load_cifar10(folder)
    for got, want in zip(arrays, expected):
        np.testing.assert_array_equal(got, want)
    x_train, y_train, x_test, y_test = arrays
    assert x_train.shape == (100, 32, 32, 3) and x_test.shape == (10, 32, 32, 3)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64 and y_test.shape == (10,)
    # Pixel (row 4, column 7) of image 3 in the raw CHW row: red at 4*32+7, green 1024 later, blue 2048 later.
    raw = pickle.loads((folder / "data_batch_1").read_bytes(), encoding="bytes")[b"data"][3]
    np.testing.assert_array_equal(x_train[3, 4, 7], raw[[4 * 32 + 7, 1024 + 4 * 32 + 7, 2048 + 4 * 32 + 7]])


def test_protocol_5_batches_load(fake_official):
    folder, expected = fake_official
    _write_batch(folder / "test_batch", expected[2], expected[3], protocol=5)
    np.testing.assert_array_equal(data.load_cifar10(folder, cache=False)[2], expected[2])


@pytest.mark.parametrize("setting", ["empty", "file", "typo"])
def test_an_explicit_setting_without_a_copy_is_an_error(tmp_path, monkeypatch, fake_official, setting):
    """MODSCALE_CIFAR10 set but useless: an error naming the variable and the path, never another copy."""
    folder, _ = fake_official
    monkeypatch.setattr(data, "_shared_dirs", lambda: [folder.parent])  # a usable copy elsewhere is ignored
    place = {"empty": tmp_path / "empty", "file": tmp_path / "a-file", "typo": tmp_path / "cifar-10-batchs-py"}[setting]
    if setting == "empty":
        place.mkdir()
    elif setting == "file":
        place.write_text("not a folder")
    monkeypatch.setenv("MODSCALE_CIFAR10", str(place))
    with pytest.raises(FileNotFoundError) as error:
        data.find_cifar10()
    assert "MODSCALE_CIFAR10" in str(error.value) and str(place) in str(error.value)
    monkeypatch.delenv("MODSCALE_CIFAR10")
    assert data.find_cifar10() == data.CifarSource("official", folder)  # unset: the fallback order applies


def test_found_through_root_and_environment(fake_official, monkeypatch):
    folder, _ = fake_official
    assert data.find_cifar10(folder) == data.CifarSource("official", folder)
    assert data.find_cifar10(folder.parent) == data.CifarSource("official", folder)
    monkeypatch.setenv("MODSCALE_CIFAR10", str(folder.parent))
    source = data.find_cifar10()
    assert source == data.CifarSource("official", folder)
    assert source.describe().startswith("official python batches at")
    np.testing.assert_array_equal(data.load_cifar10()[0], fake_official[1][0])


def test_cache_is_written_and_reused(fake_official, isolated_cache, monkeypatch):
    folder, expected = fake_official
    data.load_cifar10(folder)
    assert len(list(isolated_cache.glob("cifar10/official-*/x_train.npy"))) == 1

    def refuse(*args):
        raise AssertionError("decoded again instead of reading the cache")

    monkeypatch.setattr(data, "_decode_official", refuse)
    np.testing.assert_array_equal(data.load_cifar10(folder)[0], expected[0])
    with pytest.raises(AssertionError, match="decoded again"):
        data.load_cifar10(folder, cache=False)


@pytest.mark.parametrize("damage", ["garbage", "truncate", "flip"])
def test_damaged_cache_is_rebuilt(fake_official, isolated_cache, damage):
    folder, expected = fake_official
    data.load_cifar10(folder)
    (cached,) = isolated_cache.glob("cifar10/official-*/x_train.npy")
    raw = cached.read_bytes()
    if damage == "garbage":
        cached.write_bytes(b"not an npy file")
    elif damage == "truncate":
        cached.write_bytes(raw[: len(raw) // 2])
    else:  # one pixel changed: a well-formed file with wrong content
        cached.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.warns(UserWarning, match="damaged CIFAR-10 cache"):
        arrays = data.load_cifar10(folder)
    np.testing.assert_array_equal(arrays[0], expected[0])
    assert cached.read_bytes() == raw


def test_cache_follows_source_changes(fake_official, isolated_cache):
    folder, _ = fake_official
    data.load_cifar10(folder)
    x = np.zeros((10, 32, 32, 3), np.uint8)
    _write_batch(folder / "test_batch", x, np.arange(10))
    np.testing.assert_array_equal(data.load_cifar10(folder)[2], x)
    assert len(list(isolated_cache.glob("cifar10/official-*"))) == 2


def test_missing_batch_names_the_file(fake_official):
    folder, _ = fake_official
    (folder / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        data.load_cifar10(folder)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x00garbage bytes, not a pickle", "cannot unpickle"),
        (pickle.dumps({b"data": np.zeros((5, 100), np.uint8), b"labels": [0] * 5}), "b'data' has shape"),
        (pickle.dumps({b"data": np.zeros((5, 3072), np.uint8), b"labels": [0, 1, 2, 3, 12]}), "b'labels' must be"),
        (pickle.dumps({b"data": np.zeros((5, 3072), np.uint8), b"labels": [0, 1]}), "b'labels' must be"),
        (pickle.dumps({b"labels": [0]}), "lacks the keys"),
        (pickle.dumps(print), "refusing to load builtins.print"),  # anything but numpy arrays is refused, not run
    ],
    ids=["garbage", "data-shape", "label-range", "label-count", "keys", "foreign-object"],
)
def test_corrupt_batch_names_the_file(fake_official, content, problem):
    folder, _ = fake_official
    (folder / "data_batch_2").write_bytes(content)
    with pytest.raises(ValueError, match=f"data_batch_2 is corrupt: .*{problem}"):
        data.load_cifar10(folder, cache=False)


def test_no_data_explains_the_download(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(data, "_shared_dirs", lambda: [tmp_path / "nowhere"])
    with pytest.raises(FileNotFoundError) as error:
        data.find_cifar10()
    message = str(error.value)
    assert data.DOWNLOAD_URL in message and "MODSCALE_CIFAR10" in message and "root=" in message
    assert str(tmp_path / "nowhere") in message
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz"):
        data.load_cifar10(empty)


def test_forced_copy_and_bad_copy(fake_official, monkeypatch):
    folder, _ = fake_official
    monkeypatch.setattr(data, "_shared_dirs", list)
    with pytest.raises(FileNotFoundError, match="'jpeg'"):
        data.find_cifar10(folder, copy="jpeg")
    with pytest.raises(ValueError, match="copy"):
        data.find_cifar10(folder, copy="png")
    with pytest.raises(ValueError, match="copy"):
        data.load_cifar10(folder, copy="exact")


def test_lossless_subset():
    labels = np.load(_shared_file("cifar10_labels_first51000.npy"))
    source = data.find_cifar10(_shared_file("cifar10_lossless_5k.npz").parent, copy="lossless")
    assert "exact-pixel subset" in source.describe()
    x_train, y_train, x_test, y_test = data.load_cifar10(source.path, copy="lossless")
    assert x_train.shape == (4000, 32, 32, 3) and x_test.shape == (1000, 32, 32, 3)
    assert y_train.dtype == np.int64 and x_train.dtype == np.uint8
    np.testing.assert_array_equal(y_train, labels[:4000])
    np.testing.assert_array_equal(y_test, labels[50000:])


def test_jpeg_copy_restores_the_training_order():
    """Decodes all 60000 JPEGs (about 20 s)."""
    folder = _shared_file("cifar10-jpeg-q75.tar.gz").parent
    labels = np.load(_shared_file("cifar10_labels_first51000.npy"))
    with np.load(_shared_file("cifar10_lossless_5k.npz")) as archive:
        exact = archive["x_train"].astype(np.float64)
    assert "class-major" in data.find_cifar10(folder, copy="jpeg").describe()
    x_train, y_train, x_test, y_test = data.load_cifar10(folder, copy="jpeg")
    assert x_train.shape == (50000, 32, 32, 3) and x_test.shape == (10000, 32, 32, 3)
    np.testing.assert_array_equal(y_train, labels[:50000])
    np.testing.assert_array_equal(np.bincount(y_train), [5000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    # JPEG loses ~8 grey levels RMSE; a wrong permutation would pair different images (> 30 levels apart).
    rmse = np.sqrt(((x_train[:4000] - exact) ** 2).reshape(4000, -1).mean(axis=1))
    assert np.sqrt(np.mean(rmse**2)) < 15 and rmse.max() < 25


# --- the compositional builder ----------------------------------------------------------------------------------


def test_composites_are_source_images_side_by_side(sample):
    x, y = sample
    images, labels = data.compositional_cifar(x, y, k=3, n=50, seed=1)
    index, again = data.compositional_indices(y, 3, 50, seed=1)
    assert images.shape == (50, 32, 96, 3) and images.dtype == np.uint8
    assert labels.shape == (50, 3) and labels.dtype == np.int64 and index.dtype == np.int64
    np.testing.assert_array_equal(labels, again)
    np.testing.assert_array_equal(labels, y[index])
    for j in range(3):
        np.testing.assert_array_equal(images[:, :, 32 * j : 32 * (j + 1)], x[index[:, j]])


@pytest.mark.parametrize("combos", ["seen", "unseen"])
def test_seen_and_unseen_sampling(sample, combos):
    x, y = sample
    images, labels = data.compositional_cifar(x, y, k=2, n=400, seed=3, combos=combos)
    unseen = data.is_unseen_combination(labels)
    assert unseen.all() if combos == "unseen" else not unseen.any()
    index, _ = data.compositional_indices(y, 2, 400, seed=3, combos=combos)
    np.testing.assert_array_equal(labels, y[index])
    np.testing.assert_array_equal(images[:, :, 32:], x[index[:, 1]])


def test_explicit_combinations(sample):
    _, y = sample
    allowed = np.array([[0, 1], [2, 3]])
    _, labels = data.compositional_indices(y, 2, 100, seed=0, combos=allowed)
    assert {tuple(row) for row in labels} == {(0, 1), (2, 3)}
    with pytest.raises(ValueError, match="combos"):
        data.compositional_indices(y, 3, 10, seed=0, combos=allowed)
    with pytest.raises(ValueError, match="combos"):
        data.compositional_indices(y, 2, 10, seed=0, combos=[[0, 10]])
    with pytest.raises(ValueError, match="combos"):
        data.compositional_indices(y, 2, 10, seed=0, combos="some")


def test_sampling_is_deterministic_per_seed():
    y = np.repeat(np.arange(10), 7)
    for combos in (None, "all", "seen", "unseen"):
        first = data.compositional_indices(y, 3, 200, seed=5, combos=combos)
        np.testing.assert_array_equal(first[0], data.compositional_indices(y, 3, 200, seed=5, combos=combos)[0])
        assert not np.array_equal(first[0], data.compositional_indices(y, 3, 200, seed=6, combos=combos)[0])


def test_assemble_builds_batches_lazily():
    x = np.arange(4 * 2 * 3 * 1, dtype=np.uint8).reshape(4, 2, 3, 1)
    out = data.assemble(x, np.array([[3, 0], [1, 1]]))
    assert out.shape == (2, 2, 6, 1)
    np.testing.assert_array_equal(out[0], np.concatenate([x[3], x[0]], axis=1))


# --- the seen/unseen split ----------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("holdout_mod", [2, 5])
def test_split_by_enumeration(k, holdout_mod):
    combos = np.array(list(itertools.product(range(10), repeat=k)))
    assert len(combos) == data.n_combinations(k) == 10**k
    unseen_mask = data.is_unseen_combination(combos, holdout_mod=holdout_mod)
    seen, unseen = {tuple(c) for c in combos[~unseen_mask]}, {tuple(c) for c in combos[unseen_mask]}
    assert not seen & unseen and len(seen | unseen) == len(combos)
    assert len(unseen) * holdout_mod == len(combos)  # exactly 1 / holdout_mod held out
    seen = combos[~unseen_mask]
    for position in range(k):  # every class at every position during training
        assert set(seen[:, position]) == set(range(10))
    if k >= 3:  # and every pair of classes at every pair of positions
        for a, b in itertools.combinations(range(k), 2):
            assert len({tuple(pair) for pair in seen[:, [a, b]]}) == 100


def test_split_offset_shifts_the_held_out_set():
    combos = np.array(list(itertools.product(range(10), repeat=2)))
    base, shifted = data.is_unseen_combination(combos), data.is_unseen_combination(combos, offset=1)
    assert base.sum() == shifted.sum() == 20 and not (base & shifted).any()


def test_one_position_has_no_split(sample):
    _, y = sample
    data.compositional_indices(y, 1, 10, seed=0)  # all combinations is fine
    with pytest.raises(ValueError, match="k must be >= 2"):
        data.compositional_indices(y, 1, 10, seed=0, combos="seen")
    with pytest.raises(ValueError, match="k >= 2"):
        data.is_unseen_combination(np.zeros((3, 1), int))


# --- noise, features, validation ----------------------------------------------------------------------------


def test_pixel_noise():
    images = np.full((200, 32, 32, 3), 128, np.uint8)
    noisy = data.add_pixel_noise(images, 0.1, seed=0)
    assert noisy.dtype == np.uint8 and noisy.shape == images.shape
    assert abs(noisy.astype(float).std() - 25.5) < 0.5 and abs(noisy.astype(float).mean() - 128) < 0.5
    np.testing.assert_array_equal(noisy, data.add_pixel_noise(images, 0.1, seed=0))
    np.testing.assert_array_equal(data.add_pixel_noise(images, 0.0, seed=0), images)
    clipped = data.add_pixel_noise(np.full(1000, 128, np.uint8), 10.0, seed=1)
    assert clipped.min() == 0 and clipped.max() == 255  # clipped, not wrapped around


def test_features():
    images = np.zeros((2, 4, 4, 3), np.uint8)
    images[1] = 255
    features = data.to_features(images)
    assert features.shape == (2, 48) and features.dtype == np.float32
    np.testing.assert_allclose(features[0, :3], -np.array(composites.CIFAR_MEAN) / composites.CIFAR_STD, rtol=1e-6)
    np.testing.assert_allclose(
        features[1, 3:6], (1 - np.array(composites.CIFAR_MEAN)) / composites.CIFAR_STD, rtol=1e-6
    )
    custom = data.to_features(images, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    np.testing.assert_allclose(custom[0], -1.0)
    np.testing.assert_allclose(custom[1], 1.0)
    # Flattening is in H, W, C order: the feature of pixel (1, 2), channel 0 sits at (1 * 4 + 2) * 3.
    images[0, 1, 2, 0] = 255
    assert data.to_features(images, (0, 0, 0), (1, 1, 1))[0, (1 * 4 + 2) * 3] == 1.0
    assert data.CLASS_NAMES[0] == "airplane" and data.CLASS_NAMES[9] == "truck" and len(data.CLASS_NAMES) == 10


@pytest.mark.parametrize("k", [0, 17, 2.5, True])
def test_bad_k(k):
    with pytest.raises((ValueError, TypeError), match="k must be"):
        data.compositional_indices(np.arange(10), k, 5, seed=0)


def test_unqualifying_split_is_an_error_not_a_hang():  # noqa: D103
    with pytest.raises(ValueError, match="offset"):
        data.compositional_indices(np.arange(10), 2, 5, seed=0, combos="unseen", offset=0.5)
    with pytest.raises(ValueError, match="holdout_mod"):
        data.compositional_indices(np.arange(10), 2, 5, seed=0, combos="unseen", holdout_mod=100, offset=1)


@pytest.mark.parametrize("n", [0, -1, 2.5])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        data.compositional_indices(np.arange(10), 2, n, seed=0)


def test_bad_labels_and_sigma():
    with pytest.raises(ValueError, match="y must be"):
        data.compositional_indices(np.array([0, 10]), 2, 5, seed=0)
    with pytest.raises(ValueError, match="sigma"):
        data.add_pixel_noise(np.zeros(3, np.uint8), -0.1, seed=0)
    with pytest.raises(ValueError, match="holdout_mod"):
        data.is_unseen_combination(np.zeros((3, 2), int), holdout_mod=1)
