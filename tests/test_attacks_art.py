"""coursepkg.attacks against IBM's Adversarial Robustness Toolbox: the same adversarial images on one model."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg import attacks

art = pytest.importorskip("art", reason="adversarial-robustness-toolbox is not installed")
if keras.backend.backend() != "tensorflow":
    pytest.skip("ART's TensorFlowV2Classifier needs the TensorFlow backend", allow_module_level=True)


@pytest.fixture(scope="module")
def model_and_classifier():
    import tensorflow as tf
    from art.estimators.classification import TensorFlowV2Classifier

    keras.utils.set_random_seed(11)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(5),
    ])  # fmt: skip
    classifier = TensorFlowV2Classifier(
        model=model,
        nb_classes=5,
        input_shape=(8, 8, 1),
        loss_object=tf.keras.losses.CategoricalCrossentropy(from_logits=True),
        clip_values=(0.0, 1.0),
    )
    return model, classifier


@pytest.fixture(scope="module")
def images_and_labels():
    rng = np.random.default_rng(12)
    return rng.uniform(0.0, 1.0, size=(24, 8, 8, 1)).astype(np.float32), rng.integers(0, 5, size=24)


@pytest.mark.parametrize("targeted", [False, True])
def test_fgsm_matches_art_fast_gradient_method(model_and_classifier, images_and_labels, targeted):
    from art.attacks.evasion import FastGradientMethod

    model, classifier = model_and_classifier
    images, labels = images_and_labels
    theirs = FastGradientMethod(classifier, norm=np.inf, eps=0.05, targeted=targeted, batch_size=64)
    expected = theirs.generate(images, y=np.eye(5)[labels])
    ours = attacks.fgsm(model, images, labels, 0.05, targeted=targeted)
    np.testing.assert_allclose(ours.images, expected, atol=1e-5)


@pytest.mark.parametrize("norm, epsilon, step_size", [("linf", 0.1, 0.02), ("l2", 1.0, 0.25)])
def test_pgd_matches_art_projected_gradient_descent(model_and_classifier, images_and_labels, norm, epsilon, step_size):
    from art.attacks.evasion import ProjectedGradientDescent

    model, classifier = model_and_classifier
    images, labels = images_and_labels
    theirs = ProjectedGradientDescent(
        classifier, norm=np.inf if norm == "linf" else 2, eps=epsilon, eps_step=step_size, max_iter=10,
        num_random_init=0, batch_size=64, verbose=False,
    )  # fmt: skip
    expected = theirs.generate(images, y=np.eye(5)[labels])
    ours = attacks.pgd(model, images, labels, epsilon, norm=norm, steps=10, step_size=step_size, random_start=False)
    np.testing.assert_allclose(ours.images, expected, atol=1e-5)
    assert not np.allclose(expected, images, atol=1e-3)  # ART did attack
