"""Training throughput: ``coursepkg.fit`` against plain ``model.fit`` on NumPy arrays.

The same small CNN (``--model mnist``: keras-io's MNIST convnet; ``--model vgg``:
a VGG-style network of four 3x3 convolutions on 32x32x3 images), from the same
initial weights and with the same batch size, is trained two ways in each repeat:

* **plain**: the common tutorial way, ``model.fit(x, y)`` on float32 images
  already divided by 255, float32 weights;
* **helper**: ``coursepkg.configure_precision()`` (mixed precision where the
  hardware computes it natively: bfloat16 on a recent CPU under TensorFlow) and
  ``coursepkg.distribution_strategy()`` before building the model, then
  ``coursepkg.fit`` on the uint8 images (tf.data pipeline, prefetching).

Throughput is images per second over epochs 2..N (the first epoch pays for
tracing and XLA compilation), the median over all timed epochs of all
repeats. The first epoch's own seconds (median over repeats) are shown apart:
in a short run, such as a chapter's in fast mode, they are much of the time. The two variants take turns: whole runs in alternating order, or,
with ``--interleave``, single epochs (``fit(..., initial_epoch=k,
epochs=k + 1)``), so that a busy machine slows both alike. The table also
gives the fastest timed epoch (``best``), which other processes can only slow
down, and the process CPU time per image (all threads), which they distort
less than wall-clock time.

The Keras backend is chosen by the ``KERAS_BACKEND`` environment variable
(``tensorflow`` when unset), not by a flag. See ``benchmarks/README.md``.

Example:
    python benchmarks/benchmark_training.py --images 8192 --epochs 5
    python benchmarks/benchmark_training.py --model vgg --data real
    KERAS_BACKEND=jax python benchmarks/benchmark_training.py --images 60000
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from collections.abc import Callable

# Keep TensorFlow's start-up chatter out of the table.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (after the environment variable above)
import numpy as np  # noqa: E402

from coursepkg import training  # noqa: E402
from coursepkg.config import DEFAULT_SEED  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock and process CPU seconds of every epoch."""

    def __init__(self):
        super().__init__()
        self.wall_seconds: list[float] = []
        self.cpu_seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.wall_seconds.append(time.perf_counter() - self._wall)
        self.cpu_seconds.append(time.process_time() - self._cpu)


