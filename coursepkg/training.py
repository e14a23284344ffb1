"""Training on whatever hardware is there: input pipeline, precision, devices, XLA.

Introduced in: book/04_training.ipynb

A chapter builds and compiles its own Keras model; this module only takes care
of what makes the same code fast on a GPU or TPU and harmless on a laptop CPU:

1. :func:`configure_precision` turns on mixed precision where the hardware
   computes 16-bit floats natively: float16 tensor cores on a GPU of compute
   capability 7.0 or newer, bfloat16 on a TPU, and bfloat16 on a CPU with
   native bfloat16 instructions (AVX512-BF16 or AMX-BF16 on x86, BF16 on Arm)
   under the TensorFlow backend; float32 everywhere else.
2. :func:`distribution_strategy` picks Keras's own multi-device support: a
   ``tf.distribute`` strategy under the TensorFlow backend, a
   ``keras.distribution.DataParallel`` under JAX when there are several devices.
3. :func:`make_dataset` turns NumPy arrays into a ``tf.data`` pipeline that
   keeps the images as uint8 in host memory, shuffles reproducibly, batches,
   converts each batch to float32 (and augments it) on CPU threads, and
   prefetches, so that the accelerator never waits for the next batch.
4. :func:`fit` feeds that pipeline to ``model.fit`` and returns Keras's own
   ``History``; it can also switch XLA (``jit_compile``) on or off. Under
   TensorFlow it creates the optimizer's and metrics' variables before the
   training step is traced, so that the step is traced once, not twice.

Steps 1 and 2 must happen *before* the model is built, because Keras fixes a
layer's dtype policy and the device placement of its weights when the layer is
created::

    coursepkg.configure_precision()              # e.g. "mixed_bfloat16" on a recent CPU
    strategy = coursepkg.distribution_strategy()
    with strategy.scope():
        model = build_model()                    # the chapter's own Keras code
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    history = coursepkg.fit(model, x_train, y_train, epochs=10, batch_size=128,
                            validation_data=(x_test, y_test))

``tf.data`` works under every Keras backend (Keras 3 accepts a
``tf.data.Dataset`` in ``fit`` for JAX and PyTorch too), so TensorFlow must be
installed, which it is on Colab and in the course environment.

``benchmarks/benchmark_training.py`` compares :func:`fit` with plain
``model.fit`` on float32 NumPy arrays, on the backend and hardware present
(``benchmarks/README.md`` has the figures measured so far).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import glob
import math
import os
from collections.abc import Callable, Sequence

import numpy as np

from coursepkg import validation
from coursepkg.config import DEFAULT_SEED

AUTO = "auto"
PRECISION_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
MIN_FLOAT16_COMPUTE_CAPABILITY = (7, 0)  # Volta: first NVIDIA GPUs with float16 tensor cores

# Upper bounds of the arguments: far above any real run, low enough that a typo fails at once.
MAX_BATCH_SIZE = 65_536  # the largest batches of the literature (LARS on ImageNet) are 64K
MAX_EPOCHS = 10_000
MAX_STEPS = 1_000_000  # steps per epoch
MAX_STEPS_PER_EXECUTION = 10_000
MAX_SCALE = 65_536.0  # a factor on pixel values (e.g. 1 / 65535 for 16-bit images, 255 for [0, 1])
MAX_AUGMENTERS = 100
MAX_EXAMPLE_AXES = 6  # (n, frames, height, width, channels) and one more
MAX_CPUINFO_LENGTH = 10_000_000  # /proc/cpuinfo of a 512-thread machine is about 1.5 MB
VERBOSE_CHOICES = (AUTO, 0, 1, 2)


# --------------------------------------------------------------------------- hardware


@dataclasses.dataclass(frozen=True)
class Accelerator:
    """The hardware the active Keras backend will compute on."""

    kind: str  # "cpu", "gpu" or "tpu"
    count: int  # number of devices of that kind (1 for a CPU)
    compute_capability: tuple[int, int] | None  # lowest CUDA capability; None: unknown/not NVIDIA


def detect_accelerator() -> Accelerator:
    """Describe the devices the active Keras backend sees.

    Returns:
        An :class:`Accelerator`; ``kind == "cpu"`` when there is no GPU or TPU.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tpus = tf.config.list_logical_devices("TPU")
        if tpus or _tpu_address() is not None:
            return Accelerator("tpu", max(len(tpus), 1), None)
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            capabilities = [
                tf.config.experimental.get_device_details(gpu).get("compute_capability")
                for gpu in gpus
            ]
            known = [tuple(capability) for capability in capabilities if capability]
            return Accelerator("gpu", len(gpus), min(known) if known else None)
        return Accelerator("cpu", 1, None)
    if backend == "jax":
        import jax

        devices = jax.devices()
        platform = devices[0].platform
        if platform == "tpu":
            return Accelerator("tpu", len(devices), None)
        if platform in ("gpu", "cuda", "rocm"):
            known = [
                _parse_capability(getattr(device, "compute_capability", None)) for device in devices
            ]
            known = [capability for capability in known if capability is not None]
            return Accelerator("gpu", len(devices), min(known) if known else None)
        return Accelerator("cpu", 1, None)
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            count = torch.cuda.device_count()
            capability = min(
                tuple(torch.cuda.get_device_capability(index)) for index in range(count)
            )
            return Accelerator("gpu", count, capability)
    return Accelerator("cpu", 1, None)


