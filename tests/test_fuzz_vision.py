"""Fuzzing (see tests/fuzzing.py): figures, feature maps and filters, style transfer and Deep Dream."""

from __future__ import annotations

import functools

import matplotlib

matplotlib.use("Agg")

import fuzzing  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from fuzzing import Case  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from coursepkg import plotting, style, visualize  # noqa: E402

INSTANCE = "the instance under test, built valid once"

# A learning-curve history: a dict of string -> one number per epoch, at most 400 panels.
fuzzing.KINDS["vision_history"] = st.sampled_from([
    [1.0, 0.5], "loss", 3, None, {}, {"loss": []}, {"loss": ["a", "b"]}, {"loss": [1 + 1j, 2.0]},
    {"loss": [[1.0], [2.0, 3.0]]}, {3: [1.0]}, {"loss": [1.0, 0.5], "val_loss": [1.0]},
    {"loss": np.zeros((2, 2))}, {f"metric_{index}": [1.0] for index in range(500)},
])  # fmt: skip
# Optimiser paths: a dict of name -> (steps, 2) real array, at most 50 of them.
fuzzing.KINDS["vision_paths"] = st.sampled_from([
    {}, "path", [[1.0, 1.0]], None, {"a": "text"}, {"a": np.ones((3, 3))}, {"a": np.ones((4, 2)) + 1j},
    {"a": np.zeros((0, 2))}, {"a": [[1.0], [2.0, 3.0]]}, {"a": np.ones((4, 2), dtype=bool)},
    {f"path {index}": np.zeros((2, 2)) for index in range(60)},
])  # fmt: skip
# Feature maps by layer: a dict of name -> finite (batch, height, width, channels), at most 400 panels.
fuzzing.KINDS["vision_maps"] = st.sampled_from([
    {}, "maps", None, np.ones((1, 4, 4, 3)), {"a": "text"}, {"a": np.ones((4, 4))},
    {"a": np.ones((1, 4, 4, 3)) + 1j}, {"a": np.full((1, 4, 4, 3), np.nan)}, {"a": np.zeros((1, 0, 4, 3))},
    {f"layer {index}": np.ones((1, 2, 2, 1)) for index in range(401)},
    {f"layer {index}": np.ones((1, 2, 2, 2)) for index in range(300)},
])  # fmt: skip
# Channels to show: a count in [1, 400] or a list of channel indices that exist.
fuzzing.KINDS["vision_channels"] = st.one_of(
    st.text(max_size=6), st.floats(), st.booleans(), st.none(), st.sampled_from([0, -3, 401, fuzzing.ABSURD]),
    st.sampled_from([[-1], [1.5], [], ["a"], [fuzzing.ABSURD], [0, 99], 2 + 1j]),
)  # fmt: skip


@pytest.fixture(autouse=True)
def no_figure_is_left_open():
    """A refused call must not leave a figure behind (checks come before plt.subplots)."""
    plt.close("all")
    yield
    assert not plt.get_fignums(), "a refused call left a figure open"


@functools.cache
def transfer() -> style.StyleTransfer:
    return style.StyleTransfer(**style_transfer_arguments())


def style_transfer_arguments() -> dict:
    return {
        "model": fuzzing.tiny_classifier(size=16),
        "content_image": np.zeros((16, 16, 3), np.uint8),
        "style_image": np.full((16, 16, 3), 200, np.uint8),
        "content_layers": ["conv"],
        "style_layers": ["conv"],
    }


def result() -> style.StyleTransferResult:
    return style.StyleTransferResult(
        image=np.zeros((16, 16, 3), np.float32), losses=np.array([3.0, 2.0, 1.0]),
        seconds=np.array([0.0, 0.1, 0.2]), evaluations=3, method="adam",
    )  # fmt: skip


MAPS = np.random.default_rng(0).random((1, 4, 4, 3))
FIGURE_TEXT = {"title": "text"}

