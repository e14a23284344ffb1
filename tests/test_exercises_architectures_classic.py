"""The exercises of book/05_lenet5.ipynb, book/06_alexnet.ipynb and book/07_vgg.ipynb.

References are checked against Keras layers and the models of coursepkg.models;
right answers pass, wrong answers fail with specific feedback that does not give
the answer away.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import architectures_classic as classic

CHAPTERS = {
    "lenet": "book/05_lenet5.ipynb",
    "alexnet": "book/06_alexnet.ipynb",
    "vgg": "book/07_vgg.ipynb",
}
IDS = {
    "lenet": ("lenet.full_c3_connections", "lenet.bigger_input", "lenet.rbf_scores"),
    "alexnet": ("alexnet.conv1_224", "alexnet.fc6_at_320", "alexnet.grouped_conv4"),
    "vgg": ("vgg.receptive_field", "vgg.cifar_dense_share", "vgg.block1_multiplications"),
}
ALL_IDS = tuple(exercise_id for ids in IDS.values() for exercise_id in ids)


def feedback_text(result) -> str:
    return " ".join(result.problems) + " " + result.feedback()


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_each_chapter_registers_its_exercises(chapter):
    registered = {item.id: item for item in exercises(chapter)}
    assert set(registered) == set(IDS[chapter])
    assert all(item.chapter == CHAPTERS[chapter] for item in registered.values())


# --------------------------------------------------------------------------- Keras references
# Each helper builds the smallest Keras model that answers its question, and is cached: the
# right-answer tests reuse its number.


@functools.cache
def keras_full_c3_connections() -> int:
    """Connections of the course LeNet-5's (fully connected) C3: output values x (weights + bias)."""
    from coursepkg.models import lenet5

    layer = lenet5().get_layer("c3_conv")
    _, height, width, maps = layer.output.shape
    return height * width * maps * (layer.count_params() // maps)


@functools.cache
def keras_lenet_c5_shape(side: int) -> tuple[int, ...]:
    from coursepkg.models import lenet5

    return tuple(lenet5(input_shape=(side, side, 1)).get_layer("c5_conv").output.shape[1:])


def keras_conv1_side(side: int) -> int:
    import keras

    layer = keras.layers.Conv2D(96, 11, strides=4, padding="valid")
    return layer.compute_output_shape((None, side, side, 3))[1]


@functools.cache
def keras_pool5_shape(side: int) -> tuple[int, ...]:
    """pool5's output shape, from the course's AlexNet without its (large) dense layers."""
    from coursepkg.models import alexnet

    return tuple(alexnet(input_shape=(side, side, 3), include_top=False).output.shape[1:])


def keras_dense_params(inputs: int, units: int) -> int:
    import keras

    layer = keras.layers.Dense(units)
    layer.build((None, inputs))
    return layer.count_params()


def keras_grouped_conv4_params() -> int:
    import keras

    layer = keras.layers.Conv2D(384, 3, padding="same", groups=2)
    layer.build((None, 13, 13, 384))  # conv3's output in the lecture's table
    return layer.count_params()


def keras_layers_receptive_field(model, last_layer: str) -> int:
    """Receptive field from the kernel sizes and strides Keras reports, up to `last_layer`."""
    field, jump = 1, 1
    for layer in model.layers[1:]:
        size = getattr(layer, "kernel_size", None) or layer.pool_size
        field += (size[0] - 1) * jump
        jump *= layer.strides[0]
        if layer.name == last_layer:
            return field
    raise AssertionError(f"{last_layer} is not a layer of {model.name}")


@functools.cache
def keras_vgg19_receptive_field() -> int:
    """From VGG19's layers as the builder lays them out (one filter each: filters do not matter)."""
    from coursepkg.models import vgg
    from coursepkg.models.vgg import VGG19_DEPTHS

    layout = vgg(
        block_depths=VGG19_DEPTHS,
        block_filters=(1,) * len(VGG19_DEPTHS),
        include_top=False,
        input_shape=(None, None, 3),
    )
    return keras_layers_receptive_field(layout, "block5_conv4")


@functools.cache
def keras_cifar_dense_share() -> float:
    import keras

    from coursepkg.models import vgg

    model = vgg(
        input_shape=classic.CIFAR_INPUT,
        num_classes=classic.CIFAR_CLASSES,
        dense_units=classic.CIFAR_DENSE_UNITS,
    )
    dense = sum(
        layer.count_params() for layer in model.layers if isinstance(layer, keras.layers.Dense)
    )
    return dense / model.count_params()


@functools.cache
def keras_block1_conv2_multiplications() -> int:
    """Output values of block1_conv2 times the kernel entries each one multiplies."""
    from coursepkg.models import vgg
    from coursepkg.models.vgg import VGG16_DEPTHS, VGG_FILTERS

    block1 = vgg(  # VGG16's first block alone, on a 224x224 image
        block_depths=VGG16_DEPTHS[:1],
        block_filters=VGG_FILTERS[:1],
        include_top=False,
        input_shape=(classic.IMAGENET_SIDE, classic.IMAGENET_SIDE, 3),
    )
    layer = block1.get_layer("block1_conv2")
    _, height, width, filters = layer.output.shape
    kernel_height, kernel_width, in_channels, _ = layer.kernel.shape
    return height * width * filters * kernel_height * kernel_width * in_channels


def test_full_c3_connections_reference_matches_keras():
    assert classic.full_c3_connections() == keras_full_c3_connections()


def test_conv_connections_are_parameters_times_positions():
    # The paper's counts for C1 (section II.B of LeCun et al. 1998): 156 parameters, 122,304 connections.
    assert classic.conv_connections(28, 1, 6, 5) == 28 * 28 * 156 == 122_304


@pytest.mark.parametrize("side", [32, classic.BIGGER_INPUT, 50])
def test_c5_shape_reference_matches_keras(side):
    assert classic.lenet_c5_output_shape(side) == keras_lenet_c5_shape(side)


def test_rbf_scores_reference_matches_scipy():
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(1)
    features, prototypes = rng.normal(size=(5, 84)), rng.choice([-1.0, 1.0], size=(10, 84))
    np.testing.assert_allclose(
        classic.rbf_scores(features, prototypes),
        -cdist(features, prototypes, "sqeuclidean"),
        rtol=1e-12,
    )


def test_rbf_scores_reference_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="features"):
        classic.rbf_scores(np.zeros((2, 84)), np.zeros((10, 83)))
    with pytest.raises(ValueError, match="features"):
        classic.rbf_scores(np.zeros(84), np.zeros((10, 84)))


