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
import os
import platform

FAST_ENV_VAR = "COURSEPKG_FAST"
DEFAULT_SEED = 42

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

    Returns:
        ``True`` for ``1, true, yes, on`` (any case), ``False`` when unset or
        ``0, false, no, off``.

    Raises:
        ValueError: for anything else, naming the variable and what it holds.
    """
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

    Args:
        full: value used for the real run (Colab, a GPU, the published book).
        fast: value used when fast mode is on (CI, a quick look on a laptop).

    Returns:
        ``fast`` if :func:`is_fast` else ``full``.

    Example:
        >>> EPOCHS = scaled(full=20, fast=1)
    """
    return fast if is_fast() else full


def seed_everything(seed: int = DEFAULT_SEED) -> int:
    """Seed Python, NumPy and the Keras backend so that a run can be repeated.

    Args:
        seed: a non-negative integer.

    Returns:
        The seed, for printing.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"Expected `seed` to be a non-negative integer. Received: seed={seed!r}")
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
        seed: seed passed to :func:`seed_everything`.
        precision: Keras dtype policy for the whole chapter, set before any
            model is built: ``"float32"`` (the default, for chapters that
            compare numbers with NumPy), or ``"auto"`` for chapters that train:
            mixed precision where the hardware computes it natively (see
            :func:`coursepkg.training.configure_precision`; the environment
            variable ``COURSEPKG_PRECISION`` can force a policy then). The
            printed device line names the policy in force.
    """
    from coursepkg import validation
    from coursepkg.training import AUTO, PRECISION_POLICIES, configure_precision

    validation.check_choice("precision", precision, (AUTO, *PRECISION_POLICIES))
    seed_everything(seed)
    configure_precision(precision)
    info = device_summary()
    print(f"coursepkg {_version()} | Python {platform.python_version()} | seed={seed}")
    print(mode_summary())
    print(info)


def _version() -> str:
    from coursepkg import __version__

    return __version__
