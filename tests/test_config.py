"""Fast mode, seeding and the device line every chapter opens with."""

from __future__ import annotations

import random

import keras
import numpy as np
import pytest

import coursepkg
from coursepkg import config

FAST = config.FAST_ENV_VAR


@pytest.mark.parametrize("value", ["1", "true", "True", "TRUE", " yes ", "on"])
def test_is_fast_on(monkeypatch, value):
    monkeypatch.setenv(FAST, value)
    assert config.is_fast() is True


@pytest.mark.parametrize("value", ["0", "false", "False", "", "no", "off"])
def test_is_fast_off(monkeypatch, value):
    monkeypatch.setenv(FAST, value)
    assert config.is_fast() is False


def test_is_fast_unset_is_full_mode(monkeypatch):
    monkeypatch.delenv(FAST, raising=False)
    assert config.is_fast() is False


@pytest.mark.parametrize("value", ["ture", "2", "fast", "yes please"])
def test_is_fast_rejects_a_typo_and_names_the_variable(monkeypatch, value):
    monkeypatch.setenv(FAST, value)
    with pytest.raises(ValueError, match=FAST) as error:
        config.is_fast()
    assert repr(value) in str(error.value)


def test_scaled_picks_the_value_of_the_mode(monkeypatch):
    monkeypatch.setenv(FAST, "1")
    assert config.scaled(full=20, fast=1) == 1
    monkeypatch.setenv(FAST, "0")
    assert config.scaled(full=20, fast=1) == 20
    monkeypatch.delenv(FAST)
    assert config.scaled(full=(28, 28), fast=(8, 8)) == (28, 28)
    monkeypatch.setenv(FAST, "ture")
    with pytest.raises(ValueError, match=FAST):
        config.scaled(full=20, fast=1)


def _random_draws() -> dict[str, np.ndarray]:
    """One draw from every generator a chapter uses."""
    dense = keras.layers.Dense(4)
    dense.build((None, 3))
    return {
        "python": np.array([random.random() for _ in range(3)]),
        "numpy": np.random.normal(size=3),
        "keras.random": keras.ops.convert_to_numpy(keras.random.normal((3,))),
        "initializer": keras.ops.convert_to_numpy(dense.kernel),
    }


def test_seed_everything_repeats_numpy_python_and_keras_draws():
    assert config.seed_everything(123) == 123
    first = _random_draws()
    config.seed_everything(123)
    again = _random_draws()
    config.seed_everything(124)
    other = _random_draws()
    for name in first:
        np.testing.assert_array_equal(first[name], again[name], err_msg=name)
        assert not np.array_equal(first[name], other[name]), name


@pytest.mark.parametrize(
    ("seed", "error"),
    [(-1, ValueError), (2**32, ValueError), (10**12, ValueError), (1.5, TypeError),
     ("42", TypeError), (None, TypeError), (True, TypeError), (np.float64(3.0), TypeError)],
)  # fmt: skip
def test_seed_everything_rejects_bad_seeds(seed, error):
    with pytest.raises(error, match="`seed`"):
        config.seed_everything(seed)


def test_setup_checks_the_seed_before_anything_else(capsys):
    with pytest.raises(TypeError, match="`seed`"):
        config.setup(seed="42")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("full", "fast", "argument", "error"),
    [(float("nan"), 1, "full", ValueError), (20, float("inf"), "fast", ValueError),
     (20, "1", "fast", TypeError), (True, 1, "fast", TypeError), (20, (1,), "fast", TypeError),
     ({"epochs": 20}, 1, "full", TypeError), (20, 1j, "fast", TypeError),
     (np.zeros(3), None, "full", TypeError), ((1, float("nan")), (1,), "full", ValueError),
     ((1, None), (1,), "full", TypeError)],
)  # fmt: skip
def test_scaled_refuses_values_a_chapter_cannot_mean(monkeypatch, full, fast, argument, error):
    monkeypatch.setenv(FAST, "1")
    with pytest.raises(error, match=f"`{argument}`"):
        config.scaled(full=full, fast=fast)