def _parse_capability(value) -> tuple[int, int] | None:
    """``"8.6"`` -> ``(8, 6)``; anything else (an AMD ``"gfx90a"``, ``None``) -> ``None``."""
    try:
        major, minor = str(value).split(".")[:2]
        return int(major), int(minor)
    except (TypeError, ValueError):
        return None


def _tpu_address() -> str | None:
    """Where a TPU can be reached: a Colab/GCE TPU node address, "local" on a TPU VM, or None."""
    for variable in ("COLAB_TPU_ADDR", "TPU_NAME"):
        if os.environ.get(variable):
            return os.environ[variable]
    if glob.glob("/dev/accel[0-9]*"):  # the TPU chips of a Cloud/Colab TPU VM
        return "local"
    return None


# --------------------------------------------------------------------------- precision

PRECISION_ENV_VAR = "COURSEPKG_PRECISION"
# /proc/cpuinfo flags of processors that compute bfloat16 natively: x86 (AVX512-BF16 from
# Intel Cooper Lake and AMD Zen 4, AMX-BF16 from Intel Sapphire Rapids) and Arm (FEAT_BF16:
# Neoverse V1/N2, AWS Graviton 3 and later, Apple M2 and later).
NATIVE_BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def cpu_has_native_bfloat16(cpuinfo: str | None = None) -> bool:
    """Whether the processor has bfloat16 arithmetic instructions.

    Introduced in: book/04_training.ipynb

    Reads the feature flags the operating system reports (``flags`` lines of
    ``/proc/cpuinfo`` on x86 Linux, ``Features`` lines on Arm Linux, the
    ``hw.optional.arm.FEAT_BF16`` sysctl on macOS), never the model name: the
    same marketing name covers processors with and without these units.

    Args:
        cpuinfo: the text of ``/proc/cpuinfo`` to read instead of the machine's
            (for tests), at most 10,000,000 characters; ``None`` reads the machine's.

    Returns:
        ``True`` when one of :data:`NATIVE_BFLOAT16_CPU_FLAGS` is present.

    Raises:
        TypeError: ``cpuinfo`` is neither a string nor ``None``.
        ValueError: ``cpuinfo`` is longer than 10,000,000 characters.
    """
    if cpuinfo is None:
        cpuinfo = _read_cpuinfo()
        if cpuinfo is None:
            return _macos_has_bfloat16()
    elif not isinstance(cpuinfo, str):
        raise TypeError(
            f"Expected `cpuinfo` to be a string or None. Received: cpuinfo={cpuinfo!r:.80}"
        )
    elif len(cpuinfo) > MAX_CPUINFO_LENGTH:
        raise ValueError(
            f"Expected `cpuinfo` to be at most {MAX_CPUINFO_LENGTH:,} characters long. "
            f"Received: cpuinfo of {len(cpuinfo):,} characters"
        )
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features") and NATIVE_BFLOAT16_CPU_FLAGS & set(
            value.split()
        ):
            return True
    return False


def _read_cpuinfo() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:  # not Linux
        return None


def _macos_has_bfloat16() -> bool:
    import platform
    import subprocess

    if platform.system() != "Darwin":
        return False
    try:
        answer = subprocess.run(
            ["sysctl", "-n", "hw.optional.arm.FEAT_BF16"],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return answer.stdout.strip() == "1"


def _tensorflow_uses_onednn() -> bool:
    """TensorFlow's CPU kernels run bfloat16 fast only through oneDNN (on by default on Linux)."""
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip() in ("0", "false", "False"):
        return False
    try:
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):  # a private module: if it moves, trust the default
        return True


def configure_precision(policy: str = AUTO) -> str:
    """Set Keras's global dtype policy: mixed precision where the hardware is fast at it.

    Introduced in: book/04_training.ipynb

    Mixed precision computes in 16 bits and keeps the weights in float32.
    ``"auto"`` chooses, from the hardware the active backend sees:

    * a GPU with tensor cores (compute capability 7.0 or newer: V100, T4,
      A100, H100, RTX 20xx and later): ``"mixed_float16"``, which roughly
      doubles the speed of convolutions and halves activation memory; Keras
      then wraps the optimizer in a ``LossScaleOptimizer`` at ``compile`` time
      so that small gradients do not underflow float16's 5-bit exponent;
    * a TPU: ``"mixed_bfloat16"``;
    * a CPU with native bfloat16 instructions (:func:`cpu_has_native_bfloat16`)
      under the TensorFlow backend with oneDNN: ``"mixed_bfloat16"``. bfloat16
      keeps float32's 8-bit exponent (same range, so no loss scaling) and
      7 bits of mantissa (about 2 to 3 significant digits). On such processors
      TensorFlow trains a CNN of ordinary convolutions 1.4 to 4 times faster
      than in float32 (``benchmarks/README.md``); depthwise convolutions and
      normalisation layers can be slower, so a network made of them (the
      Xception, EfficientNet and ConvNeXt chapters) is better left in float32;
    * anything else, and every CPU under JAX or PyTorch (whose CPU kernels gain
      nothing from bfloat16): ``"float32"``.

    The environment variable ``COURSEPKG_PRECISION`` (``float32``,
    ``mixed_float16``, ``mixed_bfloat16`` or ``auto``) replaces the automatic
    choice, for example ``COURSEPKG_PRECISION=float32`` to reproduce a float32
    figure or to compare; an explicit ``policy`` argument is always obeyed.

    Call it before building the model (a layer's policy is fixed when it is
    created), and give the last layer ``dtype="float32"`` so that the softmax
    and the loss are computed in full precision.

    Args:
        policy: ``"auto"`` (choose from the hardware, or from the variable), or
            one of ``"float32"``, ``"mixed_float16"``, ``"mixed_bfloat16"``.

    Returns:
        The name of the policy now in force, e.g. ``"float32"``.

    Raises:
        ValueError: ``policy`` (or ``$COURSEPKG_PRECISION``) is not one of these names.

    Example:
        >>> coursepkg.configure_precision()  # a CPU with AVX512-BF16, TensorFlow
        'mixed_bfloat16'
    """
    validation.check_choice("policy", policy, (AUTO, *PRECISION_POLICIES))
    import keras

    if policy == AUTO:
        forced = os.environ.get(PRECISION_ENV_VAR, "").strip()
        if forced and forced != AUTO:
            validation.check_choice(PRECISION_ENV_VAR, forced, PRECISION_POLICIES)
            policy = forced
        else:
            policy = _auto_policy(detect_accelerator(), keras.backend.backend())
    keras.config.set_dtype_policy(policy)
    return policy