CASES = [
    # coursepkg.plotting
    Case(plotting.plot_history, {"history": {"loss": [1.0, 0.5], "val_loss": [1.2, 0.6]}},
         kinds={"history": "vision_history", "metrics": "names"}),
    Case(plotting.plot_images, lambda: {"images": fuzzing.images(), "labels": [0, 1, 2, 3]},
         kinds={"images": "data", "labels": "labels", "predictions": "labels", "class_names": "names",
                **FIGURE_TEXT}),
    Case(plotting.plot_confusion_matrix, {"y_true": [0, 1, 1, 2], "y_pred": [0, 1, 2, 2]},
         kinds={"y_true": "labels", "y_pred": "labels", "class_names": "names"}),
    Case(plotting.plot_optimizer_paths,
         {"function": lambda x, y: x**2 + y**2, "paths": {"SGD": [[1.0, 1.0], [0.5, 0.5]]}, "resolution": 8},
         kinds={"function": "callable", "paths": "vision_paths", "xlim": "floats", "ylim": "floats",
                "minimum": "floats", **FIGURE_TEXT}),
    Case(plotting.plot_activations, kinds={"activations": "names", "x": "data"}),
    # coursepkg.visualize
    Case(visualize.feature_maps,
         lambda: {"model": fuzzing.tiny_classifier(), "images": fuzzing.images(2), "layer_names": ["conv"]},
         kinds={"model": "callable", "images": "data", "layer_names": "names"}),
    Case(visualize.most_active_channels, {"maps": MAPS, "count": 2}, kinds={"maps": "data", "count": "int"}),
    Case(visualize.plot_feature_maps, {"maps": {"conv": MAPS}},
         kinds={"maps": "vision_maps", "channels": "vision_channels", **FIGURE_TEXT}),
    Case(visualize.plot_filters, {"kernel": np.random.default_rng(1).normal(size=(3, 3, 3, 5))},
         kinds={"kernel": "data", **FIGURE_TEXT}),
    Case(visualize.normalise_gradient, {"gradient": MAPS}, kinds={"gradient": "data"}),
    Case(visualize.deprocess_image, {"image": MAPS[0]}, kinds={"image": "data"}),
    Case(visualize.visualize_filter,
         lambda: {"model": fuzzing.tiny_classifier(), "layer_name": "conv", "filter_index": 0, "steps": 1},
         kinds={"model": "callable", "layer_name": "choice", "filter_index": "int", "image_size": "shape",
                "preprocess": "callable", "value_range": "floats", "start": "data", "seed": "seed"},
         nullable=("value_range",)),
    # coursepkg.style: the losses
    Case(style.gram_matrix, {"features": MAPS}, kinds={"features": "data"}),
    Case(style.style_loss, {"style_features": MAPS, "combination_features": MAPS},
         kinds={"style_features": "data", "combination_features": "data", "image_size": "shape"}),
    Case(style.content_loss, {"content_features": MAPS, "combination_features": MAPS},
         kinds={"content_features": "data", "combination_features": "data"}),
    Case(style.total_variation_loss, {"images": MAPS}, kinds={"images": "data"}),
    Case(style.adaptive_instance_normalisation, {"content_features": MAPS, "style_features": MAPS},
         kinds={"content_features": "data", "style_features": "data"}),
    Case(style.octave_sizes, {"shape": (64, 64)}, kinds={"shape": "shape"}),
    # coursepkg.style: the optimisations
    Case(style.deep_dream,
         lambda: {"model": fuzzing.tiny_classifier(size=16), "image": np.zeros((16, 16, 3), np.uint8),
                  "layer_names": ["conv"], "steps": 1, "octaves": 1},
         kinds={"model": "callable", "image": "data", "layer_names": "names", "layer_weights": "floats",
                "preprocess": "callable"}),
    Case(style.StyleTransfer, style_transfer_arguments,
         kinds={"model": "callable", "content_image": "data", "style_image": "data", "content_layers": "names",
                "style_layers": "names", "style_layer_weights": "floats", "preprocess": "callable"}),
    Case(style.StyleTransfer.losses, lambda: {"self": transfer(), "image": np.zeros((16, 16, 3))},
         kinds={"image": "data"}, skip={"self": INSTANCE}),
    Case(style.StyleTransfer.loss, lambda: {"self": transfer(), "image": np.zeros((16, 16, 3))},
         kinds={"image": "data"}, skip={"self": INSTANCE}),
    Case(style.StyleTransfer.value_and_gradient, lambda: {"self": transfer(), "image": np.zeros((16, 16, 3))},
         kinds={"image": "data"}, skip={"self": INSTANCE}),
    Case(style.StyleTransfer.initial_image, lambda: {"self": transfer()}, skip={"self": INSTANCE}),
    Case(style.StyleTransfer.run_adam, lambda: {"self": transfer(), "steps": 1},
         kinds={"steps": "int", "start": "data"}, skip={"self": INSTANCE}),
    Case(style.StyleTransfer.run_lbfgs, lambda: {"self": transfer(), "steps": 1},
         kinds={"steps": "int", "start": "data"}, skip={"self": INSTANCE}),
    Case(style.StyleTransferResult.time_to_reach, lambda: {"self": result(), "loss": 1.5},
         kinds={"loss": "float"}, skip={"self": INSTANCE}),
]  # fmt: skip

EXEMPT = {
    "coursepkg.style.StyleTransferResult": "a result record the optimisers fill in (its time_to_reach is fuzzed)",
}


@pytest.mark.parametrize("case", CASES, ids=fuzzing.case_ids(CASES))
def test_bad_arguments_are_refused_naming_them(case):
    fuzzing.fuzz(case)
