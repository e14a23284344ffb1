"""Run settings shared by every chapter: fast mode, seeding and the device summary.

Introduced in: book/01_convolution.ipynb

Every chapter starts with ``coursepkg.setup()``, which seeds the random number
generators and prints one line saying which mode, backend and device produced
the numbers on the page. Chapters scale their data, epochs and image sizes with
``scaled(full=..., fast=...)`` so that the same notebook runs in seconds in CI
(``COURSEPKG_FAST=1``) and at full size on Colab.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import platform

from coursepkg import validation

FAST_ENV_VAR = "COURSEPKG_FAST"
DEFAULT_SEED = 42

# Longest name of an environment variable read by env_flag.
MAX_ENV_NAME = 256
# Deepest nesting of a chapter setting given to scaled(): a tuple of tuples at most.
_MAX_SETTING_DEPTH = 2

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_fast() -> bool:
    """Whether fast mode is on (``COURSEPKG_FAST=1`` in the environment).

    Returns:
        ``True`` when the variable is one of ``1, true, yes, on`` (any case),
        ``False`` when it is unset or one of ``0, false, no, off``.

    Raises:
        ValueError: if the variable holds anything else, so that a typo such as
            ``COURSEPKG_FAST=ture`` is not silently read as full mode.
    """
    return env_flag(FAST_ENV_VAR)


def env_flag(name: str) -> bool:
    """Read an on/off setting from the environment variable ``name``.

    Args:
        name: the variable's name, a non-empty string of at most 256 characters.

    Returns:
        ``True`` for ``1, true, yes, on`` (any case), ``False`` when unset or
        ``0, false, no, off``.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: an empty or over-long ``name``, or a value that is none of the above,
            naming the variable and what it holds.
    """
    validation.check_str("name", name, max_length=MAX_ENV_NAME)
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"Expected `{name}` to be one of 1/0, true/false, yes/no, on/off. "
        f"Received: {name}={os.environ[name]!r}"
    )


def scaled(full, fast):
    """Pick the full-size or the fast-mode value of a chapter parameter.

    Both values are checked whatever the mode, so that a typo in the full-size
    value fails in the fast CI run too.

    Args:
        full: value used for the real run (Colab, a GPU, the published book): a
            finite number, a boolean, a string, ``None`` ("all of it"), or a tuple
            or list of these (or of such tuples).
        fast: value used when fast mode is on (CI, a quick look on a laptop), of
            the same kind as ``full`` (either may be ``None``; a number for a number,
            a boolean for a boolean, a sequence for a sequence).

    Returns:
        ``fast`` if :func:`is_fast` else ``full``.

    Raises:
        TypeError: a value of another kind (a dict, an array, a complex number), or
            values of different kinds, e.g. ``scaled(full=20, fast="1")``.
        ValueError: a NaN or infinite number.

    Example:
        >>> EPOCHS = scaled(full=20, fast=1)
    """
    full_kind = _setting_kind("full", full, full)
    fast_kind = _setting_kind("fast", fast, fast)
    if None not in (full_kind, fast_kind) and full_kind != fast_kind:
        raise TypeError(
            f"Expected `fast` to be of the same kind as `full` ({full_kind}). "
            f"Received: fast={fast!r:.80}, full={full!r:.80}"
        )
    return fast if is_fast() else full


def _setting_kind(name: str, value, whole, depth: int = 0) -> str | None:
    """The kind of a chapter setting ("number", "boolean", "string", "sequence"), None for None."""
    if value is None and depth == 0:
        return None
    if isinstance(value, (bool, str)):
        return "boolean" if isinstance(value, bool) else "string"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"Expected `{name}` to hold finite numbers. Received: {name}={whole!r:.80}")
        return "number"
    if isinstance(value, (tuple, list)) and depth < _MAX_SETTING_DEPTH:
        for item in value:
            _setting_kind(name, item, whole, depth + 1)
        return "sequence"
    raise TypeError(
        f"Expected `{name}` to be a number, a boolean, a string, None, or a tuple of them. "
        f"Received: {name}={whole!r:.80}"
    )


def seed_everything(seed: int = DEFAULT_SEED) -> int:
    """Seed Python, NumPy and the Keras backend so that a run can be repeated.

    Args:
        seed: an integer in [0, 2**32 - 1] (a NumPy integer is accepted).

    Returns:
        The seed, for printing.

    Raises:
        TypeError: ``seed`` is not an integer (a float, a bool, a string).
        ValueError: ``seed`` is negative or too large.
    """
    seed = validation.check_seed("seed", seed)
    import keras

    keras.utils.set_random_seed(seed)
    return seed


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """What a chapter ran on."""

    backend: str  # Keras backend: "tensorflow", "jax" or "torch"
    devices: tuple[str, ...]  # accelerator or CPU device names seen by the backend
    gpu: bool  # at least one GPU (or TPU) is visible
    mixed_precision: str  # Keras global dtype policy, e.g. "float32" or "mixed_float16"

    def __str__(self) -> str:
        kind = "GPU" if self.gpu else "no GPU"
        return (
            f"backend={self.backend} | devices={', '.join(self.devices)} ({kind}) | "
            f"precision={self.mixed_precision}"
        )


def _backend_devices(backend: str) -> tuple[list[str], bool]:
    """List the devices the active backend sees, and whether one is an accelerator."""
    if backend == "tensorflow":
        import tensorflow as tf

        devices = tf.config.list_physical_devices()
        names = [f"{device.device_type}:{device.name.rsplit(':', 1)[-1]}" for device in devices]
        accelerated = any(device.device_type in ("GPU", "TPU") for device in devices)
        return names, accelerated
    if backend == "jax":
        import jax

        devices = jax.devices()
        names = [f"{device.platform.upper()}:{device.id}" for device in devices]
        return names, any(device.platform in ("gpu", "tpu", "cuda", "rocm") for device in devices)
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            names = [f"GPU:{index}" for index in range(torch.cuda.device_count())]
            return names, True
        return ["CPU:0"], False
    return ["CPU:0"], False


def device_summary() -> DeviceInfo:
    """Describe the backend, its devices and the precision policy.

    Returns:
        A :class:`DeviceInfo`; ``str()`` of it is the one line chapters print.
    """
    import keras

    backend = keras.backend.backend()
    names, accelerated = _backend_devices(backend)
    policy = keras.config.dtype_policy().name
    return DeviceInfo(backend, tuple(names), accelerated, policy)


def mode_summary() -> str:
    """One sentence that says which mode produced the numbers on the page."""
    if is_fast():
        return (
            f"FAST mode ({FAST_ENV_VAR}=1): reduced data, epochs and image sizes; "
            "numbers below are smoke-test numbers, not the chapter's real results."
        )
    return f"FULL mode: the chapter's real settings (set {FAST_ENV_VAR}=1 for a quick run)."


def setup(seed: int = DEFAULT_SEED, precision: str = "float32") -> None:
    """Seed everything, set the precision, and print the lines a chapter opens with.

    Returns nothing, so that the setup cell shows only the printed lines; call
    :func:`device_summary` for the :class:`DeviceInfo` itself.

    Args:
        seed: seed passed to :func:`seed_everything`, an integer in [0, 2**32 - 1].
        precision: Keras dtype policy for the whole chapter, set before any
            model is built: ``"float32"`` (the default, for chapters that
            compare numbers with NumPy), or ``"auto"`` for chapters that train:
            mixed precision where the hardware computes it natively (see
            :func:`coursepkg.training.configure_precision`; the environment
            variable ``COURSEPKG_PRECISION`` can force a policy then). The
            printed device line names the policy in force.
    """
    validation.check_seed("seed", seed)
    from coursepkg.training import AUTO, PRECISION_POLICIES, configure_precision

    validation.check_choice("precision", precision, (AUTO, *PRECISION_POLICIES))
    seed = seed_everything(seed)
    configure_precision(precision)
    info = device_summary()
    print(f"coursepkg {_version()} | Python {platform.python_version()} | seed={seed}")
    print(mode_summary())
    print(info)


def _version() -> str:
    from coursepkg import __version__

    return __version__
