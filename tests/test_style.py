"""Style transfer and Deep Dream on the active backend, against NumPy and finite differences.

References: the formulas of Gatys et al. (2015), TensorFlow's style-transfer
tutorial and keras-io's example written out in NumPy (float64); central finite
differences of the loss for its gradient; the loss itself for the optimisers.
Run under both backends: KERAS_BACKEND=tensorflow and KERAS_BACKEND=jax.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from coursepkg import style
from coursepkg.gradients import value_and_input_gradient
from coursepkg.style import (
    StyleTransfer,
    adaptive_instance_normalisation,
    content_loss,
    deep_dream,
    gram_matrix,
    octave_sizes,
    style_loss,
    total_variation_loss,
)

NORMALISATIONS = ("gatys", "tutorial", "keras_io")


def numpy_gram(features: np.ndarray, normalisation: str) -> np.ndarray:
    """Gatys's G = F F^T with F of shape (channels N, locations M), for each image of the batch."""
    grams = []
    for image in features.astype(np.float64):  # (height, width, channels)
        flat = image.reshape(-1, image.shape[-1]).T  # (N, M)
        gram = flat @ flat.T
        grams.append(gram / flat.shape[1] if normalisation == "tutorial" else gram)
    return np.stack(grams)


def numpy_style_loss(style_maps, combination_maps, normalisation, image_size=None) -> float:
    target = numpy_gram(style_maps, normalisation)
    gram = numpy_gram(combination_maps, normalisation)
    channels = combination_maps.shape[-1]
    locations = combination_maps.shape[1] * combination_maps.shape[2]
    if normalisation != "tutorial":
        target = target * locations / (style_maps.shape[1] * style_maps.shape[2])
    squared = (gram - target) ** 2
    if normalisation == "tutorial":
        return squared.mean()
    if normalisation == "gatys":
        return squared.sum() / (4 * channels**2 * locations**2)
    return squared.sum() / (4 * 3**2 * (image_size[0] * image_size[1]) ** 2)


def numpy_content_loss(content_maps, combination_maps, normalisation) -> float:
    squared = (combination_maps.astype(np.float64) - content_maps) ** 2
    return {"gatys": 0.5 * squared.sum(), "tutorial": squared.mean(), "keras_io": squared.sum()}[normalisation]


def numpy(tensor) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(tensor), dtype=np.float64)


def random_maps(shape, seed):
    return np.random.default_rng(seed).uniform(0, 2, size=shape).astype(np.float32)


# --------------------------------------------------------------------------- the formulas


@pytest.mark.parametrize("normalisation", NORMALISATIONS)
def test_gram_matrix_against_numpy(normalisation):
    features = random_maps((2, 5, 4, 3), seed=0)
    gram = gram_matrix(features, normalisation)
    assert tuple(keras.ops.shape(gram)) == (2, 3, 3)
    np.testing.assert_allclose(numpy(gram), numpy_gram(features, normalisation), rtol=1e-5)


def test_gram_matrix_ignores_where_the_features_are():
    features = random_maps((1, 6, 6, 4), seed=1)
    shuffled = features.reshape(1, 36, 4)[:, np.random.default_rng(1).permutation(36)].reshape(1, 6, 6, 4)
    np.testing.assert_allclose(numpy(gram_matrix(shuffled)), numpy(gram_matrix(features)), rtol=1e-5)


@pytest.mark.parametrize("normalisation", NORMALISATIONS)
def test_content_loss_against_numpy(normalisation):
    content, combination = random_maps((1, 4, 5, 6), seed=2), random_maps((1, 4, 5, 6), seed=3)
    np.testing.assert_allclose(
        numpy(content_loss(content, combination, normalisation)),
        numpy_content_loss(content, combination, normalisation),
        rtol=1e-5,
    )


@pytest.mark.parametrize("normalisation", NORMALISATIONS)
@pytest.mark.parametrize("style_shape", [(1, 6, 4, 3), (1, 3, 5, 3)], ids=["same_size", "other_size"])
def test_style_loss_against_numpy(normalisation, style_shape):
    style_maps, combination = random_maps(style_shape, seed=4), random_maps((1, 6, 4, 3), seed=5)
    image_size = (24, 16)  # the image whose layer this is: only keras_io reads it
    loss = style_loss(style_maps, combination, normalisation, image_size=image_size)
    np.testing.assert_allclose(
        numpy(loss), numpy_style_loss(style_maps, combination, normalisation, image_size), rtol=1e-5
    )


