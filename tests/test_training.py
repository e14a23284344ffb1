"""coursepkg.training: the tf.data pipeline, precision and device choice, and fit.

The pipeline is checked against the NumPy arrays it was built from (values,
order, coverage of every example once per epoch); ``fit`` against plain
``model.fit`` on the same model and data, which it must reproduce when the
order is fixed. Every test restores the global dtype policy and distribution.
Runs under every Keras backend (``KERAS_BACKEND=tensorflow`` or ``jax``).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg import training
from coursepkg.training import Accelerator

BACKEND = keras.backend.backend()


@pytest.fixture(autouse=True)
def restore_global_state():
    """Put back the dtype policy and the distribution a test may have changed."""
    policy = keras.config.dtype_policy()
    distribution = keras.distribution.distribution()
    yield
    keras.config.set_dtype_policy(policy)
    keras.distribution.set_distribution(distribution)


def images_and_labels(n=42, size=6, num_classes=3, seed=0):
    """uint8 images (n, size, size, 1) whose class is told by which third of the rows is bright."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, size=n)
    images = rng.integers(0, 60, size=(n, size, size, 1))
    band = size // num_classes
    for index, label in enumerate(labels):
        images[index, label * band : (label + 1) * band] += 180
    return images.astype(np.uint8), labels.astype(np.int64)


def epoch_batches(dataset, epochs=1):
    """The label batches of the first ``epochs`` passes (one list per pass)."""
    return [[labels.tolist() for _, labels in dataset.as_numpy_iterator()] for _ in range(epochs)]