def precision_scope(policy: str = "float32"):
    """Use another global dtype policy inside a ``with`` block, then put the previous one back.

    Introduced in: book/08_nin_googlenet.ipynb

    A chapter that trains in mixed precision builds the layers it compares with
    NumPy to six digits inside ``with precision_scope("float32"):``; the exercise
    checks run that way too (:func:`coursepkg.checking.evaluate`).

    Args:
        policy: one of ``"float32"``, ``"mixed_float16"``, ``"mixed_bfloat16"``.

    Returns:
        A context manager; ``with`` gives the policy in force inside the block.

    Raises:
        ValueError: ``policy`` is not one of these names (at the call, before the block).

    Example:
        >>> with coursepkg.training.precision_scope("float32"):
        ...     layer = keras.layers.Conv2D(8, 3)  # computes in float32
    """
    validation.check_choice("policy", policy, PRECISION_POLICIES)
    return _precision_scope(policy)


@contextlib.contextmanager
def _precision_scope(policy: str):
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield policy
    finally:
        keras.config.set_dtype_policy(previous)


def _auto_policy(accelerator: Accelerator, backend: str = "tensorflow") -> str:
    if accelerator.kind == "tpu":
        return "mixed_bfloat16"
    if accelerator.kind == "gpu":
        capability = accelerator.compute_capability
        if capability is None or capability >= MIN_FLOAT16_COMPUTE_CAPABILITY:
            return "mixed_float16"  # unknown capability: an AMD GPU, all of which have fast float16
        return "float32"
    if backend == "tensorflow" and cpu_has_native_bfloat16() and _tensorflow_uses_onednn():
        return "mixed_bfloat16"
    return "float32"


# --------------------------------------------------------------------------- devices


@dataclasses.dataclass(frozen=True)
class KerasDistribution:
    """The device setup :func:`distribution_strategy` returns on the JAX and PyTorch backends.

    It offers the two members of a ``tf.distribute.Strategy`` that chapters use,
    ``scope()`` and ``num_replicas_in_sync``, so that the same chapter code runs
    under every backend.
    """

    distribution: object | None  # the keras.distribution.Distribution in force; None on one device
    num_replicas_in_sync: int  # how many devices each batch is split over

    def scope(self):
        """Context manager to build the model in (a no-op on a single device)."""
        if self.distribution is None:
            return contextlib.nullcontext()
        return self.distribution.scope()