@pytest.mark.parametrize("side", [classic.PAPER_INPUT, 227])
def test_conv1_reference_matches_keras(side):
    assert classic.conv_output_size(side, 11, stride=4) == keras_conv1_side(side)


@pytest.mark.parametrize("side", [227, classic.LARGER_INPUT])
def test_pool5_reference_matches_keras(side):
    assert classic.alexnet_pool5_shape(side) == keras_pool5_shape(side)


def test_pool5_reference_matches_the_lecture_table():
    assert classic.alexnet_pool5_shape(227) == (6, 6, 256)  # max_pooling2d_2 in the lecture


def test_dense_params_matches_keras():
    assert classic.dense_params(13, 7) == keras_dense_params(13, 7) == 98


@pytest.mark.slow
def test_fc6_at_320_reference_matches_the_whole_keras_model():
    from coursepkg.models import alexnet

    model = alexnet(input_shape=(classic.LARGER_INPUT, classic.LARGER_INPUT, 3))
    assert classic.alexnet_fc6_params(classic.LARGER_INPUT) == model.get_layer("fc6").count_params()


def test_grouped_conv4_reference_matches_keras():
    assert classic.grouped_conv4_params() == keras_grouped_conv4_params()


def test_vgg19_receptive_field_reference_matches_the_keras_layers():
    assert classic.vgg19_last_conv_receptive_field() == keras_vgg19_receptive_field()


