"""Tests of coursepkg.pretrained: arguments, staged files, the class index, the stand-ins, the script.

References: the installed Keras source (the weight files' names, URLs and hashes),
Keras's own preprocess_input/decode_predictions, hashlib, NumPy's argsort, and the
accuracies recorded by scripts/train_standins.py on the real CIFAR-10.
"""

import ast
import hashlib
import importlib
import inspect
import json
import pathlib
import shutil
import sys
import time

import keras
import numpy as np
import pytest

import coursepkg
from coursepkg import downloads
from coursepkg.data import CIFAR10_CLASSES

module = importlib.import_module("coursepkg.pretrained")  # `coursepkg.pretrained` is the function
REPOSITORY = pathlib.Path(__file__).resolve().parents[1]
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No staged folder or class index from the caller's environment (the Makefile sets one)."""
    monkeypatch.delenv(module.WEIGHTS_DIR_ENV_VAR, raising=False)
    monkeypatch.delenv(module.CLASS_INDEX_ENV_VAR, raising=False)
    keras.backend.clear_session(free_memory=False)
    start = time.perf_counter()
    yield
    # A full garbage collection (0.3 to 0.8 s) only after a test long enough to have built a model.
    keras.backend.clear_session(free_memory=time.perf_counter() - start > 0.25)


def md5_of(path) -> str:
    return hashlib.md5(pathlib.Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- the table against Keras


def get_file_calls(keras_module):
    """(file name, origin, file_hash keyword) of every get_file call in a Keras module's source."""
    tree = ast.parse(inspect.getsource(keras_module))
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "get_file":
            name = node.args[0].value if isinstance(node.args[0], ast.Constant) else None
            origin = node.args[1]
            origin = getattr(keras_module, origin.id, None) if isinstance(origin, ast.Name) else None
            hashes = [keyword.value for keyword in node.keywords if keyword.arg == "file_hash"]
            file_hash = hashes[0].value if hashes and isinstance(hashes[0], ast.Constant) else hashes
            calls.append((name, origin, file_hash))
    return calls


def test_weight_table_matches_the_installed_keras():
    table = module.KERAS_WEIGHT_FILES
    expected = {}
    for name in ("vgg16", "vgg19", "inception_v3"):
        source = importlib.import_module(f"keras.src.applications.{name}")
        for file_name, origin, file_hash in get_file_calls(source):
            expected[file_name] = (origin, file_hash)
    resnet = importlib.import_module("keras.src.applications.resnet")
    for suffix, file_hash in zip(("", "_notop"), resnet.WEIGHTS_HASHES["resnet50"]):
        stem = f"_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        assert stem in inspect.getsource(resnet)
        expected[f"resnet50{stem}"] = (f"{resnet.BASE_WEIGHTS_PATH}resnet50{stem}", file_hash)
    mobilenet_v2 = importlib.import_module("keras.src.applications.mobilenet_v2")
    source = inspect.getsource(mobilenet_v2)
    assert 'f"_{float(alpha)}_{rows}.h5"' in source and 'f"{float(alpha)}_{rows}_no_top.h5"' in source
    assert [file_hash for _, _, file_hash in get_file_calls(mobilenet_v2)] == [[], []]  # no hash in Keras
    for file_name in ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
                      "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"):  # fmt: skip
        expected[file_name] = (mobilenet_v2.BASE_WEIGHT_PATH + file_name, None)
    assert table == expected
    used = {file_name for spec in module.NETWORKS.values() for file_name in spec.weight_files}
    assert used == set(table)


def test_class_index_constants_match_the_installed_keras():
    imagenet_utils = importlib.import_module("keras.src.applications.imagenet_utils")
    [(file_name, _, file_hash)] = get_file_calls(imagenet_utils)
    assert (file_name, file_hash) == (module.CLASS_INDEX_FILE, module.CLASS_INDEX_MD5)
    assert imagenet_utils.CLASS_INDEX_PATH == module.CLASS_INDEX_URL