def small_model(num_classes=3, seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


def compiled_copy(model, learning_rate=0.1, jit_compile="auto"):
    """A compiled clone of ``model`` with the same weights and a fresh optimiser."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    clone.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss="sparse_categorical_crossentropy",
        jit_compile=jit_compile,
    )
    return clone


# --------------------------------------------------------------------------- make_dataset


def test_make_dataset_batches_shapes_dtypes_and_values():
    images, labels = images_and_labels(n=10)
    dataset = training.make_dataset(images, labels, batch_size=4, shuffle=False)
    batches = list(dataset.as_numpy_iterator())
    assert [len(batch_labels) for _, batch_labels in batches] == [4, 4, 2]
    batch_images, batch_labels = batches[0]
    assert batch_images.shape == (4, 6, 6, 1) and batch_images.dtype == np.float32
    assert batch_labels.dtype == np.int64
    all_images = np.concatenate([batch for batch, _ in batches])
    np.testing.assert_array_equal(all_images, images.astype(np.float32) / 255.0)  # tutorial scaling
    assert 0.0 <= all_images.min() and all_images.max() <= 1.0
    np.testing.assert_array_equal(np.concatenate([batch for _, batch in batches]), labels)


def test_make_dataset_shuffle_is_reproducible_and_covers_every_example_once():
    images, labels = images_and_labels(n=23)
    ids = np.arange(23)  # use the index as the label to follow each example
    first = training.make_dataset(images, ids, batch_size=5, seed=7)
    second = training.make_dataset(images, ids, batch_size=5, seed=7)
    other_seed = training.make_dataset(images, ids, batch_size=5, seed=8)
    epochs_first, epochs_second = epoch_batches(first, 3), epoch_batches(second, 3)
    assert epochs_first == epochs_second
    for epoch in epochs_first:
        order = np.concatenate(epoch)
        assert sorted(order.tolist()) == list(range(23))  # every example exactly once
        assert [len(batch) for batch in epoch] == [5, 5, 5, 5, 3]
    orders = [np.concatenate(epoch).tolist() for epoch in epochs_first]
    assert orders[0] != orders[1] != orders[2]  # a new order every epoch
    assert orders[0] != list(range(23))
    assert epoch_batches(other_seed, 1)[0] != epochs_first[0]


def test_make_dataset_images_follow_their_labels_when_shuffled():
    images, labels = images_and_labels(n=30)
    dataset = training.make_dataset(images, labels, 8, seed=1)
    for batch_images, batch_labels in dataset.as_numpy_iterator():
        bright_band = (
            batch_images[..., 0].mean(axis=2).reshape(len(batch_labels), 3, 2).mean(axis=2)
        )
        np.testing.assert_array_equal(bright_band.argmax(axis=1), batch_labels)


def test_make_dataset_repeat_gives_a_new_permutation_each_pass():
    images, _ = images_and_labels(n=12)
    dataset = training.make_dataset(images, np.arange(12), batch_size=4, seed=3, repeat=True)
    stream = np.concatenate([labels for _, labels in dataset.take(9).as_numpy_iterator()])
    passes = stream.reshape(3, 12)
    for order in passes:
        assert sorted(order.tolist()) == list(range(12))
    assert len({tuple(order) for order in passes}) == 3


def test_make_dataset_options():
    images, labels = images_and_labels(n=10)
    only_images = list(
        training.make_dataset(images, None, batch_size=4, shuffle=False).as_numpy_iterator()
    )
    assert [batch.shape[0] for batch in only_images] == [4, 4, 2]
    dropped = list(
        training.make_dataset(images, labels, 4, drop_remainder=True).as_numpy_iterator()
    )
    assert [len(batch_labels) for _, batch_labels in dropped] == [4, 4]
    floats = np.linspace(-3.0, 3.0, 10 * 36).reshape(10, 6, 6, 1)  # float64, not rescaled by "auto"
    (batch, _), *_ = training.make_dataset(floats, labels, 10, shuffle=False).as_numpy_iterator()
    np.testing.assert_allclose(batch, floats.astype(np.float32))
    (scaled, _), *_ = training.make_dataset(
        images, labels, 10, shuffle=False, scale=0.5
    ).as_numpy_iterator()
    np.testing.assert_array_equal(scaled, images.astype(np.float32) * 0.5)


def test_make_dataset_applies_augmentation_per_batch():
    images, labels = images_and_labels(n=8)
    inverted = training.make_dataset(
        images, labels, 8, shuffle=False, augment=lambda batch: 1.0 - batch
    )
    (batch, _), *_ = inverted.as_numpy_iterator()
    np.testing.assert_allclose(batch, 1.0 - images / 255.0, atol=1e-6)
    # A Keras preprocessing layer works inside tf.data under every backend.
    flip = keras.layers.RandomFlip("horizontal", seed=0)
    flipped = training.make_dataset(images, labels, 8, shuffle=False, augment=[flip])
    (batch, _), *_ = flipped.as_numpy_iterator()
    originals = images / 255.0
    for image, original in zip(batch, originals, strict=True):
        assert np.allclose(image, original, atol=1e-6) or np.allclose(
            image, original[:, ::-1], atol=1e-6
        )


@pytest.mark.parametrize(
    ("arguments", "error", "argument_name"),
    [
        ({"y": np.zeros(5)}, ValueError, "`y`"),
        ({"y": {"main": np.zeros(10), "aux": np.zeros(5)}}, ValueError, "y\\['aux'\\]"),
        ({"y": {}}, ValueError, "`y`"),
        ({"y": np.array(["cat"] * 10)}, TypeError, "`y`"),
        ({"y": np.full(10, np.nan)}, ValueError, "`y` to hold finite values"),
        ({"x": np.full((10, 6, 6, 1), np.inf)}, ValueError, "`x` to hold finite values"),
        ({"x": np.ones((10, 6, 6, 1)) + 1j}, TypeError, "`x`"),
        ({"x": "images"}, TypeError, "`x`"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 10**6}, ValueError, r"`batch_size` to be an integer in \[1, 65536\]"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.0}, TypeError, "seed"),
        ({"scale": "bytes"}, ValueError, "scale"),
        ({"scale": 0}, ValueError, "scale"),
        ({"scale": float("nan")}, ValueError, "scale=nan"),
        ({"augment": "flip"}, TypeError, "augment"),
        ({"shuffle": "no"}, TypeError, "Received: shuffle='no'"),
        ({"repeat": "no"}, TypeError, "Received: repeat='no'"),
        ({"drop_remainder": 1}, TypeError, "Received: drop_remainder=1"),
        ({"batch_size": 20, "drop_remainder": True}, ValueError, "drop_remainder"),
    ],
)
def test_make_dataset_rejects_bad_input(arguments, error, argument_name):
    images, labels = images_and_labels(n=10)
    call = {"x": images, "y": labels, "batch_size": 4, **arguments}
    with pytest.raises(error, match=argument_name):
        training.make_dataset(**call)


def test_make_dataset_reads_bfloat16_features_as_float32():
    """Features from model.predict under "mixed_bfloat16" are ml_dtypes' bfloat16 arrays."""
    import ml_dtypes

    features = np.arange(12, dtype="float32").reshape(6, 2)
    dataset = training.make_dataset(features.astype(ml_dtypes.bfloat16), batch_size=6, shuffle=False)
    np.testing.assert_array_equal(next(iter(dataset.as_numpy_iterator())), features)


def test_make_dataset_rejects_empty_x():
    with pytest.raises(ValueError, match="`x`"):
        training.make_dataset(np.zeros((0, 6, 6, 1), np.uint8), np.zeros(0), batch_size=4)


# --------------------------------------------------------------------------- precision and devices


def test_configure_precision_auto_chooses_from_the_hardware(monkeypatch):
    monkeypatch.delenv(training.PRECISION_ENV_VAR, raising=False)
    monkeypatch.setattr(training, "cpu_has_native_bfloat16", lambda: False)
    cases = {
        Accelerator("cpu", 1, None): "float32",
        Accelerator("gpu", 1, (6, 1)): "float32",  # Pascal: no tensor cores
        Accelerator("gpu", 1, (7, 5)): "mixed_float16",  # T4
        Accelerator("gpu", 2, (9, 0)): "mixed_float16",  # H100s
        Accelerator("tpu", 8, None): "mixed_bfloat16",
    }
    for accelerator, expected in cases.items():
        monkeypatch.setattr(
            training, "detect_accelerator", lambda accelerator=accelerator: accelerator
        )
        assert training.configure_precision("auto") == expected
        assert keras.config.dtype_policy().name == expected


@pytest.mark.parametrize(
    "backend, native, onednn, expected",
    [
        ("tensorflow", True, True, "mixed_bfloat16"),
        ("tensorflow", True, False, "float32"),  # TF_ENABLE_ONEDNN_OPTS=0: slow bfloat16 kernels
        ("tensorflow", False, True, "float32"),
        ("jax", True, True, "float32"),  # XLA's CPU kernels gain nothing from bfloat16
        ("torch", True, True, "float32"),
    ],
)
def test_auto_policy_on_a_cpu_uses_bfloat16_only_where_it_pays(
    monkeypatch, backend, native, onednn, expected
):
    monkeypatch.setattr(training, "cpu_has_native_bfloat16", lambda: native)
    monkeypatch.setattr(training, "_tensorflow_uses_onednn", lambda: onednn)
    assert training._auto_policy(Accelerator("cpu", 1, None), backend) == expected


X86_FLAGS = "fpu vme de pse tsc msr avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni"
CPUINFO_CASES = {
    # x86 Linux: one "flags" line per logical processor
    f"processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: {X86_FLAGS} amx_bf16 amx_tile\n": True,
    f"processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: {X86_FLAGS} avx512_bf16\n": True,
    f"processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: {X86_FLAGS}\n": False,
    # A model name is not a feature: the word "bf16" there must not count.
    f"model name\t: bf16 Turbo Edition\nflags\t\t: {X86_FLAGS}\n": False,
    # Arm Linux: a "Features" line (Neoverse V1 / Graviton 3 has bf16, Graviton 2 has not)
    "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics bf16 i8mm\n": True,
    "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics\n": False,
    "": False,
}


@pytest.mark.parametrize(
    ("cpuinfo", "error"), [(b"flags : bf16", TypeError), (["bf16"], TypeError), ("x" * 10_000_001, ValueError)]
)
def test_cpu_has_native_bfloat16_refuses_what_is_not_cpuinfo_text(cpuinfo, error):
    with pytest.raises(error, match="`cpuinfo`"):
        training.cpu_has_native_bfloat16(cpuinfo)


@pytest.mark.parametrize("cpuinfo, expected", list(CPUINFO_CASES.items()))
def test_cpu_has_native_bfloat16_reads_the_feature_flags(cpuinfo, expected):
    assert training.cpu_has_native_bfloat16(cpuinfo) is expected


def test_cpu_has_native_bfloat16_on_this_machine_agrees_with_proc_cpuinfo():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = set(handle.read().split())
    except OSError:
        pytest.skip("no /proc/cpuinfo on this system")
    expected = bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})
    assert training.cpu_has_native_bfloat16() is expected


