"""Training throughput: ``coursepkg.fit`` against plain ``model.fit`` on NumPy arrays.

The same small CNN (keras-io's MNIST convnet) with the same batch size is
trained twice per repeat:

* **plain**: the common tutorial way, ``model.fit(x, y)`` on float32 images
  already divided by 255, float32 weights;
* **helper**: ``coursepkg.configure_precision()`` and
  ``coursepkg.distribution_strategy()`` before building the model, then
  ``coursepkg.fit`` on the uint8 images (tf.data pipeline, prefetching).

Throughput is images per second over epochs 2..N (the first epoch pays for
tracing and XLA compilation), the median over all timed epochs of all
repeats; the two variants alternate so that a busy machine slows both alike.

The Keras backend is chosen by the ``KERAS_BACKEND`` environment variable
(``tensorflow`` when unset), not by a flag. See ``benchmarks/README.md``.

Example:
    python benchmarks/benchmark_training.py --images 8192 --epochs 5
    KERAS_BACKEND=jax python benchmarks/benchmark_training.py --images 60000
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault(
    "TF_CPP_MIN_LOG_LEVEL", "2"
)  # keep TensorFlow's start-up chatter out of the table

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


def build_model(image_shape: tuple[int, ...], num_classes: int, seed: int) -> keras.Model:
    """keras-io's MNIST convnet; the output layer stays float32 under mixed precision."""
    keras.utils.set_random_seed(seed)  # the same initial weights for both variants
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


def load_images(source: str, n_images: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (n, 28, 28, 1) and int64 labels: random, or MNIST (offline: its fallback)."""
    if source == "mnist":
        from coursepkg.data import load_mnist

        dataset = load_mnist()
        images, labels = dataset.x_train[:n_images], dataset.y_train[:n_images]
        if len(images) < n_images:
            print(f"[benchmark] only {len(images)} images available; using them all")
        return images[..., None], labels
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n_images, 28, 28, 1), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_images).astype(np.int64)
    return images, labels


def run_plain(images_uint8, labels, batch_size: int, epochs: int, seed: int) -> dict:
    keras.config.set_dtype_policy("float32")
    images = images_uint8.astype("float32") / 255.0  # (n, 28, 28, 1): the tutorial way
    model = compile_model(build_model(images.shape[1:], 10, seed))
    timer = EpochTimer()
    model.fit(images, labels, batch_size=batch_size, epochs=epochs, callbacks=[timer], verbose=0)
    return {"timer": timer, "precision": "float32", "jit_compile": model.jit_compile}


def run_helper(
    images_uint8, labels, batch_size: int, epochs: int, seed: int, steps_per_execution
) -> dict:
    precision = training.configure_precision()
    strategy = training.distribution_strategy()
    with strategy.scope():
        model = compile_model(build_model(images_uint8.shape[1:], 10, seed))
    timer = EpochTimer()
    training.fit(
        model, images_uint8, labels, batch_size=batch_size, epochs=epochs, seed=seed,
        steps_per_execution=steps_per_execution, callbacks=[timer], verbose=0,
    )  # fmt: skip
    keras.config.set_dtype_policy("float32")
    return {"timer": timer, "precision": precision, "jit_compile": model.jit_compile}


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
        "--data",
        choices=("random", "mnist"),
        default="random",
        help="random uint8 images, or coursepkg.data.load_mnist() (default random)",
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
    return args  # fmt: skip


def main(argv=None) -> None:
    args = parse_args(argv)
    images, labels = load_images(args.data, args.images, args.seed)
    n_images = len(images)
    steps_per_execution = args.steps_per_execution or training.AUTO
    runs = {"plain": [], "helper": []}
    for repeat in range(args.repeats):
        order = ("plain", "helper") if repeat % 2 == 0 else ("helper", "plain")
        for variant in order:
            if variant == "plain":
                result = run_plain(images, labels, args.batch_size, args.epochs, args.seed)
            else:
                result = run_helper(
                    images, labels, args.batch_size, args.epochs, args.seed, steps_per_execution
                )
            runs[variant].append(result)
            epoch_times = ", ".join(f"{seconds:.2f}" for seconds in result["timer"].wall_seconds)
            print(f"[benchmark] repeat {repeat + 1}, {variant}: epoch seconds {epoch_times}")

    labels_of = {
        "plain": "model.fit, float32 NumPy",
        "helper": "coursepkg.fit, uint8 tf.data",
    }
    throughput = {}
    print()
    print(
        f"{n_images:,} images of {'x'.join(map(str, images.shape[1:]))}, batch {args.batch_size}, "
        f"epochs 2..{args.epochs} timed, {args.repeats} repeat(s), data: {args.data}"
    )
    header = f"{'backend':<11} {'device':<20} {'variant':<30} {'precision':<15} {'XLA':<5} {'images/s':>9} {'CPU ms/img':>10}"
    print(header)
    print("-" * len(header))
    for variant in ("plain", "helper"):
        wall = [s for run in runs[variant] for s in run["timer"].wall_seconds[1:]]
        cpu = [s for run in runs[variant] for s in run["timer"].cpu_seconds[1:]]
        throughput[variant] = n_images / statistics.median(wall)
        first = runs[variant][0]
        print(
            f"{keras.backend.backend():<11} {device_description():<20} {labels_of[variant]:<30} "
            f"{first['precision']:<15} {str(bool(first['jit_compile'])):<5} "
            f"{throughput[variant]:>9,.0f} {1000 * statistics.median(cpu) / n_images:>10.3f}"
        )
    print(f"ratio helper / plain: {throughput['helper'] / throughput['plain']:.2f}")


if __name__ == "__main__":
    main()