def test_networks_use_the_matching_keras_functions():
    for spec in module.NETWORKS.values():
        builder, functions = module._keras_application(spec)
        assert callable(builder) and callable(functions.preprocess_input)
        assert callable(functions.decode_predictions)


# --------------------------------------------------------------------------- arguments


def test_unknown_name_is_refused_with_the_accepted_names():
    with pytest.raises(ValueError, match=r"`name`.*'vgg16'.*'inception_v3'.*Received: name='vgg17'"):
        coursepkg.pretrained("vgg17")


@pytest.mark.parametrize("value", ["no", 1, None])
def test_include_top_must_be_a_boolean(value):
    with pytest.raises(TypeError, match=rf"`include_top`.*Received: include_top={value!r}"):
        coursepkg.pretrained("vgg16", include_top=value)


@pytest.mark.parametrize("value", ["yes", "no", 0])
def test_fallback_must_be_a_boolean(value):
    with pytest.raises(TypeError, match=rf"`fallback`.*Received: fallback={value!r}"):
        coursepkg.pretrained("vgg16", fallback=value)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"include_top": "no"}, TypeError, "Received: include_top='no'"),
        ({"key": "vgg16"}, ValueError, r"`key` to be one of \('vgg', 'resnet'\)"),
        ({"input_shape": "32x32"}, TypeError, "`input_shape`"),
        ({"input_shape": (32.0, 32, 3)}, TypeError, "`input_shape`"),
        ({"input_shape": (16, 16, 3)}, ValueError, r"`input_shape\[0\]`.*\[32, 4096\]"),
        ({"input_shape": (10**6, 32, 3)}, ValueError, r"`input_shape\[0\]`"),
        ({"pooling": "avg"}, ValueError, "`pooling=None` with `include_top=True`"),
        ({"include_top": False, "pooling": "mean"}, ValueError, "`pooling`"),
    ],
)
def test_load_standin_refuses_bad_arguments_before_building(arguments, error, message):
    with pytest.raises(error, match=message):
        module.load_standin(**{"key": "vgg", **arguments})


@pytest.mark.parametrize(
    ("builder", "arguments", "error", "message"),
    [
        ("vgg_standin", {"input_shape": None}, TypeError, "`input_shape`"),
        ("vgg_standin", {"input_shape": (8, 8, 3)}, ValueError, r"\[32, 4096\]"),
        ("resnet_standin", {"input_shape": (4, 4, 3)}, ValueError, r"\[8, 4096\]"),
        ("resnet_standin", {"input_shape": (32, 32, 1)}, ValueError, "3 channels"),
        ("vgg_standin", {"num_classes": 10**7}, ValueError, "`num_classes`"),
        ("resnet_standin", {"num_classes": 10.0}, TypeError, "`num_classes`"),
        ("vgg_standin", {"classifier_activation": "softmx"}, ValueError, "`classifier_activation`"),
        ("resnet_standin", {"classifier_activation": 1}, ValueError, "`classifier_activation`"),
    ],
)
def test_standin_builders_refuse_bad_arguments(builder, arguments, error, message):
    with pytest.raises(error, match=message):
        getattr(module, builder)(**arguments)