def distribution_strategy():
    """Choose how to spread training over the devices present, with Keras's own tools.

    Introduced in: book/04_training.ipynb

    * TensorFlow backend: ``tf.distribute.TPUStrategy`` when a TPU is found
      (Colab's TPU runtime), ``tf.distribute.MirroredStrategy`` for several GPUs
      (each batch is split over them and the gradients are summed), otherwise
      the default strategy (one device, nothing changes).
    * JAX backend: with several devices, a ``keras.distribution.DataParallel``
      over all of them, set as the global distribution; with one, nothing.
    * PyTorch backend: nothing (Keras's distribution API is JAX-only).

    With several devices, the batch size is the *global* batch: each of ``n``
    devices gets ``batch_size / n`` examples, so scale it (and usually the
    learning rate) with ``strategy.num_replicas_in_sync``.

    Returns:
        An object with ``scope()`` and ``num_replicas_in_sync``: the
        ``tf.distribute.Strategy`` itself under TensorFlow, a
        :class:`KerasDistribution` otherwise. Build and compile the model
        inside ``with strategy.scope():``.

    Example:
        >>> strategy = coursepkg.distribution_strategy()
        >>> with strategy.scope():
        ...     model = build_model()
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        resolver = _connect_tpu()
        if resolver is not None:
            return tf.distribute.TPUStrategy(resolver)
        if len(tf.config.list_logical_devices("GPU")) > 1:
            return tf.distribute.MirroredStrategy()
        return tf.distribute.get_strategy()
    if backend == "jax":
        import jax

        devices = jax.devices()
        if len(devices) > 1:
            distribution = keras.distribution.DataParallel(devices=devices)
            keras.distribution.set_distribution(distribution)
            return KerasDistribution(distribution, len(devices))
    return KerasDistribution(None, 1)


@functools.lru_cache(maxsize=1)
def _connect_tpu():
    """Connect to and initialise the TPU once per process; None when there is none."""
    address = _tpu_address()
    if address is None:
        return None
    import tensorflow as tf

    try:
        if address == "local":
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
        else:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        print(f"[coursepkg] TPU at {address!r} not usable ({error}); using the default strategy.")
        return None
    return resolver


# --------------------------------------------------------------------------- input pipeline


def make_dataset(
    x,
    y=None,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = DEFAULT_SEED,
    augment: Callable | Sequence[Callable] | None = None,
    scale: float | str = AUTO,
    repeat: bool = False,
    drop_remainder: bool = False,
):
    """Build a ``tf.data`` pipeline of batches from in-memory arrays.

    Introduced in: book/04_training.ipynb

    The stages, all on CPU threads so that they overlap with training:

    1. *Order*: one random permutation of the example indices per epoch, drawn
       with ``seed`` (the same seed gives the same sequence of epochs), then
       cut into batches of indices. Shuffling indices in one vectorised op is
       cheaper than ``Dataset.shuffle`` over the images, whose buffer must be
       refilled example by example at the start of every epoch (about 0.3 s
       for MNIST's 60,000 images on 2 busy CPU cores, while the accelerator
       waits). There is
       no ``cache`` stage: the arrays are already in memory, and caching
       after the float32 conversion would hold four times as many bytes.
    2. *Gather* each batch of images and labels; the arrays stay in host
       memory as they were given (uint8 images take a quarter of the space of
       float32 ones).
    3. *Convert* the batch to float32 and rescale it (uint8 ``/ 255`` to [0, 1]),
       then apply ``augment``; both run in parallel (``num_parallel_calls``).
    4. *Prefetch* (``AUTOTUNE``): prepare the next batches while the
       accelerator works on the current one. With ``repeat=True`` the
       pipeline never stops between epochs, so there is no stall at epoch
       boundaries either.

    Args:
        x: images (or any features), a non-empty array of shape ``(n, ...)``
            with 1 to 6 axes, of integers or finite floats; uint8 is best.
            Keep the channel axis your model expects, e.g. ``(n, 28, 28, 1)``.
        y: labels, an array of ``n`` rows of integers or finite floats (class
            indices or one-hot); a dict of such arrays, one per output of a
            multi-output model (keyed by the output names, as ``model.fit``
            takes them); or ``None`` for a dataset of images only (for
            ``model.predict``).
        batch_size: examples per batch (the global batch on several devices),
            an integer in [1, 65,536].
        shuffle: ``True`` draws a new order every epoch; ``False`` keeps the
            array order.
        seed: seed of the shuffling order, an integer in [0, 2**32 - 1].
        augment: ``None``, a callable, or a list of at most 100 callables
            applied in order to each float32 image batch, e.g.
            ``keras.layers.RandomFlip()`` (Keras preprocessing layers work
            inside ``tf.data`` under every backend). Use it for the training
            set only.
        scale: ``"auto"`` divides uint8 images by 255 and leaves other dtypes
            unscaled; a number in (0, 65,536] multiplies the float32 images by it.
        repeat: ``True`` loops over the data forever (pass ``steps_per_epoch``
            to ``model.fit``); :func:`fit` does this.
        drop_remainder: ``True`` drops the last, smaller batch (TPUs want
            equal batches).

    Returns:
        A ``tf.data.Dataset`` of ``(images, labels)`` batches (``images`` alone
        when ``y`` is None), images as float32.

    Raises:
        TypeError: an argument of the wrong type: arrays of strings, booleans,
            complex numbers or objects; a float ``batch_size`` or ``seed``; a
            flag that is not ``True`` or ``False``; an ``augment`` that is not callable.
        ValueError: an empty array, NaN or infinite values, ``y`` of another
            length than ``x``, a number outside its range, a string ``scale``
            other than ``"auto"``, fewer examples than one batch with
            ``drop_remainder=True``.

    Example:
        >>> train = coursepkg.make_dataset(x_train, y_train, batch_size=128)
        >>> model.fit(train, epochs=5)
    """
    x = _as_examples("x", x)
    y = _as_labels(y, x)
    batch_size = validation.check_int("batch_size", batch_size, 1, MAX_BATCH_SIZE)
    shuffle = validation.check_bool("shuffle", shuffle)
    seed = validation.check_seed("seed", seed)
    augmenters = _as_augmenters(augment)
    divisor, factor = _scaling(scale, x.dtype)
    repeat = validation.check_bool("repeat", repeat)
    drop_remainder = validation.check_bool("drop_remainder", drop_remainder)
    _check_one_full_batch(len(x), batch_size, drop_remainder)
    return _pipeline(
        x, y, batch_size, shuffle, seed, augmenters, (divisor, factor), repeat, drop_remainder
    )


def _pipeline(x, y, batch_size, shuffle, seed, augmenters, scaling, repeat, drop_remainder):
    """The ``tf.data`` pipeline of :func:`make_dataset`, from arguments already checked."""
    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        _keep_tensorflow_off_accelerators(tf)

    divisor, factor = scaling
    num_examples = len(x)
    with tf.device("/CPU:0"):  # the data stays in host memory; only batches travel to the device
        features = tf.constant(x)  # (n, ...) in its own dtype, e.g. uint8
        labels = None if y is None else tf.nest.map_structure(tf.constant, y)  # (n, ...) each

    num_batches = (
        num_examples // batch_size if drop_remainder else math.ceil(num_examples / batch_size)
    )
    starts = tf.range(num_batches, dtype=tf.int64) * batch_size  # first index of each batch

    def batches_of_indices(order):  # order: (n,) permutation -> dataset of (batch,) index vectors
        return tf.data.Dataset.from_tensor_slices(starts).map(
            lambda start: order[start : start + batch_size]
        )

    if shuffle:
        # One new key per pass over the data, the same sequence of keys for the same seed.
        keys = tf.data.Dataset.random(seed=int(seed), rerandomize_each_iteration=True).take(1)

        def shuffled_epoch(key):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(num_examples, dtype=tf.int64),
                seed=tf.stack([tf.constant(seed, tf.int64), key]),
            )
            return batches_of_indices(order)

        indices = keys.flat_map(shuffled_epoch)
    else:
        indices = batches_of_indices(tf.range(num_examples, dtype=tf.int64))
    indices = indices.apply(tf.data.experimental.assert_cardinality(num_batches))

    def load_batch(batch_indices):
        images = tf.cast(tf.gather(features, batch_indices), tf.float32)  # (batch, ...)
        if divisor is not None:
            images = images / divisor
        elif factor != 1.0:
            images = images * factor
        for augmenter in augmenters:
            images = augmenter(images)
        if labels is None:
            return images
        return images, tf.nest.map_structure(lambda rows: tf.gather(rows, batch_indices), labels)

    dataset = indices.map(load_batch, num_parallel_calls=tf.data.AUTOTUNE)
    if repeat:
        dataset = dataset.repeat()
    return dataset.prefetch(tf.data.AUTOTUNE)


def _as_examples(name: str, value) -> np.ndarray:
    """``value`` as a non-empty array ``(n, ...)`` of 1 to 6 axes, of integers or finite floats.

    Kept in its own dtype (uint8 images stay uint8); NaN and infinities are
    looked for in slices, so that no mask of the whole array is made.
    """
    array = validation.check_array(name, value, dtype="number", finite=False)
    if not 1 <= array.ndim <= MAX_EXAMPLE_AXES:
        raise ValueError(
            f"Expected `{name}` to be an array of examples (n, ...) with 1 to {MAX_EXAMPLE_AXES} "
            f"axes. Received: {name} with shape {array.shape}"
        )
    _check_finite(name, array)
    return array


def _check_finite(name: str, array: np.ndarray) -> None:
    """Refuse NaN and infinities in an array of one axis or more, about 16M values at a time."""
    if not np.issubdtype(array.dtype, np.floating):
        return
    rows = max(1, 2**24 // max(1, array[0].size))
    for start in range(0, len(array), rows):
        if not np.all(np.isfinite(array[start : start + rows])):
            raise ValueError(
                f"Expected `{name}` to hold finite values. Received: {name} with NaN or infinite "
                f"values (first in rows {start} to {min(start + rows, len(array)) - 1})"
            )


def _as_labels(y, x: np.ndarray, x_name: str = "x", y_name: str = "y"):
    """``y`` as NumPy arrays of ``len(x)`` rows (floats as float32, as ``model.fit`` does).

    ``y`` is one array, a dict of arrays (one per output of the model), or None.
    """
    if y is None:
        return None
    if isinstance(y, dict):
        if not y:
            raise ValueError(
                f"Expected `{y_name}` to hold labels for at least one output. "
                f"Received: {y_name}={{}}"
            )
        return {
            name: _as_label_array(labels, x, x_name, f"{y_name}[{name!r}]")
            for name, labels in y.items()
        }
    return _as_label_array(y, x, x_name, y_name)


def _as_label_array(labels, x: np.ndarray, x_name: str, argument: str) -> np.ndarray:
    labels = validation.check_array(
        argument, labels, dtype="number", allow_empty=True, finite=False
    )
    if labels.ndim < 1 or len(labels) != len(x):
        raise ValueError(
            f"Expected `{x_name}` and `{argument}` to hold the same number of examples. "
            f"Received: {x_name} with shape {x.shape}, {argument} with shape {labels.shape}"
        )
    _check_finite(argument, labels)
    if np.issubdtype(labels.dtype, np.floating):
        labels = labels.astype(np.float32)  # one-hot or regression targets
    return labels


def _rows(y, rows: slice):
    """The given rows of ``y`` (an array, a dict of arrays, or None)."""
    if y is None:
        return None
    if isinstance(y, dict):
        return {name: labels[rows] for name, labels in y.items()}
    return y[rows]


def _check_one_full_batch(num_examples: int, batch_size: int, drop_remainder: bool) -> None:
    if drop_remainder and num_examples < batch_size:
        raise ValueError(
            "Expected at least one full batch with `drop_remainder=True`. "
            f"Received: {num_examples} examples, batch_size={batch_size}"
        )


def _as_augmenters(augment) -> list[Callable]:
    if augment is None:
        return []
    augmenters = list(augment) if isinstance(augment, (list, tuple)) else [augment]
    expected = (
        f"Expected `augment` to be None, a callable or a list of at most {MAX_AUGMENTERS} callables."
    )
    if not all(callable(augmenter) for augmenter in augmenters):
        raise TypeError(f"{expected} Received: augment={augment!r:.80}")
    if len(augmenters) > MAX_AUGMENTERS:
        raise ValueError(f"{expected} Received: a list of {len(augmenters)}")
    return augmenters


def _scaling(scale, dtype) -> tuple[float | None, float]:
    """(divisor, factor): uint8 with "auto" is divided by 255 (exactly as NumPy's ``x / 255``)."""
    if isinstance(scale, str):
        if scale == AUTO:
            return (255.0, 1.0) if dtype == np.uint8 else (None, 1.0)
        raise ValueError(
            f"Expected `scale` to be 'auto' or a number in (0, {MAX_SCALE:g}]. "
            f"Received: scale={scale!r:.80}"
        )
    return None, validation.check_float("scale", scale, 0.0, MAX_SCALE, low_inclusive=False)


def _auto_or(name: str, value, expected: str, check, *bounds):
    """``"auto"``, or what ``check(name, value, *bounds)`` accepts (``expected`` describes it)."""
    if isinstance(value, str):
        if value == AUTO:
            return AUTO
        raise ValueError(
            f"Expected `{name}` to be 'auto' or {expected}. Received: {name}={value!r:.80}"
        )
    return check(name, value, *bounds)


def _keep_tensorflow_off_accelerators(tf) -> None:
    """Under JAX or PyTorch, TensorFlow only feeds data: stop it reserving GPU memory."""
    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:  # TensorFlow already initialised its devices; nothing to do now
        pass


# --------------------------------------------------------------------------- fit


def fit(
    model,
    x,
    y=None,
    *,
    batch_size: int = 32,
    epochs: int = 1,
    validation_data=None,
    validation_split: float = 0.0,
    shuffle: bool = True,
    seed: int = DEFAULT_SEED,
    augment: Callable | Sequence[Callable] | None = None,
    scale: float | str = AUTO,
    jit_compile: bool | str = AUTO,
    steps_per_execution: int | str = AUTO,
    callbacks=None,
    verbose="auto",
    **fit_kwargs,
):
    """Train a compiled Keras model on arrays through a prefetching ``tf.data`` pipeline.

    Introduced in: book/04_training.ipynb

    This is ``model.fit(x, y, ...)`` with the input pipeline of
    :func:`make_dataset` (uint8 kept in host memory, per-batch float32
    conversion and augmentation on CPU threads, prefetching across epoch
    boundaries). Everything else is Keras: the model, its ``compile``
    settings, the callbacks, the progress bar and the returned ``History``.

    Args:
        model: a compiled ``keras.Model`` (build and compile it in
            ``distribution_strategy().scope()`` after
            :func:`configure_precision`).
        x: training images, array ``(n, ...)`` of integers or finite floats
            (1 to 6 axes; bfloat16 is read as float32), ideally uint8.
        y: training labels (required), ``n`` rows, or a dict of them keyed by
            output name for a model with several outputs (see
            :func:`make_dataset`). With a single output and the loss
            ``sparse_categorical_crossentropy``, whole numbers in ``[0,
            classes)`` where ``classes`` is the width of the model's output
            (the loss's ``ignore_class`` allowed too); with
            ``categorical_crossentropy``, one-hot rows of that width.
        batch_size: examples per step (the global batch on several devices),
            an integer in [1, 65,536].
        epochs: passes over the training data, an integer in [1, 10,000].
        validation_data: ``(x_val, y_val)`` arrays, checked as ``x`` and ``y``
            (same scaling, never shuffled or augmented), a
            ``tf.data.Dataset`` or ``keras.utils.PyDataset``, or ``None``.
        validation_split: fraction of ``x, y`` held out for validation, a
            number in [0, 1), taken from the end before shuffling, as
            ``model.fit`` does. Ignored when ``validation_data`` is given.
        shuffle: ``True`` draws a new order of the training data every epoch.
        seed: seed of that order, an integer in [0, 2**32 - 1]; the same seed
            gives the same batches.
        augment: callable(s) applied to each float32 training batch (see
            :func:`make_dataset`).
        scale: ``"auto"`` (uint8 divided by 255) or a factor in (0, 65,536].
        jit_compile: ``"auto"`` keeps what ``model.compile`` chose. Keras's
            own default compiles the training step with XLA under JAX (always);
            under TensorFlow only when a GPU or TPU is visible and no
            ``tf.distribute`` strategy is active (on a CPU, TensorFlow's XLA
            trained the benchmark's small CNN about ten times slower); under
            PyTorch it runs eagerly. ``True`` or ``False`` overrides it for this
            and later calls, as if it had been passed to ``compile`` (PyTorch:
            ``True`` means ``torch.compile``). XLA fuses the step's operations
            into a few compiled kernels: faster on a GPU or TPU, at the cost
            of compiling during the first steps.
        steps_per_execution: ``"auto"`` keeps the compiled setting; an integer
            ``N`` in [1, 10,000] runs ``N`` batches per compiled call, which
            cuts Python overhead for small models on a GPU or TPU (batch-level
            callbacks then see every ``N``-th batch). Not supported by PyTorch.
        callbacks: ``None`` or a list of ``keras.callbacks.Callback``, passed through.
        verbose: ``"auto"`` (progress bar), 0, 1 or 2, passed through.
        **fit_kwargs: any other ``model.fit`` argument (``initial_epoch`` and
            ``steps_per_epoch``, integers in [0, 10,000] and [1, 1,000,000];
            ``class_weight``, ``validation_freq``...); not ``sample_weight``,
            which the pipeline does not carry.

    Returns:
        The ``keras.callbacks.History`` that ``model.fit`` returns.

    Raises:
        TypeError: an argument of the wrong type (``model`` not a
            ``keras.Model``, arrays of strings or booleans, a string flag, a
            float where an integer belongs, an unknown ``model.fit`` argument).
        ValueError: a model that is not compiled, no ``y``, labels of another
            length than ``x`` or outside the model's classes, NaN or
            infinite values, a number outside its range. All are raised
            before any data is copied or any step is traced.

    Example:
        >>> history = coursepkg.fit(model, x_train, y_train, epochs=5,
        ...                         batch_size=128, validation_data=(x_test, y_test))
    """
    import keras

    _check_compiled_model(model)
    x = _as_examples("x", x)
    if y is None:
        raise ValueError(
            "Expected `y`, the labels (targets) of `x`: fit trains on (x, y) pairs. "
            "Received: y=None"
        )
    y = _as_labels(y, x)
    _check_labels_for_model(model, y, "y")
    batch_size = validation.check_int("batch_size", batch_size, 1, MAX_BATCH_SIZE)
    epochs = validation.check_int("epochs", epochs, 1, MAX_EPOCHS)
    validation_split = validation.check_float(
        "validation_split", validation_split, 0.0, 1.0, high_inclusive=False
    )
    shuffle = validation.check_bool("shuffle", shuffle)
    seed = validation.check_seed("seed", seed)
    augmenters = _as_augmenters(augment)
    scaling = _scaling(scale, x.dtype)
    jit_compile = _auto_or("jit_compile", jit_compile, "True or False", validation.check_bool)
    steps_per_execution = _auto_or(
        "steps_per_execution", steps_per_execution, f"an integer in [1, {MAX_STEPS_PER_EXECUTION}]",
        validation.check_int, 1, MAX_STEPS_PER_EXECUTION,
    )  # fmt: skip
    callbacks = _check_callbacks(callbacks)
    verbose = _auto_or("verbose", verbose, "0, 1 or 2", validation.check_int, 0, 2)
    _check_fit_kwargs(model, fit_kwargs)
    validation_data = _check_validation_data(validation_data, x, model)
    if validation_data is None and validation_split > 0:
        split_at = int(math.floor(len(x) * (1.0 - validation_split)))  # as keras.Model.fit does
        if split_at in (0, len(x)):
            raise ValueError(
                "Expected `validation_split` to leave examples on both sides. "
                f"Received: validation_split={validation_split} with {len(x)} examples"
            )
        validation_data = (x[split_at:], _rows(y, slice(split_at, None)))
        x, y = x[:split_at], _rows(y, slice(None, split_at))

    # TPUs want equal batches, and a JAX DataParallel splits each batch evenly over its devices.
    tpu = type(getattr(model, "distribute_strategy", None)).__name__.startswith("TPUStrategy")
    equal_batches = tpu or keras.distribution.distribution() is not None
    _check_one_full_batch(len(x), batch_size, equal_batches)
    train = _pipeline(x, y, batch_size, shuffle, seed, augmenters, scaling, True, equal_batches)
    batches_per_epoch = len(x) // batch_size if equal_batches else math.ceil(len(x) / batch_size)
    if fit_kwargs.get("steps_per_epoch") is None:  # None: one pass, as model.fit on arrays
        fit_kwargs["steps_per_epoch"] = batches_per_epoch
    if isinstance(validation_data, tuple):
        x_val, y_val = validation_data
        _check_one_full_batch(len(x_val), batch_size, equal_batches)
        val_scaling = _scaling(scale, x_val.dtype)  # "auto" follows x_val's own dtype
        validation_data = _pipeline(
            x_val, y_val, batch_size, False, seed, [], val_scaling, False, equal_batches
        )
    _set_compiled_option(model, "jit_compile", jit_compile)
    _set_compiled_option(model, "steps_per_execution", steps_per_execution)
    _build_before_tracing(model, train)
    return model.fit(
        train,
        epochs=epochs,
        validation_data=validation_data,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # the pipeline shuffles; Keras would only warn about a dataset
        **fit_kwargs,
    )


# Arguments of model.fit that fit sets itself, or that its pipeline cannot carry.
_FIT_OWN_ARGUMENTS = frozenset(
    {"x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split",
     "validation_data", "shuffle", "sample_weight"}
)  # fmt: skip
_SPARSE_LOSS, _ONE_HOT_LOSS = "sparse_categorical_crossentropy", "categorical_crossentropy"


def _check_compiled_model(model) -> None:
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"Expected `model` to be a compiled keras.Model. Received: model={model!r:.80}"
        )
    if not getattr(model, "compiled", False):
        raise ValueError(
            "Expected `model` to be compiled: call model.compile(optimizer=..., loss=...) first. "
            f"Received: model={model.name!r} (not compiled)"
        )