def test_cifar_dense_share_reference_matches_keras():
    assert classic.cifar_vgg16_dense_share() == pytest.approx(keras_cifar_dense_share(), rel=1e-12)


def test_block1_multiplications_reference_matches_the_keras_layer():
    assert classic.block1_conv2_multiplications() == keras_block1_conv2_multiplications()


# --------------------------------------------------------------------------- right answers pass


def rbf_scores_by_expansion(features, prototypes):
    """A right answer written differently: |x - w|^2 = |x|^2 - 2 x.w + |w|^2."""
    return -(
        (features**2).sum(axis=1, keepdims=True)
        - 2 * features @ prototypes.T
        + (prototypes**2).sum(axis=1)
    )


@functools.cache  # computed once per process: collection and tests share it
def right_answers():
    pool5_values = int(np.prod(keras_pool5_shape(classic.LARGER_INPUT)))  # Flatten's output length
    return {
        "lenet.full_c3_connections": keras_full_c3_connections(),
        "lenet.bigger_input": keras_lenet_c5_shape(classic.BIGGER_INPUT),
        "lenet.rbf_scores": rbf_scores_by_expansion,
        "alexnet.conv1_224": keras_conv1_side(classic.PAPER_INPUT),
        # (n + 1) x units, the Dense count test_dense_params_matches_keras checks against Keras
        "alexnet.fc6_at_320": (pool5_values + 1) * classic.ALEXNET_FC6_UNITS,
        "alexnet.grouped_conv4": keras_grouped_conv4_params(),
        "vgg.receptive_field": keras_vgg19_receptive_field(),
        "vgg.cifar_dense_share": keras_cifar_dense_share(),
        "vgg.block1_multiplications": keras_block1_conv2_multiplications(),
    }


@pytest.fixture(scope="module")
def answers():
    return right_answers()


@pytest.mark.parametrize("exercise_id", ALL_IDS)
def test_right_answer_passes(exercise_id, answers):
    result = evaluate(exercise_id, answers[exercise_id])
    assert result.passed, result.feedback()


def test_shape_answer_accepts_keras_style_lists_and_arrays(answers):
    shape = answers["lenet.bigger_input"]
    assert evaluate("lenet.bigger_input", (None, *shape)).passed
    assert evaluate("lenet.bigger_input", list(shape)).passed
    assert evaluate("lenet.bigger_input", np.array(shape)).passed


def test_share_accepts_a_rounded_fraction(answers):
    assert evaluate("vgg.cifar_dense_share", round(answers["vgg.cifar_dense_share"], 4)).passed


def test_unanswered_is_not_attempted():
    for exercise_id in ALL_IDS:
        result = evaluate(exercise_id, ...)
        assert not result.passed and not result.attempted


def test_function_stub_of_the_notebook_is_not_attempted():
    def rbf_scores(features, prototypes):
        return ...

    result = evaluate("lenet.rbf_scores", rbf_scores)
    assert not result.passed and not result.attempted


# --------------------------------------------------------------------------- wrong answers fail


def positive_distances(features, prototypes):
    """A common mistake: the squared distances themselves, not their negatives."""
    return ((features[:, None, :] - prototypes[None, :, :]) ** 2).sum(axis=-1)


def unsquared_distances(features, prototypes):
    return -np.sqrt(((features[:, None, :] - prototypes[None, :, :]) ** 2).sum(axis=-1))


def transposed_scores(features, prototypes):
    return -((prototypes[:, None, :] - features[None, :, :]) ** 2).sum(axis=-1)


