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
import numbers
import os
from collections.abc import Callable, Sequence

import numpy as np

from coursepkg.config import DEFAULT_SEED

AUTO = "auto"
PRECISION_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
MIN_FLOAT16_COMPUTE_CAPABILITY = (7, 0)  # Volta: first NVIDIA GPUs with float16 tensor cores


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
            (for tests); ``None`` reads the machine's.

    Returns:
        ``True`` when one of :data:`NATIVE_BFLOAT16_CPU_FLAGS` is present.
    """
    if cpuinfo is None:
        cpuinfo = _read_cpuinfo()
        if cpuinfo is None:
            return _macos_has_bfloat16()
    if not isinstance(cpuinfo, str):
        raise TypeError(f"Expected `cpuinfo` to be a string or None. Received: cpuinfo={cpuinfo!r}")
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

    Example:
        >>> coursepkg.configure_precision()  # a CPU with AVX512-BF16, TensorFlow
        'mixed_bfloat16'
    """
    from coursepkg import validation

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


@contextlib.contextmanager
def precision_scope(policy: str = "float32"):
    """Use another global dtype policy inside a ``with`` block, then put the previous one back.

    Introduced in: book/08_nin_googlenet.ipynb

    A chapter that trains in mixed precision builds the layers it compares with
    NumPy to six digits inside ``with precision_scope("float32"):``; the exercise
    checks run that way too (:func:`coursepkg.checking.evaluate`).

    Args:
        policy: one of ``"float32"``, ``"mixed_float16"``, ``"mixed_bfloat16"``.

    Yields:
        The policy in force inside the block.

    Example:
        >>> with coursepkg.training.precision_scope("float32"):
        ...     layer = keras.layers.Conv2D(8, 3)  # computes in float32
    """
    from coursepkg import validation

    validation.check_choice("policy", policy, PRECISION_POLICIES)
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
        x: images (or any features), an array of shape ``(n, ...)``; uint8 is
            best. Keep the channel axis your model expects, e.g.
            ``(n, 28, 28, 1)``.
        y: labels, an array of ``n`` rows (class indices or one-hot); a dict
            of such arrays, one per output of a multi-output model (keyed by
            the output names, as ``model.fit`` takes them); or ``None`` for a
            dataset of images only (for ``model.predict``).
        batch_size: examples per batch (the global batch on several devices).
        shuffle: draw a new order every epoch; ``False`` keeps the array order.
        seed: seed of the shuffling order (non-negative integer).
        augment: ``None``, a callable, or a list of callables applied in order
            to each float32 image batch, e.g. ``keras.layers.RandomFlip()``
            (Keras preprocessing layers work inside ``tf.data`` under every
            backend). Use it for the training set only.
        scale: ``"auto"`` divides uint8 images by 255 and leaves other dtypes
            unscaled; a number multiplies the float32 images by it.
        repeat: loop over the data forever (pass ``steps_per_epoch`` to
            ``model.fit``); :func:`fit` does this.
        drop_remainder: drop the last, smaller batch (TPUs want equal batches).

    Returns:
        A ``tf.data.Dataset`` of ``(images, labels)`` batches (``images`` alone
        when ``y`` is None), images as float32.

    Example:
        >>> train = coursepkg.make_dataset(x_train, y_train, batch_size=128)
        >>> model.fit(train, epochs=5)
    """
    x = np.asarray(x)
    if x.ndim < 1 or len(x) == 0:
        raise ValueError(
            f"Expected `x` to be a non-empty array of examples. Received: x with shape {x.shape}"
        )
    y = _as_labels(y, x)
    _check_positive_int(batch_size, "batch_size")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"Expected `seed` to be a non-negative integer. Received: seed={seed!r}")
    augmenters = _as_augmenters(augment)
    divisor, factor = _scaling(scale, x.dtype)
    num_examples = len(x)
    if drop_remainder and num_examples < batch_size:
        raise ValueError(
            "Expected at least one full batch with `drop_remainder=True`. "
            f"Received: {num_examples} examples, batch_size={batch_size}"
        )

    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        _keep_tensorflow_off_accelerators(tf)

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


def _as_labels(y, x: np.ndarray):
    """``y`` as NumPy arrays of ``len(x)`` rows (floats as float32, as ``model.fit`` does).

    ``y`` is one array, a dict of arrays (one per output of the model), or None.
    """
    if y is None:
        return None
    if isinstance(y, dict):
        if not y:
            raise ValueError("Expected `y` to hold labels for at least one output. Received: y={}")
        return {name: _as_label_array(labels, x, f"y[{name!r}]") for name, labels in y.items()}
    return _as_label_array(y, x, "y")


def _as_label_array(labels, x: np.ndarray, argument: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim < 1 or x.ndim < 1 or len(labels) != len(x):
        raise ValueError(
            f"Expected `x` and `{argument}` to hold the same number of examples. "
            f"Received: x with shape {x.shape}, {argument} with shape {labels.shape}"
        )
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


def _check_positive_int(value, argument: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(
            f"Expected `{argument}` to be a positive integer. Received: {argument}={value!r}"
        )


def _as_augmenters(augment) -> list[Callable]:
    if augment is None:
        return []
    augmenters = list(augment) if isinstance(augment, (list, tuple)) else [augment]
    for augmenter in augmenters:
        if not callable(augmenter):
            raise ValueError(
                "Expected `augment` to be None, a callable or a list of callables. "
                f"Received: augment={augment!r}"
            )
    return augmenters


def _scaling(scale, dtype) -> tuple[float | None, float]:
    """(divisor, factor): uint8 with "auto" is divided by 255 (exactly as NumPy's ``x / 255``)."""
    if scale == AUTO:
        return (255.0, 1.0) if dtype == np.uint8 else (None, 1.0)
    if (
        isinstance(scale, bool)
        or not isinstance(scale, numbers.Real)
        or not math.isfinite(scale)
        or scale <= 0
    ):
        raise ValueError(
            f"Expected `scale` to be 'auto' or a positive number. Received: scale={scale!r}"
        )
    return None, float(scale)


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
        x: training images, array ``(n, ...)``, ideally uint8.
        y: training labels, ``n`` rows, or a dict of them keyed by output
            name for a model with several outputs (see :func:`make_dataset`).
        batch_size: examples per step (the global batch on several devices).
        epochs: passes over the training data.
        validation_data: ``(x_val, y_val)`` arrays (same scaling, never
            shuffled or augmented), a ``tf.data.Dataset``, or ``None``.
        validation_split: fraction of ``x, y`` held out for validation, taken
            from the end before shuffling, as ``model.fit`` does. Ignored when
            ``validation_data`` is given.
        shuffle: new order of the training data every epoch.
        seed: seed of that order; the same seed gives the same batches.
        augment: callable(s) applied to each float32 training batch (see
            :func:`make_dataset`).
        scale: ``"auto"`` (uint8 divided by 255) or a factor.
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
            ``N`` runs ``N`` batches per compiled call, which cuts Python
            overhead for small models on a GPU or TPU (batch-level callbacks
            then see every ``N``-th batch). Not supported by PyTorch.
        callbacks: Keras callbacks, passed through.
        verbose: passed through (``"auto"``: progress bar).
        **fit_kwargs: any other ``model.fit`` argument (``initial_epoch``,
            ``class_weight``, ``validation_freq``, ``steps_per_epoch``...).

    Returns:
        The ``keras.callbacks.History`` that ``model.fit`` returns.

    Example:
        >>> history = coursepkg.fit(model, x_train, y_train, epochs=5,
        ...                         batch_size=128, validation_data=(x_test, y_test))
    """
    import keras

    if not getattr(model, "compiled", False):
        raise ValueError(
            "Expected `model` to be compiled: call model.compile(optimizer=..., loss=...) first. "
            f"Received: model={getattr(model, 'name', model)!r} (not compiled)"
        )
    _check_positive_int(epochs, "epochs")
    _check_positive_int(batch_size, "batch_size")
    if (
        isinstance(validation_split, bool)
        or not isinstance(validation_split, numbers.Real)
        or not 0 <= validation_split < 1
    ):
        raise ValueError(
            "Expected `validation_split` to be a number in [0, 1). "
            f"Received: validation_split={validation_split!r}"
        )
    if isinstance(validation_data, (tuple, list)) and len(validation_data) != 2:
        raise ValueError(
            "Expected `validation_data` to be (x_val, y_val) or a tf.data.Dataset. "
            f"Received: a sequence of length {len(validation_data)}"
        )
    if jit_compile != AUTO and not isinstance(jit_compile, bool):
        raise ValueError(
            f"Expected `jit_compile` to be 'auto', True or False. Received: jit_compile={jit_compile!r}"
        )
    if steps_per_execution != AUTO:
        _check_positive_int(steps_per_execution, "steps_per_execution")
    x = np.asarray(x)
    y = _as_labels(y, x)
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
    train = make_dataset(
        x,
        y,
        batch_size,
        shuffle=shuffle,
        seed=seed,
        augment=augment,
        scale=scale,
        repeat=True,
        drop_remainder=equal_batches,
    )
    batches_per_epoch = len(x) // batch_size if equal_batches else math.ceil(len(x) / batch_size)
    fit_kwargs.setdefault("steps_per_epoch", batches_per_epoch)
    if isinstance(validation_data, (tuple, list)):
        validation_data = make_dataset(
            validation_data[0],
            validation_data[1],
            batch_size,
            shuffle=False,
            scale=scale,
            drop_remainder=equal_batches,
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