def _loss_name(loss) -> str | None:
    """The loss's name if it is one of the two cross-entropies that take classes, else None."""
    if isinstance(loss, str):
        name = loss
    else:  # a keras.losses.Loss wraps its function as `fn`; a plain function has its own name
        name = getattr(getattr(loss, "fn", loss), "__name__", None)
    if not isinstance(name, str):
        return None
    compact = name.lower().replace("_", "")
    known = {"sparsecategoricalcrossentropy": _SPARSE_LOSS, "categoricalcrossentropy": _ONE_HOT_LOSS}
    return known.get(compact)


def _output_width(model) -> int | None:
    """Width of the last axis of a single-output model's output; None when unknown or several."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError, RuntimeError):  # a subclassed or unbuilt model
        return None
    if not outputs or len(outputs) != 1 or outputs[0].shape[-1] is None:
        return None
    return int(outputs[0].shape[-1])


def _check_labels_for_model(model, labels, name: str) -> None:
    """Class labels that fit the model's output, where its loss says what they are."""
    if labels is None or isinstance(labels, dict):  # several outputs: Keras matches them by name
        return
    loss, classes = _loss_name(getattr(model, "loss", None)), _output_width(model)
    if loss is None or classes is None:
        return
    if loss == _ONE_HOT_LOSS:
        if labels.ndim < 2 or labels.shape[-1] != classes:
            raise ValueError(
                f"Expected `{name}` to be one-hot rows of width {classes}, the outputs of model "
                f"{model.name!r} (loss {_ONE_HOT_LOSS}). Received: {name} with shape {labels.shape}"
            )
        return
    ignored = getattr(model.loss, "ignore_class", None)
    counted = labels[labels != ignored] if ignored is not None else labels
    if counted.size == 0:
        return
    fractional = counted[counted != np.round(counted)]
    if fractional.size:
        raise ValueError(
            f"Expected `{name}` to hold class indices, whole numbers (loss {_SPARSE_LOSS}). "
            f"Received: {name} with fractional values, e.g. {fractional[0]}"
        )
    low, high = counted.min(), counted.max()
    if low < 0 or high >= classes:
        raise ValueError(
            f"Expected `{name}` to hold class indices in [0, {classes}), one per output of model "
            f"{model.name!r} (loss {_SPARSE_LOSS}). "
            f"Received: {name} with values in [{low:g}, {high:g}]"
        )


