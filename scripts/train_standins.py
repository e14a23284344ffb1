"""Train the stand-ins of ``coursepkg.pretrained`` on the real CIFAR-10 and record the run.

Offline, ``coursepkg.pretrained("vgg16")`` and its siblings return small networks
the course trained itself instead of ImageNet weights. This script trains them:

* ``vgg16_standin`` (:func:`coursepkg.pretrained.vgg_standin`) on CIFAR-10's
  classes 0-4 only (airplane, automobile, bird, cat, deer): classes 5-9 stay
  unseen, for the transfer-learning experiments of Yosinski et al. (2014);
* ``resnet20_standin`` (:func:`coursepkg.pretrained.resnet_standin`) on all 10.

Both train from scratch on the 32x32 images divided by 255, with random
horizontal flips and random shifts of up to 4 pixels (Keras preprocessing
layers), SGD with Nesterov momentum, a one-epoch warm-up and a cosine decay,
under ``coursepkg.configure_precision()`` (bfloat16 on a CPU that has it).
The weights are stored as float16 in ``coursepkg/standins/<name>.weights.h5``,
then loaded back into float32 models and evaluated on the real CIFAR-10 test
set. The run is written to ``TRAINING_LOG.md`` beside them, and the lines to
paste into ``STANDINS`` of ``coursepkg/pretrained.py`` (sha256, accuracies)
are printed at the end.

The data must be the real CIFAR-10: Keras's download, or the JPEG copy that
``$COURSEPKG_CIFAR10_ARCHIVE`` names. The script refuses to train on the
generated shapes that ``load_cifar10`` falls back to.

Usage::

    # the real run (about 14 minutes on 2 CPU cores with bfloat16)
    COURSEPKG_CIFAR10_ARCHIVE=../shared/data/cifar10-jpeg/cifar10-jpeg.tar.gz \\
        .venv/bin/python scripts/train_standins.py
    # a smoke test: one step per network, into another folder
    .venv/bin/python scripts/train_standins.py --steps 1 --output-dir /tmp/standins
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import os
import pathlib
import platform
import shlex
import sys
import time

import numpy as np

DEFAULT_OUTPUT_DIR = pathlib.Path(__file__).resolve().parents[1] / "coursepkg" / "standins"
TRAIN_ACCURACY_IMAGES = 10_000  # training images on which the clean (unaugmented) accuracy is measured


@dataclasses.dataclass
class Result:
    """What one stand-in's run gave; one section of the log."""

    key: str  # "vgg" or "resnet", as in coursepkg.pretrained.STANDINS
    policy: str  # Keras dtype policy of the training run, e.g. "mixed_bfloat16"
    model_name: str  # e.g. "vgg16_standin"
    classes: tuple[int, ...]  # CIFAR-10 labels trained on
    parameters: int  # Keras's count (batch-normalisation statistics included)
    epochs: int  # passes over the training images
    steps: int  # optimizer steps in total
    n_train: int  # training images of its classes
    seconds: float  # wall-clock time of model.fit
    fit_accuracy: float  # training accuracy of the last epoch, on augmented batches, as fit reports it
    train_accuracy: float | None  # stored weights, unaugmented, first TRAIN_ACCURACY_IMAGES training images
    test_accuracy: float  # stored weights, every test image of its classes (quick mode: the check images)
    n_test: int  # images behind test_accuracy
    check_accuracy: float  # stored weights, first CHECK_IMAGES test images of its classes
    file: pathlib.Path  # the stored weights
    sha256: str  # of that file


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=pathlib.Path, default=DEFAULT_OUTPUT_DIR,
                        help="where the weights and TRAINING_LOG.md go (default: coursepkg/standins)")
    parser.add_argument("--vgg-epochs", type=int, default=8, help="epochs of the VGG stand-in")
    parser.add_argument("--resnet-epochs", type=int, default=4, help="epochs of the ResNet-20 stand-in")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=0.1, help="peak learning rate of SGD")
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--precision", default="auto",
                        help="policy for coursepkg.configure_precision (default: auto)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--steps", type=int, default=None,
                        help="quick mode: train each network for this many steps only (a smoke test)")
    arguments = parser.parse_args(argv)
    from coursepkg import validation

    validation.check_int("--vgg-epochs", arguments.vgg_epochs, low=1, high=1000)
    validation.check_int("--resnet-epochs", arguments.resnet_epochs, low=1, high=1000)
    validation.check_int("--batch-size", arguments.batch_size, low=1, high=4096)
    validation.check_float("--learning-rate", arguments.learning_rate, low=0, high=10, low_inclusive=False)
    validation.check_float("--weight-decay", arguments.weight_decay, low=0, high=1)
    validation.check_int("--seed", arguments.seed, low=0, high=2**31 - 1)
    if arguments.steps is not None:
        validation.check_int("--steps", arguments.steps, low=1, high=100_000)
    return arguments


