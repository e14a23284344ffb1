"""coursepkg.fooling: fooling images and universal perturbations on linear models and a small network."""

from __future__ import annotations

import numpy as np
import pytest
from test_attacks import (
    binary_linear,
    linear_model,
    numpy_probabilities,
    small_conv_images,
    small_conv_model,
)

from coursepkg import attacks, fooling

conv_model = pytest.fixture(small_conv_model, scope="module", name="conv_model")
conv_images = pytest.fixture(small_conv_images, scope="module", name="conv_images")


def test_fooling_images_reach_the_confidence_asked_for():
    weights = np.random.default_rng(6).normal(size=(16, 3)) * 2.0
    model = linear_model(weights, np.zeros(3))
    result = fooling.fooling_image(model, [0, 1, 2], (16,), confidence=0.99, steps=100, step_size=0.05)
    assert np.all(result.success) and np.all(result.probabilities >= 0.99)
    probabilities = numpy_probabilities(weights, np.zeros(3), result.images)
    np.testing.assert_allclose(probabilities[np.arange(3), [0, 1, 2]], result.probabilities, rtol=1e-4)
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0
    assert np.all(result.steps >= 1) and np.all(result.steps < 100)
    single = fooling.fooling_image(model, 2, (16,), steps=100, step_size=0.05)
    assert single.images.shape == (1, 16) and single.targets.tolist() == [2]


def test_fooling_rate_counts_changed_predictions():
    model = binary_linear(np.ones(4), -2.0)  # class 1 when the pixels sum to more than 2
    images = np.array([[0.4] * 4, [0.45] * 4, [0.55] * 4, [0.7] * 4], dtype=np.float32)
    shift = np.full(4, 0.08, dtype=np.float32)  # sums +0.32: only the second image crosses
    assert fooling.fooling_rate(model, images, shift) == 0.25
    assert fooling.fooling_rate(model, images, -shift) == 0.25  # the third image crosses back
    assert fooling.fooling_rate(model, images, np.tile(shift, (4, 1))) == 0.25
    assert fooling.fooling_rate(model, images, np.zeros(4, dtype=np.float32)) == 0.0


@pytest.mark.parametrize("norm, epsilon", [("linf", 0.15), ("l2", 1.0)])
def test_universal_perturbation_respects_its_norm_and_fools(conv_model, conv_images, norm, epsilon):
    result = fooling.universal_perturbation(conv_model, conv_images, epsilon, norm=norm, max_passes=2)
    assert result.perturbation.shape == conv_images.shape[1:]
    assert attacks.perturbation_norms(result.perturbation[np.newaxis], norm)[0] <= epsilon * (1 + 1e-5)
    assert result.fooling_rate == fooling.fooling_rate(conv_model, conv_images, result.perturbation)
    assert result.fooling_rate > 0.3 and 1 <= len(result.fooling_rates) <= 2


def test_universal_perturbation_of_a_linear_model_crosses_the_boundary():
    model = binary_linear(np.array([1.0, -1.0, 2.0]), 0.0)
    images = np.random.default_rng(7).uniform(0.4, 0.6, size=(20, 3)).astype(np.float32)
    classes = (images @ np.array([1.0, -1.0, 2.0]) > 0).astype(int)
    assert np.all(classes == 1)  # one side of the boundary: one direction fools them all
    result = fooling.universal_perturbation(model, images, 0.5, target_fooling_rate=1.0, max_passes=3)
    assert result.fooling_rate == 1.0
    np.testing.assert_array_equal(np.sign(result.perturbation), [-1, 1, -1])
    # one image, one DeepFool step: the shortest way to the boundary, (margin / dual norm of w + 1e-4) along -w
    margin = float(images[0].astype(np.float64) @ np.array([1.0, -1.0, 2.0]))
    for norm, expected in [("linf", -(margin / 4 + 1e-4) * np.array([1, -1, 1])),
                           ("l2", -(margin / np.sqrt(6) + 1e-4) * np.array([1, -1, 2]) / np.sqrt(6))]:  # fmt: skip
        single = fooling.universal_perturbation(model, images[:1], 1.0, norm=norm, max_passes=1, overshoot=0.0)
        np.testing.assert_allclose(single.perturbation, expected, rtol=1e-4)
        assert single.fooling_rate == 1.0


def test_bad_arguments_name_themselves(conv_model, conv_images):
    model = linear_model(np.ones((12, 4)), np.zeros(4))
    images = np.full((3, 12), 0.5, dtype=np.float32)
    with pytest.raises(ValueError, match="`confidence`"):
        fooling.fooling_image(model, 0, (12,), confidence=1.0)
    with pytest.raises(ValueError, match=r"`target_class` to hold classes in \[0, 4\)"):
        fooling.fooling_image(model, [0, 7], (12,))
    with pytest.raises(ValueError, match="`perturbation` to have the shape of one image"):
        fooling.fooling_rate(model, images, np.zeros(5, dtype=np.float32))
    with pytest.raises(ValueError, match=r"`perturbation` to hold values in \[-1, 1\]"):
        fooling.fooling_rate(model, images, np.full(12, 3.0, dtype=np.float32))
    with pytest.raises(ValueError, match="`target_fooling_rate`"):
        fooling.universal_perturbation(conv_model, conv_images, 0.1, target_fooling_rate=0.0)


# --------------------------------------------------------------------------- issue 16: bad arguments


def test_bad_arguments_are_refused_before_the_model_is_called():
    calls = []

    def model(images):
        calls.append(len(images))
        return images[:, :2]

    images = np.full((3, 4), 0.5, dtype=np.float32)
    with pytest.raises(ValueError, match="`shape` to give at most 100,000,000 pixel values"):
        fooling.fooling_image(model, list(range(10)), (4096, 4096, 3))  # was 2 GB of noise each
    with pytest.raises(ValueError, match="`shape`"):
        fooling.fooling_image(model, 0, (0, 4))
    with pytest.raises(TypeError, match="`target_class` to be a numeric array"):
        fooling.fooling_image(model, "cat", (4,))
    with pytest.raises(ValueError, match="`target_class` to hold classes"):
        fooling.fooling_image(model, [0, -1], (4,))
    with pytest.raises(TypeError, match="`perturbation` to be a numeric array"):
        fooling.fooling_rate(model, images, [[0.1, 0.2], [0.3]])  # was NumPy's own error
    with pytest.raises(ValueError, match="`perturbation` to hold finite values"):
        fooling.fooling_rate(model, images, np.full(4, np.nan))
    with pytest.raises(TypeError, match="`max_passes`"):
        fooling.universal_perturbation(model, images, 0.1, max_passes=2.0)
    with pytest.raises(TypeError, match="`seed`"):
        fooling.universal_perturbation(model, images, 0.1, seed="0")
    assert calls == []