def test_the_three_style_losses_differ_by_the_documented_constants():
    style_maps, combination = random_maps((1, 6, 4, 3), seed=6), random_maps((1, 6, 4, 3), seed=7)
    gatys = numpy(style_loss(style_maps, combination, "gatys"))
    tutorial = numpy(style_loss(style_maps, combination, "tutorial"))
    keras_io = numpy(style_loss(style_maps, combination, "keras_io", image_size=(24, 16)))
    np.testing.assert_allclose(tutorial, 4 * gatys, rtol=1e-5)
    # keras-io divides by 4 * 3^2 * (image pixels)^2 instead of 4 * N^2 * M^2
    np.testing.assert_allclose(keras_io, gatys * (3**2 * 24**2) / (3**2 * (24 * 16) ** 2), rtol=1e-5)


def test_style_loss_is_zero_for_the_style_itself():
    features = random_maps((1, 5, 5, 4), seed=8)
    for normalisation in ("gatys", "tutorial"):
        assert numpy(style_loss(features, features, normalisation)) == pytest.approx(0.0, abs=1e-6)


def test_total_variation_against_numpy():
    images = random_maps((2, 5, 6, 3), seed=9)
    x = images.astype(np.float64)
    anisotropic = np.abs(np.diff(x, axis=1)).sum() + np.abs(np.diff(x, axis=2)).sum()
    np.testing.assert_allclose(numpy(total_variation_loss(images)), anisotropic, rtol=1e-5)
    down = (x[:, 1:, :-1] - x[:, :-1, :-1]) ** 2
    right = (x[:, :-1, 1:] - x[:, :-1, :-1]) ** 2
    for beta in (2.0, 2.5):
        np.testing.assert_allclose(
            numpy(total_variation_loss(images, "power", beta=beta)), ((down + right) ** (beta / 2)).sum(), rtol=1e-5
        )


def test_total_variation_anisotropic_is_tensorflows():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("compared with tf.image.total_variation under the TensorFlow backend only")
    import tensorflow as tf

    images = random_maps((2, 7, 5, 3), seed=10)
    reference = float(tf.reduce_sum(tf.image.total_variation(tf.constant(images))))
    assert numpy(total_variation_loss(images)) == pytest.approx(reference, rel=1e-5)


# --------------------------------------------------------------------------- a tiny network

TINY_STYLE = ("block1_conv1", "block2_conv1")
TINY_CONTENT = ("block2_conv2",)