def _check_callbacks(callbacks) -> list | None:
    import keras

    if callbacks is None:
        return None
    if not isinstance(callbacks, (list, tuple)) or not all(
        isinstance(callback, keras.callbacks.Callback) for callback in callbacks
    ):
        raise TypeError(
            "Expected `callbacks` to be None or a list of keras.callbacks.Callback. "
            f"Received: callbacks={callbacks!r:.80}"
        )
    return list(callbacks)


def _check_fit_kwargs(model, fit_kwargs: dict) -> None:
    """Only ``model.fit``'s own keyword arguments, those that are numbers within bounds."""
    import inspect

    parameters = inspect.signature(model.fit).parameters
    accepted = set(parameters) - _FIT_OWN_ARGUMENTS
    takes_any = any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters.values())
    for key, value in fit_kwargs.items():
        if key not in accepted and (key in _FIT_OWN_ARGUMENTS or not takes_any):
            raise TypeError(
                f"Expected keyword arguments of model.fit other than those fit sets itself "
                f"({', '.join(sorted(accepted))}). Received: {key}={value!r:.80}"
            )
    if fit_kwargs.get("steps_per_epoch") is not None:
        validation.check_int("steps_per_epoch", fit_kwargs["steps_per_epoch"], 1, MAX_STEPS)
    if "initial_epoch" in fit_kwargs:
        validation.check_int("initial_epoch", fit_kwargs["initial_epoch"], 0, MAX_EPOCHS)