def test_scale_to_unit_checks_arrays_and_keeps_tensors():
    images = np.array([[0, 51, 255]], dtype="uint8")
    np.testing.assert_array_equal(module.scale_to_unit(images), np.array([[0.0, 0.2, 1.0]], "float32"))
    tensor = module.scale_to_unit(keras.ops.convert_to_tensor(images))
    assert keras.ops.is_tensor(tensor)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tensor), [[0.0, 0.2, 1.0]], rtol=1e-6)
    for bad, error in [("cat.png", TypeError), (np.ones((2, 2)) + 1j, TypeError), (np.array([]), ValueError),
                       (np.full((2, 2), np.nan), ValueError), (np.ones((2, 2), bool), TypeError)]:  # fmt: skip
        with pytest.raises(error, match="`images`"):
            module.scale_to_unit(bad)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"input_shape": (32, 32, 3)}, r"`input_shape` to be None or \(224, 224, 3\)"),
        ({"name": "inception_v3", "input_shape": (224, 224, 3)}, r"\(299, 299, 3\)"),
        ({"include_top": False, "input_shape": (16, 16, 3)}, r"`input_shape\[0\]`.*\[32, 4096\]"),
        ({"name": "inception_v3", "include_top": False, "input_shape": (None, 64, 3)}, r"\[75, 4096\]"),
        ({"include_top": False, "input_shape": (64, 64, 4)}, "3 channels"),
        ({"include_top": False, "input_shape": (64, 64)}, r"\(height, width, 3\)"),
        ({"include_top": False, "input_shape": (10**9, 64, 3)}, r"`input_shape\[0\]`"),
        ({"pooling": "avg"}, "`pooling=None` with `include_top=True`"),
        ({"include_top": False, "pooling": "mean"}, r"`pooling` to be one of \(None, 'avg', 'max'\)"),
    ],
)
def test_impossible_arguments_are_refused(arguments, message):
    arguments = {"name": "vgg16", **arguments}
    with pytest.raises(ValueError, match=message):
        coursepkg.pretrained(**arguments)


# --------------------------------------------------------------------------- offline: the stand-ins


def test_offline_gives_the_vgg_standin_and_says_so(offline, capsys):
    network = coursepkg.pretrained("vgg16", include_top=False)
    printed = capsys.readouterr().out
    assert network.is_standin
    assert "[coursepkg] vgg16: stand-in for VGG16" in printed and "CIFAR-10 classes 0-4" in printed
    assert network.source in printed
    assert network.input_size == 32
    assert network.class_names == CIFAR10_CLASSES[:5]
    model = network.model
    assert model.input_shape == (None, None, None, 3)  # any size, as keras.applications.VGG16
    names = [f"block{block}_conv{conv}" for block, depth in enumerate((2, 2, 3, 3, 3), 1)
             for conv in range(1, depth + 1)] + [f"block{block}_pool" for block in range(1, 6)]  # fmt: skip
    for name in names:
        model.get_layer(name)
    assert len([layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]) == 13
    images = np.random.default_rng(0).uniform(0, 255, size=(2, 96, 64, 3))
    features = keras.ops.convert_to_numpy(model(network.preprocess_input(images)))
    assert features.shape == (2, 3, 2, 128)  # (batch, 96 / 32, 64 / 32, 128)
    np.testing.assert_allclose(network.preprocess_input(images), images / 255.0, rtol=1e-6)


def test_offline_standin_pooling_and_vgg19(offline, capsys):
    network = coursepkg.pretrained("vgg19", include_top=False, pooling="max", input_shape=(64, 64, 3))
    assert network.is_standin and "stand-in for VGG19" in capsys.readouterr().out
    assert network.model.output_shape == (None, 128)


def test_offline_resnet_standin_decodes_cifar10_names_like_keras(offline, capsys):
    network = coursepkg.pretrained("resnet50")
    assert network.is_standin and "stand-in for ResNet50" in capsys.readouterr().out
    assert network.class_names == CIFAR10_CLASSES
    assert network.model.input_shape == (None, 32, 32, 3)
    # Code written for the ImageNet shape runs offline too: the stand-in's classifier pools globally.
    assert coursepkg.pretrained("resnet50", input_shape=(224, 224, 3)).model.input_shape == (None, 224, 224, 3)
    images = np.random.default_rng(1).integers(0, 256, size=(3, 32, 32, 3)).astype("uint8")
    scores = keras.ops.convert_to_numpy(network.model(network.preprocess_input(images)))
    assert scores.shape == (3, 10)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)  # softmax, as Keras's classifiers
    decoded = network.decode_predictions(scores, top=3)
    assert len(decoded) == 3
    for row, top in zip(scores, decoded):
        best = np.argsort(row)[::-1][:3]
        assert [label for label, _, _ in top] == [str(index) for index in best]
        assert [name for _, name, _ in top] == [CIFAR10_CLASSES[index] for index in best]
        np.testing.assert_allclose([score for _, _, score in top], row[best])
    with pytest.raises(ValueError, match="`top`"):
        network.decode_predictions(scores, top=11)
    with pytest.raises(ValueError, match=r"shape \(samples, 10\)"):
        network.decode_predictions(scores[:, :5])