def tiny_model(activation: str = "tanh") -> keras.Model:
    """Two VGG-style blocks with VGG's layer names; the same weights on every backend (NumPy's)."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation=activation, name="block1_conv1")(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation=activation, name="block1_conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="block1_pool")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation=activation, name="block2_conv1")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation=activation, name="block2_conv2")(x)
    model = keras.Model(inputs, x, name="tiny_vgg")
    rng = np.random.default_rng(11)
    for weight in model.weights:
        weight.assign(rng.normal(scale=0.4, size=weight.shape).astype(np.float32))
    return model


def tiny_images(size: int = 16):
    rng = np.random.default_rng(12)
    content = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
    painting = rng.integers(0, 256, size=(size + 4, size + 8, 3), dtype=np.uint8)
    return content, painting


def tiny_transfer(**settings) -> StyleTransfer:
    content, painting = tiny_images()
    arguments = dict(content_layers=TINY_CONTENT, style_layers=TINY_STYLE, content_weight=1.0, style_weight=10.0)
    arguments.update(settings)
    return StyleTransfer(tiny_model(), content, painting, **arguments)


@pytest.mark.parametrize("normalisation", NORMALISATIONS)
def test_style_transfer_losses_against_numpy(normalisation):
    model = tiny_model()
    content, painting = tiny_images()
    transfer = StyleTransfer(
        model, content, painting, content_layers=TINY_CONTENT, style_layers=TINY_STYLE,
        content_weight=2.0, style_weight=3.0, total_variation_weight=0.5, normalisation=normalisation,
        style_layer_weights=[0.25, 0.75], preprocess=lambda images: 2.0 * images - 1.0,
    )  # fmt: skip
    image = np.random.default_rng(13).random((16, 16, 3)).astype(np.float32)

    def maps(picture, name):
        extractor = keras.Model(model.input, model.get_layer(name).output)
        return numpy(extractor(2.0 * picture[np.newaxis].astype(np.float32) - 1.0))

    expected_content = numpy_content_loss(maps(content / 255, "block2_conv2"), maps(image, "block2_conv2"), normalisation)
    expected_style = sum(
        weight * numpy_style_loss(maps(painting / 255, name), maps(image, name), normalisation, (16, 16))
        for weight, name in zip((0.25, 0.75), TINY_STYLE)
    )
    x = image.astype(np.float64)
    expected_variation = np.abs(np.diff(x, axis=0)).sum() + np.abs(np.diff(x, axis=1)).sum()
    losses = transfer.losses(image)
    assert losses["content"] == pytest.approx(2.0 * expected_content, rel=1e-4)
    assert losses["style"] == pytest.approx(3.0 * expected_style, rel=1e-4)
    assert losses["total_variation"] == pytest.approx(0.5 * expected_variation, rel=1e-4)
    assert losses["total"] == pytest.approx(sum(losses[key] for key in ("content", "style", "total_variation")))
    assert transfer.losses(transfer.content_image)["content"] == 0.0


def test_extractor_stops_at_the_deepest_layer_needed():
    transfer = tiny_transfer(content_layers=("block1_conv2",), style_layers=("block1_conv1",))
    assert [layer.name for layer in transfer.extractor.layers][-1] == "block1_conv2"
    assert "block2_conv1" not in [layer.name for layer in transfer.extractor.layers]


def test_value_and_gradient_against_central_differences():
    transfer = tiny_transfer(total_variation_weight=0.1, total_variation="power")
    image = 0.25 + 0.5 * np.random.default_rng(14).random((16, 16, 3)).astype(np.float32)
    loss, gradient = transfer.value_and_gradient(image)
    assert gradient.shape == (16, 16, 3) and gradient.dtype == np.float32
    assert loss == pytest.approx(transfer.loss(image), rel=1e-5)  # compiled == op by op

    def compiled_loss(picture):
        return transfer.value_and_gradient(picture)[0]

    rng = np.random.default_rng(15)
    pixels = [tuple(rng.integers(0, 16, size=2)) + (int(rng.integers(0, 3)),) for _ in range(6)]
    step = 1e-2
    for pixel in pixels:
        up, down = image.copy(), image.copy()
        up[pixel] += step
        down[pixel] -= step
        numeric = (compiled_loss(up) - compiled_loss(down)) / (2 * step)
        assert gradient[pixel] == pytest.approx(numeric, rel=2e-2, abs=2e-3 * float(np.abs(gradient).max()))
    # and along a random direction through all pixels
    direction = rng.normal(size=image.shape).astype(np.float32)
    direction /= np.linalg.norm(direction)
    numeric = (compiled_loss(image + step * direction) - compiled_loss(image - step * direction)) / (2 * step)
    assert float(np.sum(gradient * direction)) == pytest.approx(numeric, rel=2e-2)


def test_value_and_gradient_is_the_same_uncompiled():
    image = np.random.default_rng(16).random((16, 16, 3)).astype(np.float32)
    compiled = tiny_transfer().value_and_gradient(image)
    uncompiled = tiny_transfer(jit_compile=False).value_and_gradient(image)
    assert compiled[0] == pytest.approx(uncompiled[0], rel=1e-5)
    np.testing.assert_allclose(compiled[1], uncompiled[1], rtol=1e-4, atol=1e-6 * float(np.abs(compiled[1]).max()))


def test_adam_lowers_the_loss():
    transfer = tiny_transfer()
    result = transfer.run_adam(steps=15, start=transfer.initial_image(noise=0.5), learning_rate=0.02, epsilon=1e-3)
    assert result.method == "adam" and result.evaluations == 16
    assert result.losses.shape == result.seconds.shape == (16,)
    assert np.all(np.diff(result.seconds) >= 0)
    assert result.losses[-1] < 0.7 * result.losses[0]
    assert result.image.shape == (16, 16, 3) and result.image.dtype == np.float32
    assert 0.0 <= result.image.min() and result.image.max() <= 1.0
    assert result.losses[-1] == pytest.approx(transfer.loss(result.image), rel=1e-4)


def test_lbfgs_lowers_the_loss_and_keeps_the_bounds():
    transfer = tiny_transfer()
    start = transfer.initial_image(noise=0.5)
    result = transfer.run_lbfgs(steps=15, start=start)
    assert result.method == "lbfgs"
    assert len(result.losses) == len(result.seconds) <= 16
    assert result.evaluations >= len(result.losses) - 1
    assert result.losses[-1] < 0.3 * result.losses[0]
    assert 0.0 <= result.image.min() and result.image.max() <= 1.0
    assert result.losses[-1] == pytest.approx(transfer.loss(result.image), rel=1e-4)


def test_lbfgs_and_adam_stop_at_the_target_loss():
    transfer = tiny_transfer()
    start = transfer.initial_image(noise=0.5)
    target = 0.5 * transfer.loss(start)
    for result in (transfer.run_lbfgs(steps=200, start=start, target_loss=target),
                   transfer.run_adam(steps=500, start=start, learning_rate=0.05, epsilon=1e-3, target_loss=target)):
        assert result.losses[-1] <= target < result.losses[-2]
        assert result.time_to_reach(target) == result.seconds[-1]
        assert result.time_to_reach(0.0) is None


def test_initial_image_mixes_content_and_noise():
    transfer = tiny_transfer()
    np.testing.assert_array_equal(transfer.initial_image(), transfer.content_image)
    noise = np.random.default_rng(3).random(transfer.content_image.shape, dtype=np.float32)
    np.testing.assert_allclose(transfer.initial_image(noise=0.25, seed=3), 0.75 * transfer.content_image + 0.25 * noise)


# --------------------------------------------------------------------------- Deep Dream


def test_deep_dream_raises_the_layers_activation():
    model = tiny_model(activation="relu")
    image = np.random.default_rng(16).integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
    dream, objectives = deep_dream(
        model, image, ["block2_conv1"], steps=4, step_size=0.02, octaves=2, octave_scale=1.4, jitter=3
    )
    assert dream.shape == (40, 48, 3) and dream.dtype == np.float32
    assert 0.0 <= dream.min() and dream.max() <= 1.0
    assert objectives.shape == (2 * 4 + 1,)
    extractor = keras.Model(model.input, model.get_layer("block2_conv1").output)

    def objective(picture):  # mean(a^2) / 2: its gradient with respect to a is a
        return 0.5 * np.mean(numpy(extractor(picture[np.newaxis].astype(np.float32))) ** 2)

    before, after = objective(image / 255), objective(dream)
    assert objectives[-1] == pytest.approx(after, rel=1e-4)
    assert after > 1.5 * before


def test_deep_dream_without_octaves_or_jitter_is_plain_normalised_ascent():
    model = tiny_model()
    image = np.full((16, 16, 3), 0.5, dtype=np.float32) + 0.1 * np.random.default_rng(17).random((16, 16, 3)).astype(
        np.float32
    )
    extractor = keras.Model(model.input, model.get_layer("block1_conv1").output)

    dream, _ = deep_dream(model, image, "block1_conv1", steps=1, step_size=0.01, octaves=1, jitter=0)
    # one step by hand, with the uncompiled gradient of the tested gradients module
    _, gradient = value_and_input_gradient(
        lambda x: 0.5 * keras.ops.mean(keras.ops.square(extractor(x))), image[np.newaxis]
    )
    expected = np.clip(image + 0.01 * gradient[0] / (np.abs(gradient[0]).mean() + 1e-8), 0, 1)
    np.testing.assert_allclose(dream, expected, atol=1e-5)


def test_octave_sizes_are_the_image_divided_by_powers_of_the_scale():
    assert octave_sizes((300, 400), octaves=3, octave_scale=2.0) == [(75, 100), (150, 200), (300, 400)]
    sizes = octave_sizes((224, 336, 3), octaves=4, octave_scale=1.4)
    assert sizes[-1] == (224, 336) and len(sizes) == 4
    for octave, size in enumerate(reversed(sizes)):
        assert size == (round(224 / 1.4**octave), round(336 / 1.4**octave))
    assert octave_sizes((17, 19), octaves=1) == [(17, 19)]


@pytest.mark.parametrize(
    "settings, error, name",
    [
        ({"shape": 300}, TypeError, "shape"),
        ({"shape": (0, 10)}, ValueError, "shape"),
        ({"shape": (10, 10.5)}, TypeError, "shape"),
        ({"shape": (10, 10, 3, 1)}, ValueError, "shape"),
        ({"shape": (10, 10), "octaves": 0}, ValueError, "octaves"),
        ({"shape": (10, 10), "octave_scale": float("inf")}, ValueError, "octave_scale"),
    ],
)
def test_bad_arguments_of_octave_sizes(settings, error, name):
    with pytest.raises(error, match=re.escape(f"`{name}`")):
        octave_sizes(**settings)


def test_adaptive_instance_normalisation_against_numpy():
    rng = np.random.default_rng(21)
    content = rng.normal(1.0, 3.0, size=(2, 5, 6, 4)).astype(np.float32)
    style = rng.normal(-2.0, 0.5, size=(2, 7, 3, 4)).astype(np.float32)
    epsilon = 1e-5
    mean_c, std_c = content.mean(axis=(1, 2), keepdims=True), np.sqrt(content.var(axis=(1, 2), keepdims=True) + epsilon)
    mean_s, std_s = style.mean(axis=(1, 2), keepdims=True), np.sqrt(style.var(axis=(1, 2), keepdims=True) + epsilon)
    expected = std_s * (content - mean_c) / std_c + mean_s
    result = numpy(adaptive_instance_normalisation(content, style, epsilon))
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)
    # the statistics of every channel of the result are the style's
    np.testing.assert_allclose(result.mean(axis=(1, 2)), style.mean(axis=(1, 2)), atol=1e-4)
    np.testing.assert_allclose(result.std(axis=(1, 2)), style.std(axis=(1, 2)), rtol=1e-3)


def test_adaptive_instance_normalisation_refuses_mismatched_maps():
    with pytest.raises(ValueError, match="same batch size and channels"):
        adaptive_instance_normalisation(np.ones((1, 4, 4, 3)), np.ones((1, 4, 4, 5)))
    with pytest.raises(ValueError, match="`content_features`"):
        adaptive_instance_normalisation(np.ones((4, 4, 3)), np.ones((1, 4, 4, 3)))
    with pytest.raises(ValueError, match="`epsilon`"):
        adaptive_instance_normalisation(np.ones((1, 4, 4, 3)), np.ones((1, 4, 4, 3)), epsilon=-1.0)


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    "call, error, names",
    [
        (lambda: gram_matrix(np.ones((4, 4, 3)), "gatys"), ValueError, "features"),
        (lambda: gram_matrix(np.ones((1, 4, 4, 3)), "mean"), ValueError, "normalisation"),
        (lambda: content_loss(np.ones((1, 2, 2, 3)), np.ones((1, 2, 3, 3))), ValueError, "content_features"),
        (lambda: style_loss(np.ones((1, 2, 2, 3)), np.ones((1, 2, 2, 4))), ValueError, "style_features"),
        (lambda: style_loss(np.ones((1, 2, 2, 3)), np.ones((1, 2, 2, 3)), "keras_io"), ValueError, "image_size"),
        (lambda: total_variation_loss(np.ones((1, 4, 4, 3)), "l2"), ValueError, "kind"),
        (lambda: total_variation_loss(np.ones((1, 4, 4, 3)), "power", beta=1.0), ValueError, "beta"),
        (lambda: total_variation_loss(np.ones((1, 4, 4, 3)), "power", beta=float("nan")), ValueError, "beta"),
    ],
)
def test_bad_arguments_of_the_losses(call, error, names):
    with pytest.raises(error, match=names):
        call()


@pytest.mark.parametrize(
    "settings, error, name",
    [
        ({"style_layers": ("block9_conv1",)}, ValueError, "style_layers"),
        ({"content_layers": ()}, ValueError, "content_layers"),
        ({"content_weight": -1.0}, ValueError, "content_weight"),
        ({"style_weight": "10"}, TypeError, "style_weight"),
        ({"style_weight": float("inf")}, ValueError, "style_weight"),
        ({"total_variation_weight": True}, TypeError, "total_variation_weight"),
        ({"normalisation": "Gatys"}, ValueError, "normalisation"),
        ({"style_layer_weights": [1.0]}, ValueError, "style_layer_weights"),
        ({"total_variation": "l1"}, ValueError, "total_variation"),
        ({"preprocess": "vgg19"}, TypeError, "preprocess"),
        ({"jit_compile": "yes"}, ValueError, "jit_compile"),
        ({"jit_compile": 1}, TypeError, "jit_compile"),
    ],
)
def test_bad_settings_of_style_transfer(settings, error, name):
    with pytest.raises(error, match=name):
        tiny_transfer(**settings)


def test_bad_images_and_runs_of_style_transfer():
    model, (content, painting) = tiny_model(), tiny_images()
    with pytest.raises(ValueError, match="content_image"):
        StyleTransfer(model, content[..., :2], painting, content_layers=TINY_CONTENT, style_layers=TINY_STYLE)
    with pytest.raises(ValueError, match="style_image"):
        StyleTransfer(model, content, painting * 2.0, content_layers=TINY_CONTENT, style_layers=TINY_STYLE)
    with pytest.raises(ValueError, match="content_image"):
        StyleTransfer(model, content[:8], painting, content_layers=TINY_CONTENT, style_layers=TINY_STYLE)
    with pytest.raises(TypeError, match="model"):
        StyleTransfer("vgg19", content, painting)
    transfer = StyleTransfer(model, content, painting, content_layers=TINY_CONTENT, style_layers=TINY_STYLE)
    with pytest.raises(ValueError, match="steps"):
        transfer.run_adam(steps=0)
    with pytest.raises(ValueError, match="learning_rate"):
        transfer.run_adam(steps=1, learning_rate=float("nan"))
    with pytest.raises(ValueError, match="beta_1"):
        transfer.run_adam(steps=1, beta_1=1.0)
    with pytest.raises(TypeError, match="steps"):
        transfer.run_lbfgs(steps=2.0)
    with pytest.raises(ValueError, match="history_size"):
        transfer.run_lbfgs(steps=2, history_size=0)
    with pytest.raises(ValueError, match="start"):
        transfer.run_lbfgs(steps=2, start=np.zeros((8, 8, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="noise"):
        transfer.initial_image(noise=1.5)


@pytest.mark.parametrize(
    "settings, error, name",
    [
        ({"layer_names": ["nope"]}, ValueError, "layer_names"),
        ({"steps": 0}, ValueError, "steps"),
        ({"step_size": -0.1}, ValueError, "step_size"),
        ({"octaves": 20}, ValueError, "octaves"),
        ({"octaves": 4, "octave_scale": 2.0}, ValueError, "octaves"),  # 16 pixels / 8: too small
        ({"octave_scale": 0.5}, ValueError, "octave_scale"),
        ({"jitter": -1}, ValueError, "jitter"),
        ({"jitter": 1.5}, TypeError, "jitter"),
        ({"layer_weights": [1.0, 2.0]}, ValueError, "layer_weights"),
    ],
)
def test_bad_arguments_of_deep_dream(settings, error, name):
    arguments = {"layer_names": ["block1_conv1"], "steps": 1, "octaves": 1}
    arguments.update(settings)
    with pytest.raises(error, match=name):
        deep_dream(tiny_model(), np.zeros((16, 16, 3), dtype=np.uint8), **arguments)


def test_layer_names_are_checked_for_feature_maps():
    inputs = keras.Input((16, 16, 3))
    features = keras.layers.Conv2D(2, 3, name="block1_conv1")(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D(name="pool")(features))
    with pytest.raises(ValueError, match="feature maps"):
        deep_dream(model, np.zeros((16, 16, 3), dtype=np.uint8), ["pool"], octaves=1)


# --------------------------------------------------------------------------- with the course's stand-in


@pytest.mark.slow
def test_with_the_pretrained_standin_and_real_paintings(offline, paintings_dir, monkeypatch, capsys):
    """The chapter's path offline: the VGG stand-in, the real Tübingen photograph and The Starry Night."""
    import coursepkg
    from coursepkg import paintings

    monkeypatch.setenv(paintings.PAINTINGS_DIR_ENV_VAR, str(paintings_dir))
    network = coursepkg.pretrained("vgg19", include_top=False)
    content = paintings.load_painting("tuebingen", max_side=48)
    painting = paintings.load_painting("starry_night", max_side=48)
    transfer = StyleTransfer(network, content, painting, style_weight=1e2)
    assert transfer.content_layers == style.CONTENT_LAYERS and transfer.style_layers == style.STYLE_LAYERS
    result = transfer.run_lbfgs(steps=5, start=transfer.initial_image(noise=0.2))
    assert result.losses[-1] < result.losses[0]
    dream, objectives = deep_dream(network, content, ["block3_conv1"], steps=3, octaves=2)
    assert objectives[-1] > objectives[0] and dream.shape == content.shape
    assert "stand-in" in capsys.readouterr().out


