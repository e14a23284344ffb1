"""Style transfer speed: the course's ``StyleTransfer`` against TensorFlow's tutorial, on one machine.

Two measurements, both printed as tables (no asserts):

1. **Seconds per step** at each ``--sizes`` (longer side of the images, in
   pixels), for each network of ``--networks``:

   * ``tutorial``: the ``train_step`` of TensorFlow's tutorial *Neural style
     transfer* (tensorflow.org/tutorials/generative/style_transfer), re-implemented
     line for line below: VGG19 layers ``block1_conv1`` ... ``block5_conv1``
     (style) and ``block5_conv2`` (content), Gram matrices by
     ``einsum('bijc,bijd->bcd')`` divided by the number of locations, style
     weight 1e-2 and content weight 1e4 (each divided by its number of
     layers), ``tf.keras.optimizers.Adam(learning_rate=0.02, beta_1=0.99,
     epsilon=0.1)``, clipping to [0, 1], all in one ``@tf.function``.
     TensorFlow only.
   * ``course Adam``: ``StyleTransfer.run_adam`` with the same objective and
     settings (``normalisation="tutorial"``): the compiled value and gradient of
     ``coursepkg.gradients``, then ``keras.optimizers.Adam`` on a
     ``keras.Variable``; ``graph`` = ``tf.function`` without XLA, ``XLA`` =
     ``jit_compile=True`` (JAX always compiles with XLA).
   * ``course L-BFGS``: ``StyleTransfer.run_lbfgs``, seconds per evaluation of
     the loss and gradient, SciPy's own work included (an iteration takes one
     or more evaluations; their mean number is shown).

2. **Time to the tutorial's loss**: from the content image, the tutorial runs
   ``--tutorial-steps`` steps (1,000 in the tutorial: 10 epochs of 100); the
   course's L-BFGS then runs until its loss is at most the tutorial's final
   loss. Times exclude the one-time compilation of either (the tutorial's
   first step is counted at its median step time); compilation is shown apart.
   The ratio is tutorial time / course time: above 1, the course is faster.

Networks: ``pretrained`` is ``coursepkg.pretrained("vgg19", include_top=False)``,
ImageNet VGG19 online and, offline, the course's CIFAR-10 stand-in (VGG16's
13 convolutions, 16 to 128 filters: much narrower than VGG19, so much faster;
the printed line says which one ran). ``vgg19-random`` is
``keras.applications.VGG19(weights=None, include_top=False)``, the real
architecture and cost, with Glorot-uniform weights drawn by NumPy (the same
weights under every backend, so the JAX run minimises the same function).
The time-to-loss comparison uses ``--loss-network`` (default ``vgg19-random``):
the tutorial's weights are tuned for VGG19's activations, and on the stand-in
the content image is already close to their optimum (raise ``--style-weight``
for it, e.g. 100).

Each backend runs in its own process (Keras picks the backend at import), one
after the other, TensorFlow first: its tutorial run sets the target loss for
the JAX run. Load averages are printed before and after each.

Example:
    python benchmarks/benchmark_style_transfer.py                   # 128 and 256 px, N=1000
    python benchmarks/benchmark_style_transfer.py --sizes 128,256,512 --tutorial-steps 200
    python benchmarks/benchmark_style_transfer.py --backends tensorflow --sizes 128
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

NETWORKS = ("pretrained", "vgg19-random")
BACKENDS = ("tensorflow", "jax")
STYLE_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
CONTENT_LAYERS = ["block5_conv2"]
TUTORIAL_ADAM = {"learning_rate": 0.02, "beta_1": 0.99, "epsilon": 1e-1}  # the tutorial's optimiser


# --------------------------------------------------------------------------- the machine


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unavailable"


# --------------------------------------------------------------------------- the networks and images


def build_network(name: str, seed: int):
    """``(model, preprocess of [0, 1] images, description)``."""
    import keras
    import numpy as np

    import coursepkg

    if name == "pretrained":
        network = coursepkg.pretrained("vgg19", include_top=False)
        kind = "CIFAR-10 STAND-IN (offline), not VGG19" if network.is_standin else "ImageNet VGG19"
        description = f"{kind}: {network.model.count_params():,} parameters"

        def preprocess(images):
            return network.preprocess_input(images * 255.0)

        return network.model, preprocess, description
    model = keras.applications.VGG19(weights=None, include_top=False)
    rng = np.random.default_rng(seed)
    for weight in model.weights:  # Glorot uniform kernels, zero biases: the same under every backend
        if len(weight.shape) == 4:
            height, width, inputs, outputs = weight.shape
            limit = np.sqrt(6.0 / (height * width * (inputs + outputs)))
            weight.assign(rng.uniform(-limit, limit, size=weight.shape).astype("float32"))
        else:
            weight.assign(np.zeros(weight.shape, dtype="float32"))
    description = f"keras.applications.VGG19(weights=None): {model.count_params():,} parameters, NumPy Glorot weights"

    def preprocess(images):
        return keras.applications.vgg19.preprocess_input(images * 255.0)

    return model, preprocess, description


@functools.cache
def images(size: int):
    """The Tübingen photograph and The Starry Night, longer side ``size``, float32 in [0, 1] (loaded once)."""
    from coursepkg.paintings import load_painting

    content = load_painting("tuebingen", max_side=size).astype("float32") / 255.0
    style = load_painting("starry_night", max_side=size).astype("float32") / 255.0
    return content, style


# --------------------------------------------------------------------------- the tutorial, line for line


class Tutorial:
    """TensorFlow's tutorial's extractor, loss and ``train_step``, on a given network and images."""

    def __init__(self, vgg, preprocess, content_image, style_image, style_weight, content_weight):
        import tensorflow as tf

        def vgg_layers(layer_names):
            outputs = [vgg.get_layer(name).output for name in layer_names]
            return tf.keras.Model([vgg.input], outputs)

        def gram_matrix(input_tensor):
            result = tf.linalg.einsum("bijc,bijd->bcd", input_tensor, input_tensor)
            input_shape = tf.shape(input_tensor)
            num_locations = tf.cast(input_shape[1] * input_shape[2], tf.float32)
            return result / (num_locations)

        class StyleContentModel(tf.keras.models.Model):
            def __init__(self, style_layers, content_layers):
                super().__init__()
                self.vgg = vgg_layers(style_layers + content_layers)
                self.style_layers = style_layers
                self.content_layers = content_layers
                self.num_style_layers = len(style_layers)
                self.vgg.trainable = False

            def call(self, inputs):
                "Expects float input in [0,1]"
                preprocessed_input = preprocess(inputs)  # tutorial: vgg19.preprocess_input(inputs * 255.0)
                outputs = self.vgg(preprocessed_input)
                style_outputs, content_outputs = (outputs[: self.num_style_layers], outputs[self.num_style_layers :])
                style_outputs = [gram_matrix(style_output) for style_output in style_outputs]
                content_dict = {name: value for name, value in zip(self.content_layers, content_outputs)}
                style_dict = {name: value for name, value in zip(self.style_layers, style_outputs)}
                return {"content": content_dict, "style": style_dict}

        extractor = StyleContentModel(STYLE_LAYERS, CONTENT_LAYERS)
        style_targets = extractor(tf.constant(style_image[None]))["style"]
        content_targets = extractor(tf.constant(content_image[None]))["content"]
        num_style_layers, num_content_layers = len(STYLE_LAYERS), len(CONTENT_LAYERS)

        def clip_0_1(image):
            return tf.clip_by_value(image, clip_value_min=0.0, clip_value_max=1.0)

        opt = tf.keras.optimizers.Adam(**TUTORIAL_ADAM)

        def style_content_loss(outputs):
            style_outputs = outputs["style"]
            content_outputs = outputs["content"]
            style_loss = tf.add_n(
                [tf.reduce_mean((style_outputs[name] - style_targets[name]) ** 2) for name in style_outputs.keys()]
            )
            style_loss *= style_weight / num_style_layers
            content_loss = tf.add_n(
                [tf.reduce_mean((content_outputs[name] - content_targets[name]) ** 2) for name in content_outputs.keys()]
            )
            content_loss *= content_weight / num_content_layers
            loss = style_loss + content_loss
            return loss

        @tf.function()
        def train_step(image):
            with tf.GradientTape() as tape:
                outputs = extractor(image)
                loss = style_content_loss(outputs)
            grad = tape.gradient(loss, image)
            opt.apply_gradients([(grad, image)])
            image.assign(clip_0_1(image))

        self.image = tf.Variable(content_image[None])
        self.train_step = train_step
        self.loss = lambda image: float(style_content_loss(extractor(tf.constant(image))))


# --------------------------------------------------------------------------- measurements


def time_tutorial_steps(tutorial, steps: int) -> list[float]:
    durations = []
    for _ in range(steps):
        began = time.perf_counter()
        tutorial.train_step(tutorial.image)
        tutorial.image.value().numpy()  # wait for the step to finish
        durations.append(time.perf_counter() - began)
    return durations


def course_transfer(model, preprocess, content, style, args, jit_compile):
    from coursepkg.style import StyleTransfer

    return StyleTransfer(
        model, content, style, content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS,
        content_weight=args.content_weight, style_weight=args.style_weight, normalisation="tutorial",
        preprocess=preprocess, jit_compile=jit_compile,
    )  # fmt: skip


def first_call_seconds(transfer) -> float:
    began = time.perf_counter()
    transfer.value_and_gradient(transfer.content_image)  # compiles
    return time.perf_counter() - began


def per_step(backend: str, model, preprocess, content, style, args) -> list[dict]:
    """Seconds per step of every variant on this backend, interleaved over ``--rounds``."""
    import numpy as np

    variants = {}
    compile_seconds = {}
    if backend == "tensorflow":
        tutorial = Tutorial(model, preprocess, content, style, args.style_weight, args.content_weight)
        began = time.perf_counter()
        time_tutorial_steps(tutorial, 1)
        compile_seconds["tutorial train_step"] = time.perf_counter() - began
        variants["tutorial train_step"] = lambda: time_tutorial_steps(tutorial, args.timed_steps)
        modes = {"graph": False, "XLA": True}
    else:
        modes = {"XLA": True}
    for mode, jit_compile in modes.items():
        transfer = course_transfer(model, preprocess, content, style, args, jit_compile)
        compile_seconds[f"course Adam ({mode})"] = first_call_seconds(transfer)
        variants[f"course Adam ({mode})"] = (
            lambda transfer=transfer: list(np.diff(transfer.run_adam(args.timed_steps).seconds))
        )
        variants[f"course L-BFGS ({mode})"] = lambda transfer=transfer: lbfgs_evaluations(transfer, args.timed_steps)
    timings = {name: [] for name in variants}
    evaluations = {name: [] for name in variants}
    for _ in range(args.rounds):  # every variant once per round: a busy machine slows all alike
        for name, run in variants.items():
            result = run()
            if isinstance(result, tuple):  # L-BFGS: (seconds per evaluation, evaluations per iteration)
                timings[name] += result[0]
                if result[1] is not None:
                    evaluations[name].append(result[1])
            else:
                timings[name] += result
    rows = []
    for name, seconds in timings.items():
        rows.append({
            "variant": name,
            "median": statistics.median(seconds),
            "best": min(seconds),
            "count": len(seconds),
            "compile": compile_seconds.get(name, compile_seconds.get(name.replace("L-BFGS", "Adam"))),
            "evaluations_per_iteration": statistics.mean(evaluations[name]) if evaluations[name] else None,
        })  # fmt: skip
    return rows


def lbfgs_evaluations(transfer, steps: int):
    """``([seconds per evaluation], evaluations per iteration or None)`` of ``steps`` L-BFGS iterations."""
    began = time.perf_counter()
    result = transfer.run_lbfgs(steps)
    seconds = time.perf_counter() - began  # SciPy's own work included
    iterations = len(result.losses) - 1  # 0 when the first line search failed
    return [seconds / result.evaluations], (result.evaluations / iterations if iterations else None)


def time_to_loss(backend: str, model, preprocess, content, style, args, targets: dict) -> dict:
    """The tutorial's N steps (TensorFlow), then the course's L-BFGS until it reaches their loss."""
    import numpy as np

    report = {"size": f"{content.shape[0]}x{content.shape[1]}"}
    if backend == "tensorflow":
        tutorial = Tutorial(model, preprocess, content, style, args.style_weight, args.content_weight)
        course = course_transfer(model, preprocess, content, style, args, jit_compile=False)
        report["start_loss_tutorial"] = tutorial.loss(content[None])
        report["start_loss_course"] = course.loss(content)
        began = time.perf_counter()
        durations = time_tutorial_steps(tutorial, 1)
        report["tutorial_compile"] = durations[0]
        checkpoints = {}
        for step in range(2, args.tutorial_steps + 1):
            durations += time_tutorial_steps(tutorial, 1)
            if step == min(10, args.tutorial_steps):
                checkpoints[step] = tutorial.loss(tutorial.image.numpy())  # not timed
        median = statistics.median(durations[1:]) if len(durations) > 1 else durations[0]
        report["tutorial_seconds"] = median + sum(durations[1:])  # first step at its median: no tracing
        report["tutorial_wall_with_compile"] = time.perf_counter() - began
        report["target_loss"] = tutorial.loss(tutorial.image.numpy())
        # the same 10 Adam steps through the course's code: the same objective and optimiser?
        if args.tutorial_steps >= 10:
            check = course.run_adam(10, **TUTORIAL_ADAM)
            report["after_10_steps"] = {"tutorial": checkpoints[10], "course": float(check.losses[-1])}
        targets[args.loss_network] = report["target_loss"]
        targets["tutorial_seconds"] = report["tutorial_seconds"]
        modes = {"graph": False, "XLA": True}
    else:
        report["target_loss"] = targets.get(args.loss_network)
        report["tutorial_seconds"] = targets.get("tutorial_seconds")
        if report["target_loss"] is None:
            return report
        modes = {"XLA": True}
    report["course"] = []
    for mode, jit_compile in modes.items():
        course = course_transfer(model, preprocess, content, style, args, jit_compile)
        compile_seconds = first_call_seconds(course)
        result = course.run_lbfgs(args.lbfgs_steps, target_loss=report["target_loss"])
        reached = result.time_to_reach(report["target_loss"])
        report["course"].append({
            "method": f"L-BFGS ({mode})",
            "compile": compile_seconds,
            "start_loss": float(result.losses[0]),
            "seconds": reached,
            "final_loss": float(result.losses[-1]),
            "iterations": len(result.losses) - 1,
            "evaluations": result.evaluations,
            "ratio": report["tutorial_seconds"] / reached if reached else None,
            "curve": [float(value) for value in np.asarray(result.losses)[:: max(1, len(result.losses) // 8)]],
        })  # fmt: skip
    return report


def worker(args) -> None:
    import keras
    import numpy as np

    backend = keras.backend.backend()
    with open(args.targets, encoding="utf-8") as handle:
        targets = json.load(handle)
    output = {"backend": backend, "load_before": load_average(), "per_step": [], "networks": {}}
    versions = {"keras": keras.__version__, "numpy": np.__version__}
    if backend == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    else:
        import jax

        versions["jax"] = jax.__version__
    output["versions"] = versions
    for network in args.networks:
        keras.utils.set_random_seed(args.seed)
        model, preprocess, description = build_network(network, args.seed)
        output["networks"][network] = description
        for size in args.sizes:
            content, style = images(size)
            print(f"[{backend}] {network} at {size} px: timing steps ...", flush=True)
            for row in per_step(backend, model, preprocess, content, style, args):
                output["per_step"].append({"network": network, "size": size, **row})
        if network == args.loss_network and args.tutorial_steps:
            content, style = images(args.loss_size)
            print(f"[{backend}] {network} at {args.loss_size} px: time to the tutorial's loss ...", flush=True)
            output["time_to_loss"] = time_to_loss(backend, model, preprocess, content, style, args, targets)
    output["load_after"] = load_average()
    with open(args.targets, "w", encoding="utf-8") as handle:
        json.dump(targets, handle)
    with open(args.results, "w", encoding="utf-8") as handle:
        json.dump(output, handle)


# --------------------------------------------------------------------------- the report


def print_report(args, results: list[dict]) -> None:
    print()
    print(f"Machine: {platform.node()}, {cpu_model()}, {os.cpu_count()} CPU cores, no GPU used")
    for result in results:
        versions = ", ".join(f"{name} {version}" for name, version in result["versions"].items())
        print(f"  {result['backend']}: {versions}; load average (1, 5, 15 min) before "
              f"{result['load_before']}, after {result['load_after']}")  # fmt: skip
    for network, description in results[0]["networks"].items():
        print(f"  {network}: {description}")
    print(f"\nSeconds per step (median of {args.rounds} rounds x {args.timed_steps} steps; best in brackets; "
          "L-BFGS: per evaluation of loss and gradient; the first call, which compiles, apart)")  # fmt: skip
    header = f"{'network':<13} {'size':>4}  {'backend':<10} {'variant':<24} {'s/step':>8} {'(best)':>8} {'compile s':>9}"
    print(header)
    print("-" * len(header))
    for result in results:
        for row in result["per_step"]:
            evaluations = (
                f"  ({row['evaluations_per_iteration']:.2f} evaluations/iteration)"
                if row["evaluations_per_iteration"]
                else ""
            )
            compile_text = f"{row['compile']:.1f}" if row["compile"] is not None else ""
            print(f"{row['network']:<13} {row['size']:>4}  {result['backend']:<10} {row['variant']:<24} "
                  f"{row['median']:>8.3f} {row['best']:>8.3f} {compile_text:>9}{evaluations}")  # fmt: skip
    reports = [(result["backend"], result.get("time_to_loss")) for result in results if result.get("time_to_loss")]
    if not reports:
        return
    print(f"\nTime to the loss of the tutorial's {args.tutorial_steps} Adam steps ({args.loss_network}, "
          f"longer side {args.loss_size} px, start: the content image, style weight {args.style_weight:g}, "
          f"content weight {args.content_weight:g})")  # fmt: skip
    for backend, report in reports:
        if backend == "tensorflow":
            print(f"  same objective: loss at the start {report['start_loss_tutorial']:.6g} (tutorial) "
                  f"vs {report['start_loss_course']:.6g} (course)")  # fmt: skip
            if "after_10_steps" in report:
                after = report["after_10_steps"]
                print(f"  same optimiser: after 10 Adam steps {after['tutorial']:.6g} (tutorial) "
                      f"vs {after['course']:.6g} (course run_adam)")  # fmt: skip
            print(f"  tutorial (TensorFlow, tf.function): {args.tutorial_steps} steps in "
                  f"{report['tutorial_seconds']:.1f} s without tracing ({report['tutorial_wall_with_compile']:.1f} s "
                  f"with it), final loss {report['target_loss']:.6g}")  # fmt: skip
    header = f"{'backend':<10} {'method':<14} {'course s':>9} {'tutorial s':>10} {'ratio':>7} {'iterations':>10} {'evaluations':>11} {'compile s':>9}"
    print(header)
    print("-" * len(header))
    for backend, report in reports:
        for row in report.get("course", []):
            seconds = f"{row['seconds']:.1f}" if row["seconds"] is not None else "not reached"
            ratio = f"{row['ratio']:.1f}x" if row["ratio"] else "-"
            print(f"{backend:<10} {row['method']:<14} {seconds:>9} {report['tutorial_seconds']:>10.1f} {ratio:>7} "
                  f"{row['iterations']:>10} {row['evaluations']:>11} {row['compile']:>9.1f}")  # fmt: skip
            print(f"{'':<10} loss along the way: " + ", ".join(f"{value:.4g}" for value in row["curve"]))


# --------------------------------------------------------------------------- command line


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="128,256",
                        help="longer sides in pixels, comma-separated (128,256,512 for the full set; 512 is slow on a CPU)")
    parser.add_argument("--networks", default=",".join(NETWORKS), help=f"comma-separated, of {NETWORKS}")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated, TensorFlow first")
    parser.add_argument("--timed-steps", type=int, default=3, help="steps timed per variant and round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of all variants, interleaved")
    parser.add_argument("--tutorial-steps", type=int, default=1000,
                        help="N: the tutorial's steps for the time-to-loss comparison (1000 in the tutorial; 0: skip)")
    parser.add_argument("--lbfgs-steps", type=int, default=None, help="most L-BFGS iterations (default: N)")
    parser.add_argument("--loss-network", default="vgg19-random", choices=NETWORKS)
    parser.add_argument("--loss-size", type=int, default=128, help="longer side for the time-to-loss comparison")
    parser.add_argument("--style-weight", type=float, default=1e-2, help="the tutorial's: 1e-2")
    parser.add_argument("--content-weight", type=float, default=1e4, help="the tutorial's: 1e4")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    parser.add_argument("--targets", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sizes = [int(size) for size in str(args.sizes).split(",") if size]
    args.networks = [name for name in str(args.networks).split(",") if name]
    args.backends = [name for name in str(args.backends).split(",") if name]
    for name in args.networks:
        if name not in NETWORKS:
            parser.error(f"--networks: unknown network {name!r}; choose from {NETWORKS}")
    for name in args.backends:
        if name not in BACKENDS:
            parser.error(f"--backends: unknown backend {name!r}; choose from {BACKENDS}")
    if any(not 32 <= size <= 2048 for size in args.sizes + [args.loss_size]):
        parser.error("--sizes and --loss-size: 32 to 2048 pixels")
    if args.timed_steps < 1 or args.rounds < 1 or args.tutorial_steps < 0:
        parser.error("--timed-steps and --rounds: at least 1; --tutorial-steps: at least 0")
    if args.lbfgs_steps is None:
        args.lbfgs_steps = max(args.tutorial_steps, 1)
    return args


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return
    print(f"Load average before: {load_average()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        targets = os.path.join(folder, "targets.json")
        with open(targets, "w", encoding="utf-8") as handle:
            json.dump({}, handle)
        for backend in args.backends:
            path = os.path.join(folder, f"{backend}.json")
            command = [sys.executable, os.path.abspath(__file__), *argv, "--worker", "--results", path, "--targets", targets]
            environment = dict(os.environ, KERAS_BACKEND=backend)
            began = time.perf_counter()
            finished = subprocess.run(command, env=environment)
            print(f"[{backend}] done in {time.perf_counter() - began:.0f} s (exit status {finished.returncode})",
                  flush=True)  # fmt: skip
            if finished.returncode == 0:
                with open(path, encoding="utf-8") as handle:
                    results.append(json.load(handle))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"argv": argv, "results": results}, handle, indent=1)
    if results:
        print_report(args, results)
    print(f"\nLoad average after: {load_average()}")


if __name__ == "__main__":
    main()