def test_configure_precision_auto_on_this_cpu(monkeypatch):
    if training.detect_accelerator().kind != "cpu":
        pytest.skip("this machine has an accelerator")
    monkeypatch.delenv(training.PRECISION_ENV_VAR, raising=False)
    fast_bfloat16 = (
        BACKEND == "tensorflow"
        and training.cpu_has_native_bfloat16()
        and training._tensorflow_uses_onednn()
    )
    expected = "mixed_bfloat16" if fast_bfloat16 else "float32"
    keras.config.set_dtype_policy("mixed_float16")  # "auto" must replace whatever was there
    assert training.configure_precision() == expected
    assert keras.config.dtype_policy().name == expected
    assert keras.layers.Dense(2).dtype_policy.name == expected


@pytest.mark.parametrize("forced", ["float32", "mixed_bfloat16", "mixed_float16"])
def test_precision_environment_variable_forces_the_automatic_choice(monkeypatch, forced):
    monkeypatch.setenv(training.PRECISION_ENV_VAR, forced)
    assert training.configure_precision() == forced
    assert keras.config.dtype_policy().name == forced
    # An explicit argument is obeyed whatever the variable says.
    assert training.configure_precision("float32") == "float32"


def test_precision_environment_variable_typo_is_an_error_naming_it(monkeypatch):
    monkeypatch.setenv(training.PRECISION_ENV_VAR, "bfloat16")
    with pytest.raises(ValueError, match="COURSEPKG_PRECISION.*Received: COURSEPKG_PRECISION='bfloat16'"):
        training.configure_precision()