# --------------------------------------------------------------------------- issue 16: bad arguments


@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda: gram_matrix("features"), TypeError, "features"),
        (lambda: gram_matrix(np.ones((1, 4, 4, 3)) + 1j), TypeError, "features"),  # no silent real part
        (lambda: gram_matrix(np.ones((1, 0, 4, 3))), ValueError, "features"),
        (lambda: gram_matrix(np.full((1, 4, 4, 3), np.nan)), ValueError, "features"),
        (lambda: content_loss([[[["a"]]]], np.ones((1, 1, 1, 1))), TypeError, "content_features"),
        (lambda: style_loss(np.ones((1, 2, 2, 3)), np.ones((1, 2, 2, 3)), image_size=(2, 10**9)), ValueError,
         "image_size"),
        (lambda: total_variation_loss(np.ones((1, 4, 4, 3), dtype=bool)), TypeError, "images"),
        (lambda: adaptive_instance_normalisation(np.ones((1, 2, 2, 3)), np.ones((1, 2, 2, 3)), float("nan")),
         ValueError, "epsilon"),
    ],
)  # fmt: skip
def test_losses_refuse_strings_complex_empty_and_non_finite_input(call, error, name):
    with pytest.raises(error, match=re.escape(f"`{name}`")):
        call()


def test_the_losses_accept_backend_tensors():
    maps = keras.ops.convert_to_tensor(random_maps((1, 3, 3, 2), seed=30))
    np.testing.assert_allclose(numpy(gram_matrix(maps)), numpy_gram(numpy(maps), "gatys"), rtol=1e-5)