def load_real_cifar10():
    """CIFAR-10 from Keras or the JPEG copy; exits on the generated-shapes fallback."""
    import coursepkg
    from coursepkg.data import CIFAR10_CLASSES

    try:
        dataset = coursepkg.load_cifar10(fallback=False)
    except (coursepkg.DownloadError, coursepkg.DataFileError) as error:
        sys.exit(
            f"Refusing to train the stand-ins: the real CIFAR-10 is unavailable ({error}). "
            "Set COURSEPKG_CIFAR10_ARCHIVE to the JPEG copy (../shared/data/cifar10-jpeg/"
            "cifar10-jpeg.tar.gz), or run with a network."
        )
    if dataset.is_fallback or tuple(dataset.class_names) != CIFAR10_CLASSES:
        sys.exit(f"Refusing to train the stand-ins on a fallback dataset: {dataset.source}")
    return dataset


def select(images, labels, classes):
    """The images of ``classes``, labels renumbered 0..len(classes)-1 in that order."""
    keep = np.isin(labels, classes)
    renumber = {label: position for position, label in enumerate(classes)}
    return images[keep], np.array([renumber[int(label)] for label in labels[keep]], dtype=np.int64)


def accuracy(model, images, labels, batch_size: int = 500) -> float:
    """Top-1 accuracy of ``model`` on uint8 ``images`` scaled as the stand-ins expect."""
    from coursepkg.pretrained import scale_to_unit

    predicted = []
    for start in range(0, len(images), batch_size):
        scores = model.predict_on_batch(scale_to_unit(images[start : start + batch_size]))
        predicted.append(np.argmax(np.asarray(scores), axis=-1))
    return float(np.mean(np.concatenate(predicted) == labels))


def save_float16(key: str, model, path: pathlib.Path) -> None:
    """Store the weights of ``model`` as float16 (half the size; accuracy checked after loading)."""
    import keras

    from coursepkg.pretrained import STANDIN_BUILDERS

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float16")
    try:
        half = STANDIN_BUILDERS[key](num_classes=model.output_shape[-1], classifier_activation=None)
        half.set_weights([weights.astype(np.float16) for weights in model.get_weights()])
        path.parent.mkdir(parents=True, exist_ok=True)
        half.save_weights(path)
    finally:
        keras.config.set_dtype_policy(previous)