def test_configure_precision_explicit_policy_and_errors():
    assert training.configure_precision("mixed_float16") == "mixed_float16"
    layer = keras.layers.Dense(2)
    assert (layer.compute_dtype, layer.variable_dtype) == ("float16", "float32")
    with pytest.raises(ValueError, match="policy"):
        training.configure_precision("float16")
    with pytest.raises(ValueError, match="Received: policy=True"):
        training.configure_precision(True)
    with pytest.raises(ValueError, match="Expected `policy` to be one of .*Received: policy='no'"):
        training.configure_precision("no")


# Accuracy parity: mixed_bfloat16 must learn as well as float32. The tolerance is stated, not
# tuned to pass: 4 percentage points on 360 test digits is about two standard errors of one run.
PARITY_TOLERANCE = 0.04


def _train_small_cnn_on_digits(policy: str) -> float:
    from coursepkg.data import digits_as_mnist

    keras.config.set_dtype_policy(policy)
    keras.utils.set_random_seed(0)
    digits = digits_as_mnist()  # 1,437 train + 360 test real handwritten digits, 28x28
    x_train = digits.x_train[..., None].astype("float32") / 255.0
    x_test = digits.x_test[..., None].astype("float32") / 255.0
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax", dtype="float32"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, digits.y_train, batch_size=32, epochs=4, verbose=0)
    assert model.layers[0].compute_dtype == policy.removeprefix("mixed_")
    return model.evaluate(x_test, digits.y_test, verbose=0)[1]