def test_offline_without_fallback_raises(offline):
    with pytest.raises(downloads.DownloadError):
        coursepkg.pretrained("mobilenet_v2", fallback=False)


def test_damaged_or_missing_standin_weights_are_refused(tmp_path, monkeypatch):
    shipped = module.STANDIN_DIR / module.STANDINS["vgg"].weights_file
    damaged = tmp_path / shipped.name
    content = bytearray(shipped.read_bytes())
    content[len(content) // 2] ^= 0xFF  # one flipped byte in the middle of the weights
    damaged.write_bytes(bytes(content))
    monkeypatch.setattr(module, "STANDIN_DIR", tmp_path)
    found = hashlib.sha256(content).hexdigest()
    with pytest.raises(module.WeightsFileError, match=f"sha256 is {found}, expected {module.STANDINS['vgg'].weights_sha256}"):
        module.load_standin("vgg")
    with pytest.raises(module.WeightsFileError, match="missing"):
        module.load_standin("resnet")


def test_shipped_standins_match_their_recorded_hashes():
    for standin in module.STANDINS.values():
        path = module.STANDIN_DIR / standin.weights_file
        assert hashlib.sha256(path.read_bytes()).hexdigest() == standin.weights_sha256
        assert stored_dtypes(path) == {np.dtype("float16")}  # half the size of float32
    log = (module.STANDIN_DIR / "TRAINING_LOG.md").read_text(encoding="utf-8")
    for standin in module.STANDINS.values():
        assert standin.weights_sha256 in log
        assert f"{standin.test_accuracy:.2%}" in log


def test_standins_reach_the_recorded_accuracy_on_real_cifar10(cifar10_archive):
    dataset = coursepkg.load_cifar10_jpeg(cifar10_archive)
    for key, standin in module.STANDINS.items():
        keep = np.isin(dataset.y_test, standin.classes)
        images = dataset.x_test[keep][: module.CHECK_IMAGES]
        labels = dataset.y_test[keep][: module.CHECK_IMAGES]
        model = module.load_standin(key)
        scores = keras.ops.convert_to_numpy(model.predict(module.scale_to_unit(images), verbose=0))
        predicted = np.asarray(standin.classes)[np.argmax(scores, axis=1)]
        accuracy = float(np.mean(predicted == labels))
        assert abs(accuracy - standin.check_accuracy) <= 0.01, (key, accuracy)
        assert accuracy > 2 / len(standin.classes)  # well above chance: trained, not random


# --------------------------------------------------------------------------- staged files


def test_staged_file_with_a_wrong_hash_is_refused(tmp_path, monkeypatch, offline):
    file_name = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    fake = tmp_path / file_name
    fake.write_bytes(b"not the weights of VGG16")
    monkeypatch.setenv(module.WEIGHTS_DIR_ENV_VAR, str(tmp_path))
    expected = module.KERAS_WEIGHT_FILES[file_name][1]
    pattern = f"Refused the staged weights file {fake}: its md5 is {md5_of(fake)}, expected {expected}"
    with pytest.raises(module.WeightsFileError, match=pattern):  # refused, not replaced by a stand-in
        coursepkg.pretrained("vgg16", include_top=False)


def stage_mobilenet_v2(folder: pathlib.Path):
    """Keras's MobileNetV2 (random weights) in the legacy .h5 format, under Keras's file name."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    file_name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    reference = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3))
    with h5py.File(folder / file_name, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, reference)
    return folder / file_name, reference.get_weights()


def test_staged_file_with_the_right_hash_is_loaded(tmp_path, monkeypatch, offline, capsys):
    path, reference_weights = stage_mobilenet_v2(tmp_path)
    monkeypatch.setenv(module.WEIGHTS_DIR_ENV_VAR, str(tmp_path))
    # Keras publishes no hash for MobileNetV2's files: the staged file is used, and called unverified.
    network = coursepkg.pretrained("mobilenet_v2", include_top=False)
    assert not network.is_standin and "unverified" in network.source
    # With a hash in the table (as for the other networks), the same file passes the check.
    url = module.KERAS_WEIGHT_FILES[path.name][0]
    monkeypatch.setitem(module.KERAS_WEIGHT_FILES, path.name, (url, md5_of(path)))
    network = coursepkg.pretrained("mobilenet_v2", include_top=False, pooling="avg")
    printed = capsys.readouterr().out
    assert not network.is_standin
    assert "hash checked" in network.source and str(path) in printed
    assert network.input_size == 224 and network.model.output_shape == (None, 1280)
    for loaded, saved in zip(network.model.get_weights(), reference_weights):
        np.testing.assert_array_equal(loaded, saved)
    assert network.class_names is None  # offline, no class index: said in a printed line
    assert "class names are unavailable" in printed
    # Decoding then raises the package's DownloadError, not Keras's bare Exception.
    with pytest.raises(downloads.DownloadError, match="ImageNet class names"):
        network.decode_predictions(one_hot(388), top=1)
    with pytest.raises(ValueError, match=r"`preds`.*\(samples, 1000\)"):
        network.decode_predictions(np.zeros((1, 10)))
    # Keras's own preprocessing, without changing the caller's array.
    images = np.random.default_rng(2).uniform(0, 255, size=(1, 8, 8, 3)).astype("float32")
    before = images.copy()
    expected = keras.applications.mobilenet_v2.preprocess_input(images.copy())
    np.testing.assert_array_equal(network.preprocess_input(images), expected)
    np.testing.assert_array_equal(images, before)


def test_vgg_preprocess_input_leaves_the_callers_array_alone():
    wrapped = module._without_side_effects(keras.applications.vgg16.preprocess_input)
    images = np.random.default_rng(3).uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
    before = images.copy()
    np.testing.assert_array_equal(wrapped(images), keras.applications.vgg16.preprocess_input(before.copy()))
    np.testing.assert_array_equal(wrapped(images), wrapped(images))  # twice: the same result
    np.testing.assert_array_equal(images, before)


# --------------------------------------------------------------------------- the class index


@pytest.fixture
def keras_class_index_unloaded(monkeypatch):
    """Keras keeps the class index in a module global once read: start without it."""
    imagenet_utils = importlib.import_module("keras.src.applications.imagenet_utils")
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)


def one_hot(index: int) -> np.ndarray:
    scores = np.zeros((1, 1000), dtype="float32")
    scores[0, index] = 1.0
    return scores


def test_class_index_makes_keras_decode_predictions_work_offline(
    offline, imagenet_class_index, monkeypatch, keras_class_index_unloaded
):
    monkeypatch.setenv(module.CLASS_INDEX_ENV_VAR, str(imagenet_class_index))
    path = module.install_imagenet_class_index()
    assert path == offline / "models" / "imagenet_class_index.json"
    assert md5_of(path) == CLASS_INDEX_MD5
    [[(wordnet_id, name, score)]] = keras.applications.vgg16.decode_predictions(one_hot(388), top=1)
    assert name == "giant_panda" and score == 1.0 and wordnet_id.startswith("n")
    decode = module._imagenet_decoder(keras.applications.vgg16.decode_predictions)  # the networks' one
    assert decode(one_hot(388), top=1) == [[(wordnet_id, name, score)]]
    with pytest.raises(TypeError, match="`top`"):
        decode(one_hot(388), top="1")
    with pytest.raises(ValueError, match="`top`"):
        decode(one_hot(388), top=1001)
    assert module._imagenet_class_names()[388] == "giant_panda"
    assert len(module._imagenet_class_names()) == 1000


def test_class_index_in_the_staged_folder_is_used(
    offline, imagenet_class_index, tmp_path, monkeypatch, keras_class_index_unloaded
):
    shutil.copy(imagenet_class_index, tmp_path / "imagenet_class_index.json")
    monkeypatch.setenv(module.WEIGHTS_DIR_ENV_VAR, str(tmp_path))
    assert module.install_imagenet_class_index() == offline / "models" / "imagenet_class_index.json"
    [[(_, name, _)]] = keras.applications.resnet50.decode_predictions(one_hot(368), top=1)
    assert name == "gibbon"


def test_class_index_with_a_wrong_md5_is_refused(offline, imagenet_class_index, tmp_path, monkeypatch):
    index = json.loads(imagenet_class_index.read_text(encoding="utf-8"))
    index["388"] = [index["388"][0], "panda_bear"]
    wrong = tmp_path / "imagenet_class_index.json"
    wrong.write_text(json.dumps(index), encoding="utf-8")
    monkeypatch.setenv(module.CLASS_INDEX_ENV_VAR, str(wrong))
    pattern = f"its md5 is {md5_of(wrong)}, expected {CLASS_INDEX_MD5}"
    with pytest.raises(module.WeightsFileError, match=pattern):
        module.install_imagenet_class_index()
    assert not (offline / "models" / "imagenet_class_index.json").exists()


def test_without_class_index_offline_there_are_no_imagenet_names(offline):
    assert module.install_imagenet_class_index() is None


# --------------------------------------------------------------------------- the training script


def load_script(monkeypatch):
    """scripts/train_standins.py as a module (registered while the test runs, as dataclasses need)."""
    spec = importlib.util.spec_from_file_location(
        "train_standins", REPOSITORY / "scripts" / "train_standins.py"
    )
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, script)
    spec.loader.exec_module(script)
    return script


def no_keras_download(name):
    raise downloads.DownloadError(f"keras.datasets.{name} is not downloaded in this test")


def test_training_script_refuses_the_generated_shapes(monkeypatch, tmp_path):
    monkeypatch.setattr(downloads, "keras_dataset", no_keras_download)
    monkeypatch.delenv("COURSEPKG_CIFAR10_ARCHIVE", raising=False)
    with pytest.raises(SystemExit, match="Refusing to train the stand-ins"):
        load_script(monkeypatch).main(["--steps", "1", "--output-dir", str(tmp_path)])
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_training_script_runs_one_step(cifar10_archive, monkeypatch, tmp_path):
    monkeypatch.setattr(downloads, "keras_dataset", no_keras_download)
    monkeypatch.setenv("COURSEPKG_CIFAR10_ARCHIVE", str(cifar10_archive))
    policy = keras.config.dtype_policy().name
    results = load_script(monkeypatch).main(["--steps", "1", "--output-dir", str(tmp_path)])
    assert keras.config.dtype_policy().name == policy  # the script leaves the global policy as it was
    assert [result.model_name for result in results] == ["vgg16_standin", "resnet20_standin"]
    log = (tmp_path / "TRAINING_LOG.md").read_text(encoding="utf-8")
    assert "QUICK MODE" in log and "--steps 1" in log
    for result in results:
        assert result.steps == 1 and result.n_test == module.CHECK_IMAGES
        assert result.sha256 == hashlib.sha256(result.file.read_bytes()).hexdigest()
        assert result.sha256 in log
        assert stored_dtypes(result.file) == {np.dtype("float16")}


def stored_dtypes(path) -> set:
    """The dtypes of every array in an HDF5 file."""
    import h5py

    dtypes = set()

    def visit(_, item):
        if isinstance(item, h5py.Dataset):
            dtypes.add(item.dtype)

    with h5py.File(path, "r") as handle:
        handle.visititems(visit)
    return dtypes