def train_one(key: str, dataset, epochs: int, arguments) -> Result:
    import keras

    import coursepkg
    from coursepkg.pretrained import CHECK_IMAGES, STANDIN_BUILDERS, STANDINS

    standin = STANDINS[key]
    x_train, y_train = select(dataset.x_train, dataset.y_train, standin.classes)
    x_test, y_test = select(dataset.x_test, dataset.y_test, standin.classes)
    steps_per_epoch = arguments.steps or int(np.ceil(len(x_train) / arguments.batch_size))
    epochs = 1 if arguments.steps else epochs
    total_steps = steps_per_epoch * epochs

    coursepkg.seed_everything(arguments.seed)
    policy = coursepkg.configure_precision(arguments.precision)
    try:
        model = STANDIN_BUILDERS[key](num_classes=len(standin.classes), classifier_activation=None)
    finally:
        keras.config.set_dtype_policy("float32")  # only the model being trained computes in 16 bits
    warmup = min(steps_per_epoch, max(total_steps - 1, 0))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=arguments.learning_rate / 10,
        decay_steps=max(total_steps - warmup, 1),
        warmup_target=arguments.learning_rate,
        warmup_steps=warmup,
        alpha=0.0,
    )
    model.compile(
        optimizer=keras.optimizers.SGD(
            schedule, momentum=0.9, nesterov=True, weight_decay=arguments.weight_decay
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    augment = [
        keras.layers.RandomFlip("horizontal", seed=arguments.seed),
        # A shift of up to 4 pixels, zero-filled: the "pad 4, crop 32" of He et al. (2016), per image.
        keras.layers.RandomTranslation(4 / 32, 4 / 32, fill_mode="constant", interpolation="nearest",
                                       seed=arguments.seed),
    ]  # fmt: skip
    print(f"[train_standins] {model.name}: {model.count_params():,} parameters, {len(x_train):,} "
          f"training images of classes {standin.classes}, {epochs} epochs of {steps_per_epoch} steps, "
          f"policy {policy}")  # fmt: skip
    start = time.perf_counter()
    history = coursepkg.fit(
        model, x_train, y_train, batch_size=arguments.batch_size, epochs=epochs,
        steps_per_epoch=steps_per_epoch, augment=augment, seed=arguments.seed, verbose=2,
    )  # fmt: skip
    seconds = time.perf_counter() - start

    path = arguments.output_dir / standin.weights_file
    save_float16(key, model, path)
    stored = STANDIN_BUILDERS[key](num_classes=len(standin.classes))  # float32, softmax, as shipped
    stored.load_weights(path)
    check_accuracy = accuracy(stored, x_test[:CHECK_IMAGES], y_test[:CHECK_IMAGES])
    if arguments.steps:
        train_accuracy, test_accuracy, n_test = None, check_accuracy, min(CHECK_IMAGES, len(x_test))
    else:
        subset = slice(0, TRAIN_ACCURACY_IMAGES)
        train_accuracy = accuracy(stored, x_train[subset], y_train[subset])
        test_accuracy, n_test = accuracy(stored, x_test, y_test), len(x_test)
    return Result(
        key=key, policy=policy, model_name=model.name, classes=standin.classes, parameters=model.count_params(),
        epochs=epochs, steps=total_steps, n_train=len(x_train), seconds=seconds,
        fit_accuracy=float(history.history["accuracy"][-1]), train_accuracy=train_accuracy,
        test_accuracy=test_accuracy, n_test=n_test, check_accuracy=check_accuracy, file=path,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )  # fmt: skip


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        pass
    return platform.processor() or platform.machine()


def write_log(results, arguments, argv, dataset, started: datetime.datetime) -> pathlib.Path:
    import keras

    from coursepkg.pretrained import CHECK_IMAGES

    command = " ".join(shlex.quote(part) for part in ["python", "scripts/train_standins.py", *argv])
    lines = [
        "# Training log of the stand-ins",
        "",
        "Written by `scripts/train_standins.py`" + (" (QUICK MODE: a smoke test, not shipped weights)"
                                                    if arguments.steps else "") + ".",
        "",
        f"- Command: `{command}`",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {_cpu_name()}, {os.cpu_count()} CPU cores; Keras {keras.__version__}, backend "
        f"{keras.backend.backend()}, dtype policy {results[0].policy} while training (weights stored as float16, evaluated in float32)",
        f"- Data: {dataset.source}",
        f"- Training: batch {arguments.batch_size}, SGD (Nesterov momentum 0.9, weight decay "
        f"{arguments.weight_decay}), learning rate {arguments.learning_rate} after one epoch of warm-up, "
        "cosine decay to 0; augmentation: random horizontal flip and shift of up to 4 pixels "
        "(zero fill); images divided by 255",
        "",
        "| stand-in | classes | parameters | epochs (steps) | training time | train accuracy "
        f"(fit, augmented) | train accuracy (first {TRAIN_ACCURACY_IMAGES:,}, stored weights) | test accuracy "
        f"(stored weights) | check accuracy (first {CHECK_IMAGES} test images) | file | sha256 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for result in results:
        train = "-" if result.train_accuracy is None else f"{result.train_accuracy:.2%}"
        classes = ", ".join(str(label) for label in result.classes)
        size = result.file.stat().st_size / 1e6
        lines.append(
            f"| `{result.model_name}` | {classes} | {result.parameters:,} | {result.epochs} ({result.steps:,}) "
            f"| {result.seconds / 60:.1f} min | {result.fit_accuracy:.2%} | {train} "
            f"| {result.test_accuracy:.2%} of {result.n_test:,} | {result.check_accuracy:.2%} "
            f"| `{result.file.name}`, {size:.2f} MB | `{result.sha256}` |"
        )
    lines += [
        "",
        "Test accuracies are on the real CIFAR-10 test images of each stand-in's classes (5,000 for "
        "the VGG stand-in, 10,000 for ResNet-20), with the float16 weights as stored, loaded into "
        "float32 models. When the data are the JPEG copy (quality about 75), accuracies are close to, "
        "not equal to, those on `keras.datasets.cifar10`.",
        "",
    ]
    path = arguments.output_dir / "TRAINING_LOG.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv=None) -> list[Result]:
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments = parse_arguments(argv)
    import keras

    started = datetime.datetime.now(datetime.timezone.utc)
    dataset = load_real_cifar10()
    previous_policy = keras.config.dtype_policy()
    results = []
    try:
        for key, epochs in (("vgg", arguments.vgg_epochs), ("resnet", arguments.resnet_epochs)):
            results.append(train_one(key, dataset, epochs, arguments))
            keras.backend.clear_session()
    finally:
        keras.config.set_dtype_policy(previous_policy)
    log = write_log(results, arguments, argv, dataset, started)
    print(f"[train_standins] log written to {log}")
    print("[train_standins] for STANDINS in coursepkg/pretrained.py:")
    for result in results:
        print(f'    "{result.key}": weights_sha256="{result.sha256}", '
              f"test_accuracy={result.test_accuracy:.4f}, check_accuracy={result.check_accuracy:.4f}  "
              f"# {result.model_name}, {result.seconds / 60:.1f} min")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