def test_bfloat16_trains_to_the_accuracy_of_float32():
    float32_accuracy = _train_small_cnn_on_digits("float32")
    bfloat16_accuracy = _train_small_cnn_on_digits("mixed_bfloat16")
    assert float32_accuracy > 0.85, "the reference run itself did not learn"
    assert abs(bfloat16_accuracy - float32_accuracy) <= PARITY_TOLERANCE, (
        f"float32 {float32_accuracy:.3f} against mixed_bfloat16 {bfloat16_accuracy:.3f}"
    )


def test_distribution_strategy_on_one_device_changes_nothing():
    if training.detect_accelerator().count > 1:
        pytest.skip("this machine has several accelerators")
    strategy = training.distribution_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert keras.distribution.distribution() is None
    if BACKEND == "tensorflow":
        import tensorflow as tf

        assert isinstance(strategy, tf.distribute.Strategy)
        assert not isinstance(strategy, (tf.distribute.MirroredStrategy, tf.distribute.TPUStrategy))
    else:
        assert isinstance(strategy, training.KerasDistribution) and strategy.distribution is None
    with strategy.scope():
        model = small_model()
    assert model.count_params() == 36 * 8 + 8 + 8 * 3 + 3


def test_detect_accelerator_sees_the_backend_devices():
    accelerator = training.detect_accelerator()
    if BACKEND == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        expected = ("gpu", len(gpus)) if gpus else ("cpu", 1)
    elif BACKEND == "jax":
        import jax

        platform = jax.default_backend()
        expected = ("cpu", 1) if platform == "cpu" else (platform, jax.device_count())
    else:
        pytest.skip(f"no reference for the {BACKEND} backend")
    if accelerator.kind == "tpu":
        pytest.skip("TPU detection is checked on a TPU only")
    assert (accelerator.kind, accelerator.count) == expected


# --------------------------------------------------------------------------- fit


