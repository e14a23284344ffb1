"""The exercises of book/17_style_transfer.ipynb: references checked against independent NumPy
computations, right answers pass, wrong answers fail without giving the answer away."""

from __future__ import annotations

import numpy as np
import pytest

from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import style

CHAPTER = "book/17_style_transfer.ipynb"
IDS = (
    "style.gram_matrix",
    "style.layer_style_loss",
    "style.keras_io_factor",
    "style.total_variation",
    "style.octave_sizes",
)


def test_the_chapter_registers_its_exercises():
    registered = {item.id: item for item in exercises("style")}
    assert set(registered) == set(IDS)
    assert all(item.chapter == CHAPTER for item in registered.values())


# --------------------------------------------------------------------------- right answers


def gram_answer(features):
    flat = np.reshape(features, (-1, features.shape[-1])).astype(np.float64)
    return flat.T @ flat


def layer_style_loss_answer(style_features, generated_features):
    height, width, channels = generated_features.shape
    difference = gram_answer(generated_features) - gram_answer(style_features)
    return float(np.sum(difference**2) / (4 * channels**2 * (height * width) ** 2))


def total_variation_answer(image):
    image = np.asarray(image, dtype=np.float64)
    return float(np.abs(np.diff(image, axis=0)).sum() + np.abs(np.diff(image, axis=1)).sum())


RIGHT = {
    "style.gram_matrix": gram_answer,
    "style.layer_style_loss": layer_style_loss_answer,
    "style.keras_io_factor": (256 * 64 * 64) ** 2 / (3 * 256 * 256) ** 2,
    "style.total_variation": total_variation_answer,
    "style.octave_sizes": [(round(300 / 1.4**k), round(400 / 1.4**k)) for k in (3, 2, 1, 0)],
}


def test_references_against_independent_numpy():
    rng = np.random.default_rng(5)
    maps = rng.random((6, 7, 4)).astype(np.float32)
    other = rng.random((6, 7, 4)).astype(np.float32)
    np.testing.assert_allclose(style.gatys_gram(maps), np.einsum("hwi,hwj->ij", maps, maps), rtol=1e-5)
    assert style.gatys_layer_style_loss(maps, other) == pytest.approx(layer_style_loss_answer(maps, other), rel=1e-4)
    assert style.anisotropic_total_variation(maps) == pytest.approx(total_variation_answer(maps), rel=1e-5)
    assert style.expected_octave_sizes() == [(109, 146), (153, 204), (214, 286), (300, 400)]


def test_keras_io_factor_is_the_ratio_of_the_two_losses():
    """The formula of the reference against the package's two losses on maps of the exercise's shape."""
    import keras

    from coursepkg.style import style_loss

    rng = np.random.default_rng(6)
    shape = (1, 64, 64, 256)
    painting = rng.random(shape).astype(np.float32)
    generated = rng.random(shape).astype(np.float32)
    keras_io = float(keras.ops.convert_to_numpy(style_loss(painting, generated, "keras_io", image_size=(256, 256))))
    gatys = float(keras.ops.convert_to_numpy(style_loss(painting, generated, "gatys")))
    assert keras_io / gatys == pytest.approx(style.keras_io_over_gatys(), rel=1e-3)
    assert style.keras_io_over_gatys() == pytest.approx(28.44, rel=1e-3)


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id):
    result = evaluate(exercise_id, RIGHT[exercise_id])
    assert result.passed, result.feedback()


def test_right_answers_in_other_forms_pass():
    assert evaluate("style.gram_matrix", lambda f: np.einsum("hwi,hwj->ij", f, f)).passed
    assert evaluate("style.layer_style_loss", lambda a, g: np.float32(layer_style_loss_answer(a, g))).passed
    assert evaluate("style.octave_sizes", np.array(RIGHT["style.octave_sizes"])).passed
    assert evaluate("style.keras_io_factor", 28.44).passed


def test_unanswered_and_function_stubs_are_not_attempted():
    for exercise_id in IDS:
        result = evaluate(exercise_id, ...)
        assert not result.passed and not result.attempted

    def stub(*arguments):
        return ...

    for exercise_id in ("style.gram_matrix", "style.layer_style_loss", "style.total_variation"):
        result = evaluate(exercise_id, stub)
        assert not result.passed and not result.attempted, exercise_id


# --------------------------------------------------------------------------- wrong answers fail


def gram_divided_by_locations(features):
    return gram_answer(features) / (features.shape[0] * features.shape[1])


def gram_of_the_wrong_side(features):
    flat = np.reshape(features, (-1, features.shape[-1])).astype(np.float64)
    return flat @ flat.T  # (locations, locations)


def style_loss_without_the_four(style_features, generated_features):
    return 4 * layer_style_loss_answer(style_features, generated_features)


def total_variation_squared(image):
    image = np.asarray(image, dtype=np.float64)
    return float((np.diff(image, axis=0) ** 2).sum() + (np.diff(image, axis=1) ** 2).sum())


def total_variation_one_direction(image):
    return float(np.abs(np.diff(np.asarray(image, dtype=np.float64), axis=0)).sum())


@pytest.mark.parametrize(
    "exercise_id, answer, words",
    [
        ("style.gram_matrix", gram_divided_by_locations, "values are off"),
        ("style.gram_matrix", gram_of_the_wrong_side, "shape"),
        ("style.gram_matrix", "F.T @ F", "function"),
        ("style.layer_style_loss", style_loss_without_the_four, "too large"),
        ("style.keras_io_factor", 1 / 28.44, "too small"),
        ("style.keras_io_factor", 4 * 28.44, "too large"),
        ("style.total_variation", total_variation_squared, "on a random"),
        ("style.total_variation", total_variation_one_direction, "too small"),
        ("style.octave_sizes", [(int(300 / 1.4**k), int(400 / 1.4**k)) for k in (3, 2, 1, 0)], "off"),
        ("style.octave_sizes", RIGHT["style.octave_sizes"][::-1], "own size"),
        ("style.octave_sizes", [(300, 400)], "list of 4"),
    ],
)
def test_wrong_answers_fail_with_a_reason(exercise_id, answer, words):
    result = evaluate(exercise_id, answer)
    assert not result.passed
    text = " ".join(result.problems)
    assert words in text, text
    # the feedback never states the expected value
    if exercise_id == "style.keras_io_factor":
        assert "28.4" not in text


def test_a_function_that_raises_is_reported():
    def broken(*arguments):
        raise RuntimeError("boom")

    result = evaluate("style.total_variation", broken)
    assert not result.passed and "RuntimeError" in " ".join(result.problems)