def wrong_answers(answers):
    connections = answers["lenet.full_c3_connections"]
    height, width, channels = answers["lenet.bigger_input"]
    fc6 = answers["alexnet.fc6_at_320"]
    conv4 = answers["alexnet.grouped_conv4"]
    field = answers["vgg.receptive_field"]
    share = answers["vgg.cifar_dense_share"]
    multiplications = answers["vgg.block1_multiplications"]
    return [
        ("lenet.full_c3_connections", connections - 16 * 100, "too small"),  # biases forgotten
        ("lenet.full_c3_connections", connections + 1, "too large"),
        ("lenet.full_c3_connections", "many", "whole number"),
        ("lenet.bigger_input", (height + 1, width, channels), "height"),
        ("lenet.bigger_input", (height, width, 84), "channels"),
        ("lenet.bigger_input", (height, width), "3 entries"),
        ("lenet.bigger_input", 9, "tuple"),
        ("lenet.rbf_scores", positive_distances, "values are off"),
        ("lenet.rbf_scores", unsquared_distances, "values are off"),
        ("lenet.rbf_scores", transposed_scores, "shape"),
        ("lenet.rbf_scores", lambda features, prototypes: 1 / 0, "ZeroDivisionError"),
        ("lenet.rbf_scores", 42, "function"),
        ("alexnet.conv1_224", answers["alexnet.conv1_224"] + 1, "too large"),
        ("alexnet.conv1_224", 53.25, "whole number"),  # the division not rounded down
        ("alexnet.fc6_at_320", fc6 - classic.ALEXNET_FC6_UNITS, "too small"),  # biases forgotten
        ("alexnet.fc6_at_320", fc6 * 2, "too large"),
        ("alexnet.grouped_conv4", conv4 * 2 - 384, "too large"),  # the groups forgotten
        ("alexnet.grouped_conv4", conv4 // 2, "too small"),
        ("vgg.receptive_field", field - 32, "too small"),
        ("vgg.receptive_field", field + 16, "too large"),
        ("vgg.cifar_dense_share", share * 100, "percentage"),
        ("vgg.cifar_dense_share", 0.9, "too large"),
        ("vgg.cifar_dense_share", share / 2, "too small"),
        ("vgg.cifar_dense_share", "small", "number"),
        ("vgg.cifar_dense_share", float("nan"), "finite"),
        ("vgg.block1_multiplications", multiplications // 64, "too small"),
        ("vgg.block1_multiplications", multiplications + 1, "too large"),
    ]


def test_wrong_answers_fail_with_specific_feedback(answers):
    for exercise_id, answer, expected_words in wrong_answers(answers):
        result = evaluate(exercise_id, answer)
        assert result.attempted and not result.passed, (exercise_id, answer)
        text = feedback_text(result)
        assert expected_words in text, (exercise_id, answer, text)
        assert "Hint:" in result.feedback()


def test_every_exercise_has_wrong_answers(answers):
    assert {item[0] for item in wrong_answers(answers)} == set(ALL_IDS)


def secrets_of(value) -> list[str]:
    """Ways the right answer could appear in a text."""
    values = value if isinstance(value, tuple) else (value,)
    texts = []
    for item in values:
        if isinstance(item, float):
            texts += [f"{item:.4g}", f"{item:.3g}", f"{item:.2%}", f"{item * 100:.3g}"]
        else:
            texts += [str(item), f"{item:,}"]
    return [text for text in texts if len(text) > 1]  # a lone digit occurs anywhere


def test_feedback_and_hints_do_not_reveal_the_answer(answers):
    hints = {item.id: item.hint for item in exercises()}
    for exercise_id, answer, _ in wrong_answers(answers):
        if exercise_id == "lenet.rbf_scores":
            continue  # a function: see the next test
        if exercise_id == "vgg.cifar_dense_share" and isinstance(answer, float) and answer > 1:
            continue  # the right share given as a percentage: the student already has it
        text = feedback_text(evaluate(exercise_id, answer)) + " " + hints[exercise_id]
        for secret in secrets_of(answers[exercise_id]):
            assert secret not in text, f"feedback {text!r} reveals {secret!r}"


def test_rbf_feedback_does_not_reveal_expected_values():
    (features, prototypes), _ = classic._rbf_cases()[0]
    expected = classic.rbf_scores(features, prototypes)
    text = feedback_text(evaluate("lenet.rbf_scores", positive_distances))
    for value in expected.ravel():
        assert f"{value:.3g}" not in text