def test_fit_returns_a_history_whose_loss_decreases():
    images, labels = images_and_labels(n=96)
    model = small_model()
    model.compile(
        optimizer=keras.optimizers.Adam(0.02),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # 72 training and 24 validation images: whole batches, so JAX compiles each step once.
    history = training.fit(
        model, images, labels, batch_size=24, epochs=6, validation_split=0.25, verbose=0
    )
    assert isinstance(history, keras.callbacks.History)
    assert history.epoch == list(range(6))
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.history["val_accuracy"][-1] > 0.9


def test_fit_matches_plain_model_fit_without_shuffling():
    # 34 training images (4 batches of 8 and a partial one of 2) and 8 validation images.
    images, labels = images_and_labels(n=42)
    reference = small_model()
    plain, helper = compiled_copy(reference), compiled_copy(reference)
    expected = plain.fit(
        images / 255.0,
        labels,
        batch_size=8,
        epochs=3,
        shuffle=False,
        validation_split=0.19,
        verbose=0,
    )
    received = training.fit(
        helper,
        images,
        labels,
        batch_size=8,
        epochs=3,
        shuffle=False,
        validation_split=0.19,
        verbose=0,
    )
    for name in ("loss", "val_loss"):
        np.testing.assert_allclose(received.history[name], expected.history[name], rtol=1e-5)
    for received_weights, expected_weights in zip(
        helper.get_weights(), plain.get_weights(), strict=True
    ):
        np.testing.assert_allclose(received_weights, expected_weights, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.function tracing is TensorFlow's")
def test_fit_traces_the_training_step_once_and_trains_as_plain_fit():
    # Adam's moments and the accuracy metric are variables. Created during the first trace
    # of the training step (plain model.fit's way outside a tf.distribute scope), they make
    # TensorFlow trace the whole step twice; the helper creates them beforehand.
    images, labels = images_and_labels(n=24)
    reference = small_model()
    runs = {}
    for name in ("plain", "helper"):
        model = keras.models.clone_model(reference)
        model.set_weights(reference.get_weights())
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        traces = []
        original_train_step = model.train_step

        def counting_train_step(data, traces=traces, original_train_step=original_train_step):
            traces.append(data)
            return original_train_step(data)

        model.train_step = counting_train_step
        if name == "plain":
            history = model.fit(images / 255.0, labels, batch_size=8, epochs=2, shuffle=False, verbose=0)
        else:
            history = training.fit(model, images, labels, batch_size=8, epochs=2, shuffle=False, verbose=0)
        runs[name] = (len(traces), history.history, model.get_weights())
    traces, history, weights = runs["helper"]
    assert traces == 1
    np.testing.assert_allclose(history["loss"], runs["plain"][1]["loss"], rtol=1e-5)
    np.testing.assert_allclose(history["accuracy"], runs["plain"][1]["accuracy"])
    for received, expected in zip(weights, runs["plain"][2], strict=True):
        np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-6)


def test_fit_takes_one_label_array_per_output_of_a_multi_output_model():
    # GoogLeNet's auxiliary classifier (chapter 8): two outputs, the same labels for both.
    images, labels = images_and_labels(n=42)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 1))
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(inputs))
    outputs = {
        "main": keras.layers.Dense(3, activation="softmax", name="main")(hidden),
        "aux": keras.layers.Dense(3, activation="softmax", name="aux")(hidden),
    }
    reference = keras.Model(inputs, outputs)
    runs = {}
    for name in ("plain", "helper"):
        model = keras.models.clone_model(reference)
        model.set_weights(reference.get_weights())
        model.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss={"main": "sparse_categorical_crossentropy", "aux": "sparse_categorical_crossentropy"},
                      loss_weights={"main": 1.0, "aux": 0.3})
        targets = {"main": labels, "aux": labels}
        if name == "plain":
            history = model.fit(images / 255.0, targets, batch_size=8, epochs=2, shuffle=False,
                                validation_split=0.19, verbose=0)
        else:
            history = training.fit(model, images, targets, batch_size=8, epochs=2, shuffle=False,
                                   validation_split=0.19, verbose=0)
        runs[name] = history.history
    for metric in ("loss", "main_loss", "aux_loss", "val_loss"):
        np.testing.assert_allclose(runs["helper"][metric], runs["plain"][metric], rtol=1e-5)
    batch_images, batch_labels = next(iter(training.make_dataset(images, targets, batch_size=8, shuffle=False)))
    assert sorted(batch_labels) == ["aux", "main"]
    np.testing.assert_array_equal(batch_labels["aux"], labels[:8])


def test_fit_with_the_same_seed_is_reproducible_and_passes_callbacks_through():
    images, labels = images_and_labels(n=40)
    reference = small_model()
    runs = []
    for _ in range(2):
        model = compiled_copy(reference)
        seen = []
        callback = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs, seen=seen: seen.append(epoch)
        )
        history = training.fit(
            model,
            images,
            labels,
            batch_size=8,
            epochs=2,
            seed=5,
            validation_data=(images[:8], labels[:8]),
            callbacks=[callback],
            verbose=0,
        )
        assert seen == [0, 1]
        runs.append((history.history["loss"], model.get_weights()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-6)
    for first, second in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_allclose(first, second, rtol=1e-6)


def test_fit_sets_jit_compile_and_steps_per_execution_like_compile():
    images, labels = images_and_labels(n=16)
    reference = small_model()
    plain = compiled_copy(reference)
    expected = plain.fit(images / 255.0, labels, batch_size=8, shuffle=False, verbose=0)
    model = compiled_copy(reference, jit_compile=False)
    history = training.fit(
        model, images, labels, batch_size=8, shuffle=False, jit_compile=True, verbose=0
    )
    assert model.jit_compile is True  # as after compile(jit_compile=True): XLA
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-5)
    if BACKEND == "torch":
        return  # Keras runs one batch per call under PyTorch
    training.fit(model, images, labels, batch_size=8, steps_per_execution=2, verbose=0)
    assert model.steps_per_execution == 2
    assert model.jit_compile is True  # "auto" keeps what is in force