def test_scaled_accepts_what_the_chapters_pass(monkeypatch):
    monkeypatch.setenv(FAST, "1")
    assert config.scaled(full=None, fast=2_000) == 2_000
    assert config.scaled(full=True, fast=False) is False
    assert config.scaled(full=0.99, fast=1) == 1
    assert config.scaled(full=("vgg16", "resnet50"), fast=["mobilenet_v2"]) == ["mobilenet_v2"]
    assert config.scaled(full=((10, 2), (5, 1)), fast=((1, 1),)) == ((1, 1),)
    assert config.scaled(full=np.int64(3), fast=2) == 2


@pytest.mark.parametrize(("name", "error"), [(None, TypeError), (3, TypeError), ("", ValueError)])
def test_env_flag_wants_a_variable_name(name, error):
    with pytest.raises(error, match="`name`"):
        config.env_flag(name)


def _reference_devices(backend: str) -> tuple[int, bool]:
    """(number of devices, whether one is an accelerator), asked of the backend directly."""
    if backend == "tensorflow":
        import tensorflow as tf

        devices = tf.config.list_physical_devices()
        return len(devices), any(device.device_type in ("GPU", "TPU") for device in devices)
    if backend == "jax":
        import jax

        devices = jax.devices()
        return len(devices), any(device.platform != "cpu" for device in devices)
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.device_count(), True
        return 1, False
    pytest.skip(f"no device reference for backend {backend!r}")


def test_device_summary_matches_the_backend():
    info = config.device_summary()
    backend = keras.backend.backend()
    n_devices, accelerated = _reference_devices(backend)
    assert info.backend == backend
    assert isinstance(info.devices, tuple) and len(info.devices) == n_devices
    assert all(isinstance(name, str) and ":" in name for name in info.devices)
    assert info.gpu is accelerated
    assert info.mixed_precision == keras.config.dtype_policy().name
    line = str(info)
    assert f"backend={backend}" in line and f"precision={info.mixed_precision}" in line
    assert ("no GPU" in line) is (not accelerated)


def test_device_summary_reports_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        assert config.device_summary().mixed_precision == "mixed_float16"
    finally:
        keras.config.set_dtype_policy(previous)
    assert config.device_summary().mixed_precision == previous.name


@pytest.mark.parametrize(("value", "mode"), [("1", "FAST mode"), (None, "FULL mode")])
def test_setup_prints_version_mode_and_device_lines(monkeypatch, capsys, value, mode):
    if value is None:
        monkeypatch.delenv(FAST, raising=False)
    else:
        monkeypatch.setenv(FAST, value)
    config.setup(seed=7)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert f"coursepkg {coursepkg.__version__}" in lines[0] and "seed=7" in lines[0]
    assert lines[1].startswith(mode)
    assert lines[1] == config.mode_summary()
    assert lines[2] == str(config.device_summary())


def test_setup_seeds_like_seed_everything(capsys):
    config.setup(seed=5)
    after_setup = _random_draws()
    config.seed_everything(5)
    assert np.array_equal(after_setup["numpy"], _random_draws()["numpy"])
    capsys.readouterr()


def test_setup_refuses_a_typo_in_fast_mode(monkeypatch):
    monkeypatch.setenv(FAST, "ture")
    with pytest.raises(ValueError, match=FAST):
        config.setup()


@pytest.mark.parametrize("forced", ["float32", "mixed_bfloat16"])
def test_setup_sets_the_precision_it_prints(monkeypatch, capsys, forced):
    import keras

    from coursepkg import training

    previous = keras.config.dtype_policy()
    monkeypatch.setenv(training.PRECISION_ENV_VAR, forced)
    try:
        config.setup(seed=1, precision="auto")
        assert keras.config.dtype_policy().name == forced
        assert capsys.readouterr().out.splitlines()[2].endswith(f"precision={forced}")
        # The default is float32, whatever the variable says: a chapter that compares
        # numbers with NumPy keeps full precision.
        config.setup(seed=1)
        assert keras.config.dtype_policy().name == "float32"
        assert capsys.readouterr().out.splitlines()[2].endswith("precision=float32")
    finally:
        keras.config.set_dtype_policy(previous)


def test_setup_refuses_an_unknown_precision(capsys):
    with pytest.raises(ValueError, match="Received: precision='bfloat16'"):
        config.setup(precision="bfloat16")