@pytest.mark.parametrize(
    "settings, error, name",
    [
        ({"content_weight": float("nan")}, ValueError, "content_weight"),
        ({"style_weight": 1e13}, ValueError, "style_weight"),
        ({"style_layers": [3]}, TypeError, "style_layers"),
        ({"content_layers": 7}, TypeError, "content_layers"),
        ({"style_layer_weights": "1, 1"}, TypeError, "style_layer_weights"),
        ({"style_layer_weights": [1.0, float("inf")]}, ValueError, "style_layer_weights"),
        ({"jit_compile": "no"}, ValueError, "jit_compile"),
    ],
)
def test_style_transfer_refuses_non_finite_weights_and_strings(settings, error, name):
    with pytest.raises(error, match=re.escape(f"`{name}`")):
        tiny_transfer(**settings)


def test_style_transfer_refuses_complex_and_ragged_images():
    content, painting = tiny_images()
    with pytest.raises(TypeError, match="`content_image`"):
        StyleTransfer(tiny_model(), content + 1j, painting, content_layers=TINY_CONTENT, style_layers=TINY_STYLE)
    with pytest.raises(TypeError, match="`style_image`"):
        StyleTransfer(tiny_model(), content, [[1.0, 2.0], [3.0]], content_layers=TINY_CONTENT, style_layers=TINY_STYLE)


@pytest.mark.parametrize(
    "settings, error, name",
    [
        ({"octave_scale": float("nan")}, ValueError, "octave_scale"),
        ({"jitter": float("inf")}, TypeError, "jitter"),
        ({"step_size": float("nan")}, ValueError, "step_size"),
        ({"steps": 10**6}, ValueError, "steps"),
        ({"layer_names": [3]}, TypeError, "layer_names"),
        ({"layer_weights": [float("nan")]}, ValueError, "layer_weights"),
        ({"seed": "0"}, TypeError, "seed"),
        ({"jit_compile": "no"}, ValueError, "jit_compile"),
    ],
)
def test_deep_dream_refuses_non_finite_settings_and_strings(settings, error, name):
    arguments = {"layer_names": ["block1_conv1"], "steps": 1, "octaves": 1, **settings}
    with pytest.raises(error, match=re.escape(f"`{name}`")):
        deep_dream(tiny_model(), np.zeros((16, 16, 3), dtype=np.uint8), **arguments)
    with pytest.raises(TypeError, match="`image`"):
        deep_dream(tiny_model(), np.zeros((16, 16, 3)) + 1j, ["block1_conv1"], octaves=1)