@pytest.mark.parametrize(
    ("arguments", "error", "argument_name"),
    [
        ({"y": np.zeros(5)}, ValueError, "`y`"),
        ({"y": None}, ValueError, "Expected `y`.*Received: y=None"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epochs": 10**6}, ValueError, r"`epochs` to be an integer in \[1, 10000\]"),
        ({"batch_size": -8}, ValueError, "batch_size"),
        ({"batch_size": 10**9}, ValueError, "batch_size"),
        ({"validation_split": 1.0}, ValueError, "validation_split"),
        ({"validation_split": float("nan")}, ValueError, "Received: validation_split=nan"),
        ({"validation_split": "0.1"}, TypeError, "validation_split"),
        ({"validation_data": (np.zeros(3),)}, ValueError, "validation_data"),
        ({"validation_data": "test set"}, TypeError, "validation_data"),
        ({"validation_data": (np.zeros((3, 6, 6, 1)), np.zeros(2, int))}, ValueError,
         "`validation_data`.*`x_val` and `y_val`"),
        ({"validation_data": (np.zeros((3, 5, 5, 1)), np.zeros(3, int))}, ValueError,
         r"`validation_data`.*`x_val`.*\(6, 6, 1\)"),
        ({"validation_data": (np.zeros((3, 6, 6, 1)), np.array([0, 1, 3]))}, ValueError,
         r"`validation_data`.*`y_val` to hold class indices in \[0, 3\)"),
        ({"jit_compile": "yes"}, ValueError, "jit_compile"),
        ({"jit_compile": 1}, TypeError, "jit_compile"),
        ({"jit_compile": False, "validation_data": (np.zeros(3),)}, ValueError, "validation_data"),
        ({"steps_per_execution": 0}, ValueError, "steps_per_execution"),
        ({"steps_per_execution": 2.0}, TypeError, "steps_per_execution"),
        ({"shuffle": "no"}, TypeError, "Received: shuffle='no'"),
        ({"seed": float("inf")}, TypeError, "seed"),
        ({"scale": float("inf")}, ValueError, "scale"),
        ({"augment": [keras.layers.RandomFlip(), "flip"]}, TypeError, "augment"),
        ({"callbacks": "early stopping"}, TypeError, "callbacks"),
        ({"callbacks": [print]}, TypeError, "callbacks"),
        ({"verbose": "quiet"}, ValueError, "verbose"),
        ({"verbose": 3}, ValueError, "verbose"),
        ({"steps_per_epoch": 0}, ValueError, "steps_per_epoch"),
        ({"sample_weight": np.ones(12)}, TypeError, "sample_weight="),
        ({"epoch": 3}, TypeError, "epoch=3"),
    ],
)
def test_fit_rejects_bad_input(arguments, error, argument_name):
    images, labels = images_and_labels(n=12)
    model = compiled_copy(small_model())
    call = {"y": labels, "batch_size": 4, "verbose": 0, **arguments}
    compiled_options = (model.jit_compile, model.steps_per_execution)
    with pytest.raises(error, match=argument_name):
        training.fit(model, images, **call)
    assert (model.jit_compile, model.steps_per_execution) == compiled_options  # left untouched


@pytest.mark.parametrize(
    ("labels", "loss", "message"),
    [
        (np.array([0, 1, 2, 3] * 3), "sparse_categorical_crossentropy",
         r"`y` to hold class indices in \[0, 3\).*Received: y with values in \[0, 3\]"),
        (np.array([-1, 1, 2, 0] * 3), keras.losses.SparseCategoricalCrossentropy(),
         r"\[0, 3\).*values in \[-1, 2\]"),
        (np.array([0.5, 1, 2, 0] * 3), keras.losses.sparse_categorical_crossentropy, "whole numbers"),
        (np.eye(4)[np.arange(12) % 4], "categorical_crossentropy", r"one-hot rows of width 3.*\(12, 4\)"),
        (np.arange(12) % 3, keras.losses.CategoricalCrossentropy(), r"one-hot rows of width 3.*\(12,\)"),
    ],
)
def test_fit_refuses_labels_outside_the_model_classes_before_training(labels, loss, message):
    """Issue 16: a label 10 for a 10-class softmax failed deep inside TensorFlow; now it is named."""
    images, _ = images_and_labels(n=12)
    model = small_model()
    model.compile(optimizer="sgd", loss=loss)
    with pytest.raises(ValueError, match=message):
        training.fit(model, images, labels, batch_size=4, verbose=0)
    assert model.optimizer.iterations.numpy() == 0  # refused before any step


def test_fit_accepts_the_labels_keras_accepts():
    images, labels = images_and_labels(n=12)
    model = small_model()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=-1))
    ignored = np.where(np.arange(12) == 5, -1, labels)  # the loss's ignore_class is allowed
    training.fit(model, images, ignored, batch_size=4, verbose=0)
    training.fit(model, images, labels.astype("float32")[:, np.newaxis], batch_size=4, verbose=0)
    one_hot = compiled_copy(small_model())
    one_hot.compile(optimizer="sgd", loss="categorical_crossentropy")
    training.fit(one_hot, images, np.eye(3, dtype="float32")[labels], batch_size=4, verbose=0)
    regression = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    regression.compile(optimizer="sgd", loss="mse")  # no classes: any finite targets
    training.fit(regression, images, labels * 10.0 - 7.5, batch_size=4, verbose=0,
                 steps_per_epoch=np.int64(2), initial_epoch=0)  # fmt: skip