def _check_validation_data(validation_data, x: np.ndarray, model):
    """None, a dataset (passed through), or ``(x_val, y_val)`` checked as ``x`` and ``y`` are."""
    if validation_data is None or _is_dataset(validation_data):
        return validation_data
    expected = "Expected `validation_data` to be (x_val, y_val) arrays, a tf.data.Dataset or None."
    if not isinstance(validation_data, (tuple, list)):
        raise TypeError(f"{expected} Received: validation_data={validation_data!r:.80}")
    if len(validation_data) != 2:
        raise ValueError(f"{expected} Received: a sequence of length {len(validation_data)}")
    try:
        x_val = _as_examples("x_val", validation_data[0])
        if x_val.shape[1:] != x.shape[1:]:
            raise ValueError(
                f"Expected `x_val` to hold examples of the shape of those of `x`, {x.shape[1:]}. "
                f"Received: x_val with shape {x_val.shape}"
            )
        if validation_data[1] is None:
            raise ValueError("Expected `y_val`, the labels of `x_val`. Received: y_val=None")
        y_val = _as_labels(validation_data[1], x_val, "x_val", "y_val")
        _check_labels_for_model(model, y_val, "y_val")
    except (TypeError, ValueError) as error:
        raise type(error)(f"Invalid `validation_data`: {error}") from None
    return x_val, y_val