def build_model(
    image_shape: tuple[int, ...], num_classes: int, seed: int, architecture: str = "mnist"
) -> keras.Model:
    """The network to train; the output layer stays float32 under mixed precision.

    ``"mnist"``: keras-io's MNIST convnet (two convolutions, 34,826 parameters on 28x28x1).
    ``"vgg"``: a VGG-style CNN of four 3x3 convolutions (32, 32, 64, 64 filters) in two
    blocks, a 128-unit dense layer, for 32x32x3 images: the size of the chapters' CIFAR-10
    networks, where the convolutions dominate the time.
    """
    keras.utils.set_random_seed(seed)  # the same initial weights for both variants
    if architecture == "vgg":
        layers = [keras.Input(shape=image_shape)]  # (batch, 32, 32, 3)
        for block, filters in enumerate((32, 64), start=1):
            for conv in (1, 2):
                layers.append(
                    keras.layers.Conv2D(
                        filters, 3, padding="same", activation="relu",
                        name=f"block{block}_conv{conv}",
                    )  # fmt: skip
                )
            layers.append(keras.layers.MaxPooling2D(2, name=f"block{block}_pool"))
        layers += [
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(128, activation="relu", name="fc"),
            keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions"),
        ]
        return keras.Sequential(layers, name="vgg_style")
    return keras.Sequential(
        [
            keras.Input(shape=image_shape),  # (batch, 28, 28, 1)
            keras.layers.Conv2D(32, 3, activation="relu", name="block1_conv"),
            keras.layers.MaxPooling2D(2, name="block1_pool"),
            keras.layers.Conv2D(64, 3, activation="relu", name="block2_conv"),
            keras.layers.MaxPooling2D(2, name="block2_pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dropout(0.5, name="dropout"),
            keras.layers.Dense(
                num_classes, activation="softmax", dtype="float32", name="predictions"
            ),
        ],
        name="mnist_convnet",
    )


def compile_model(model: keras.Model) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def load_images(
    source: str, n_images: int, seed: int, architecture: str = "mnist"
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images and int64 labels: random, or real (MNIST for "mnist", CIFAR-10 for "vgg").

    Offline the real loaders fall back as they print; images are (n, 28, 28, 1) for the
    MNIST convnet and (n, 32, 32, 3) for the VGG-style network.
    """
    shape = (32, 32, 3) if architecture == "vgg" else (28, 28, 1)
    if source == "real":
        from coursepkg.data import load_cifar10, load_mnist

        dataset = load_cifar10() if architecture == "vgg" else load_mnist()
        images, labels = dataset.x_train[:n_images], dataset.y_train[:n_images]
        if len(images) < n_images:
            print(f"[benchmark] only {len(images)} images available; using them all")
        return images.reshape((len(images), *shape)), labels
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n_images, *shape), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_images).astype(np.int64)
    return images, labels


@dataclasses.dataclass
class Variant:
    """One way of training the model, ready to run epochs."""

    label: str  # what the table calls it
    precision: str  # Keras dtype policy the model was built under
    model: keras.Model  # the compiled model
    train: Callable  # train(initial_epoch, epochs, callbacks): run epochs initial_epoch..epochs-1


def plain_variant(images_uint8, labels, batch_size: int, seed: int, architecture: str) -> Variant:
    """``model.fit`` on float32 images divided by 255, float32 weights: the tutorial way."""
    keras.config.set_dtype_policy("float32")
    images = images_uint8.astype("float32") / 255.0  # (n, height, width, channels)
    model = compile_model(build_model(images.shape[1:], 10, seed, architecture))

    def train(initial_epoch, epochs, callbacks):
        model.fit(
            images,
            labels,
            batch_size=batch_size,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=0,
        )

    return Variant("model.fit, float32 NumPy", "float32", model, train)


def helper_variant(
    images_uint8, labels, batch_size: int, seed: int, steps_per_execution, architecture: str
) -> Variant:
    """The course's way: precision and devices chosen first, then ``coursepkg.fit`` on uint8."""
    precision = training.configure_precision()
    strategy = training.distribution_strategy()
    with strategy.scope():
        model = compile_model(build_model(images_uint8.shape[1:], 10, seed, architecture))
    keras.config.set_dtype_policy("float32")  # the model keeps its policy; later builds get float32

    def train(initial_epoch, epochs, callbacks):
        training.fit(
            model,
            images_uint8,
            labels,
            batch_size=batch_size,
            epochs=epochs,
            initial_epoch=initial_epoch,
            seed=seed + initial_epoch,
            steps_per_execution=steps_per_execution,
            callbacks=callbacks,
            verbose=0,
        )

    return Variant("coursepkg.fit, uint8 tf.data", precision, model, train)


def measure(args, images, labels) -> tuple[dict[str, list[EpochTimer]], dict[str, Variant]]:
    """The epoch timers of both variants in every repeat, and the variants of the last one."""
    steps_per_execution = args.steps_per_execution or training.AUTO
    timers = {"plain": [], "helper": []}
    for repeat in range(args.repeats):
        variants = {
            "helper": helper_variant(
                images, labels, args.batch_size, args.seed, steps_per_execution, args.model
            ),
            "plain": plain_variant(images, labels, args.batch_size, args.seed, args.model),
        }
        run_timers = {name: EpochTimer() for name in variants}
        first, second = ("plain", "helper") if repeat % 2 == 0 else ("helper", "plain")
        if args.interleave:  # one epoch of each in turn: both see the same load
            for epoch in range(args.epochs):
                for name in (first, second) if epoch % 2 == 0 else (second, first):
                    variants[name].train(epoch, epoch + 1, [run_timers[name]])
        else:  # one whole run of each: what a chapter does
            for name in (first, second):
                variants[name].train(0, args.epochs, [run_timers[name]])
        for name, timer in run_timers.items():
            timers[name].append(timer)
            seconds = ", ".join(f"{value:.2f}" for value in timer.wall_seconds)
            print(f"[benchmark] repeat {repeat + 1}, {name}: epoch seconds {seconds}", flush=True)
    return timers, variants


def device_description() -> str:
    accelerator = training.detect_accelerator()
    if accelerator.kind == "cpu":
        return f"CPU ({os.cpu_count()} cores)"
    name = accelerator.kind.upper()
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        name = jax.devices()[0].device_kind
    elif backend == "tensorflow" and accelerator.kind == "gpu":
        import tensorflow as tf

        details = tf.config.experimental.get_device_details(
            tf.config.list_physical_devices("GPU")[0]
        )
        name = details.get("device_name", name)
    return f"{accelerator.count} x {name}"


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text}")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="The backend is chosen by the KERAS_BACKEND environment variable "
        "(tensorflow, jax or torch), e.g. KERAS_BACKEND=jax python benchmarks/benchmark_training.py",
    )
    parser.add_argument(
        "--images", type=positive_int, default=8192, help="training images (default 8192)"
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=5,
        help="epochs per run, at least 2; epoch 1 is not timed (default 5)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=128,
        help="batch size of both variants (default 128)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=2,
        help="runs of each variant, alternating (default 2)",
    )
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="alternate single epochs of the two variants instead of whole runs "
        "(steadier on a shared, busy machine)",
    )
    parser.add_argument(
        "--model",
        choices=("mnist", "vgg"),
        default="mnist",
        help="keras-io's MNIST convnet on 28x28x1, or a VGG-style CNN of four 3x3 "
        "convolutions on 32x32x3 (default mnist)",
    )
    parser.add_argument(
        "--data",
        choices=("random", "real"),
        default="random",
        help="random uint8 images, or real ones: load_mnist() for --model mnist, "
        "load_cifar10() for --model vgg (default random)",
    )
    parser.add_argument(
        "--steps-per-execution",
        type=positive_int,
        default=None,
        help="helper only: batches per compiled call (default: Keras's 1)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of data, weights and shuffling"
    )
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch (compilation) is not timed")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    images, labels = load_images(args.data, args.images, args.seed, args.model)
    n_images = len(images)
    timers, variants = measure(args, images, labels)

    schedule = "epochs interleaved" if args.interleave else "whole runs alternating"
    print()
    print(
        f"{n_images:,} images of {'x'.join(map(str, images.shape[1:]))}, batch {args.batch_size}, "
        f"epochs 2..{args.epochs} timed, {args.repeats} repeat(s), {schedule}, "
        f"model: {variants['plain'].model.name}, data: {args.data}"
    )
    header = (
        f"{'backend':<11} {'device':<20} {'variant':<30} {'precision':<15} {'XLA':<5} "
        f"{'images/s':>9} {'best':>7} {'CPU ms/img':>10} {'1st epoch s':>11}"
    )
    print(header)
    print("-" * len(header))
    throughput = {}
    for name in ("plain", "helper"):
        wall = [seconds for timer in timers[name] for seconds in timer.wall_seconds[1:]]
        cpu = [seconds for timer in timers[name] for seconds in timer.cpu_seconds[1:]]
        first_epoch = statistics.median(timer.wall_seconds[0] for timer in timers[name])
        throughput[name] = n_images / statistics.median(wall)
        variant = variants[name]
        print(
            f"{keras.backend.backend():<11} {device_description():<20} {variant.label:<30} "
            f"{variant.precision:<15} {str(bool(variant.model.jit_compile)):<5} "
            f"{throughput[name]:>9,.0f} {n_images / min(wall):>7,.0f} "
            f"{1000 * statistics.median(cpu) / n_images:>10.3f} {first_epoch:>11.1f}"
        )
    print(f"ratio helper / plain: {throughput['helper'] / throughput['plain']:.2f}")


if __name__ == "__main__":
    main()