def test_fit_refuses_a_model_that_is_not_a_keras_model():
    images, labels = images_and_labels(n=12)
    with pytest.raises(TypeError, match="`model` to be a compiled keras.Model"):
        training.fit(lambda batch: batch, images, labels)


def test_fit_requires_a_compiled_model():
    images, labels = images_and_labels(n=12)
    with pytest.raises(ValueError, match="`model` to be compiled"):
        training.fit(small_model(), images, labels, batch_size=4)


def test_precision_scope_sets_and_restores_the_policy():
    keras.config.set_dtype_policy("mixed_bfloat16")
    with training.precision_scope("float32") as policy:
        assert policy == "float32"
        assert keras.layers.Dense(2).compute_dtype == "float32"
    assert keras.config.dtype_policy().name == "mixed_bfloat16"
    with pytest.raises(RuntimeError):  # restored on an error too
        with training.precision_scope("float32"):
            raise RuntimeError("inside")
    assert keras.config.dtype_policy().name == "mixed_bfloat16"
    with pytest.raises(ValueError, match="Received: policy='float16'"):
        with training.precision_scope("float16"):
            pass
    with pytest.raises(ValueError, match="Received: policy='no'"):
        training.precision_scope("no")  # refused at the call, not when the block is entered


def test_exercise_checks_run_in_float32_under_a_mixed_precision_chapter():
    from coursepkg.checking import evaluate

    seen = []

    def answer_builds_a_layer(*args, **kwargs):
        seen.append(keras.config.dtype_policy().name)
        raise RuntimeError("not a real answer")

    keras.config.set_dtype_policy("mixed_bfloat16")
    evaluate("resnet.residual_block", answer_builds_a_layer)
    assert seen and set(seen) == {"float32"}
    assert keras.config.dtype_policy().name == "mixed_bfloat16"