def _is_dataset(value) -> bool:
    """A ``tf.data.Dataset`` or a ``keras.utils.PyDataset``, which Keras reads itself."""
    import keras

    if isinstance(value, keras.utils.PyDataset):
        return True
    module = type(value).__module__ or ""
    if not module.startswith("tensorflow"):
        return False
    import tensorflow as tf

    return isinstance(value, tf.data.Dataset)


def _build_before_tracing(model, dataset) -> None:
    """Create the optimizer's and the metrics' variables before the training step is traced.

    Under TensorFlow, Keras creates them while it traces the first training
    step, unless the model was made inside a ``tf.distribute`` strategy's
    scope. Variables created during a trace make ``tf.function`` trace the
    whole step a second time, which costs seconds on a CPU for every
    ``fit`` of a new model (6 s of 15 for the tiny ConvNeXt of the ConvNeXt
    chapter). Keras's own symbolic build, which it runs under JAX and PyTorch
    and under a strategy, creates them from the shapes of one batch, outside
    the trace; this runs it for the other case.
    """
    import keras

    build = getattr(model, "_symbolic_build", None)  # Keras 3's trainer; absent elsewhere
    if keras.backend.backend() != "tensorflow" or build is None:
        return
    try:
        build(data_batch=dataset.element_spec)  # shapes and dtypes only: no batch is read
    except (RuntimeError, TypeError, ValueError):
        # A model Keras cannot build symbolically: leave it to the first trace, as plain
        # model.fit does, which reports any real error with Keras's own message.
        return


def _set_compiled_option(model, name: str, value) -> None:
    """Change a ``compile`` option in place and drop the compiled step functions if it changed."""
    if value == AUTO or getattr(model, name) == value:
        return
    setattr(model, name, value)
    # Keras builds the step functions lazily from these options; rebuild them.
    model.train_function = model.test_function = model.predict_function = None
