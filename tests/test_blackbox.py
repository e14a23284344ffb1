"""coursepkg.blackbox: one-pixel attacks on a model built to be fooled, substitutes under a query budget."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg import attacks, blackbox


def brightest_red_detector(images):
    """Class 1 when any pixel's first channel exceeds 0.5: logits ``(0, 40 * (max red - 0.5))``."""
    red = keras.ops.max(images[..., 0], axis=(1, 2))
    return keras.ops.stack([keras.ops.zeros_like(red), 40.0 * (red - 0.5)], axis=1)


@pytest.fixture(scope="module")
def dark_image():
    return np.random.default_rng(0).uniform(0.0, 0.3, size=(8, 8, 3)).astype(np.float32)


def changed_places(original, attacked) -> set[tuple[int, int]]:
    return {(int(row), int(column)) for row, column in zip(*np.nonzero(np.any(original != attacked, axis=-1)))}


def test_one_pixel_changes_one_pixel_and_fools_the_detector(dark_image):
    result = blackbox.one_pixel(brightest_red_detector, dark_image, pixels=1, maxiter=20, popsize=50, seed=1)
    assert result.label == 0 and result.success and result.prediction == 1 and result.target is None
    assert changed_places(dark_image, result.image) == {tuple(result.coordinates[0])}
    row, column = result.coordinates[0]
    np.testing.assert_array_equal(result.colours[0], result.image[row, column])
    assert result.colours[0, 0] > 0.5
    assert result.probability > 0.5 and result.generations <= 20
    # the initial population (a multiple of 5 genes, at least 50) and the original, the adversarial image
    assert result.queries >= 50 + 2 and result.queries % 5 == 2
    assert "1 pixel(s)" in str(result) and "success" in str(result)


def test_one_pixel_with_several_pixels_changes_at_most_those(dark_image):
    result = blackbox.one_pixel(brightest_red_detector, dark_image, pixels=3, target=1, maxiter=5, popsize=60, seed=2)
    assert result.success and result.target == 1 and result.coordinates.shape == (3, 2)
    places = changed_places(dark_image, result.image)
    assert 1 <= len(places) <= 3 and places <= {tuple(place) for place in result.coordinates}


def test_one_pixel_reports_failure_on_a_model_it_cannot_fool(dark_image):
    def constant(images):  # always class 0, whatever the pixels
        return keras.ops.stack([5.0 + 0 * images[:, 0, 0, 0], 0 * images[:, 0, 0, 0]], axis=1)

    result = blackbox.one_pixel(constant, dark_image, maxiter=3, popsize=20, seed=0)
    assert not result.success and result.prediction == 0 and result.generations <= 3


@pytest.mark.parametrize(
    "change, error, match",
    [({"pixels": 0}, ValueError, "`pixels`"), ({"target": 2}, ValueError, r"`target` to hold classes in \[0, 2\)"),
     ({"label": 1.0}, TypeError, "`label` to be an integer"), ({"maxiter": 0}, ValueError, "`maxiter`"),
     ({"seed": -1}, ValueError, "`seed`")],
)  # fmt: skip
def test_one_pixel_errors_name_the_argument(dark_image, change, error, match):
    with pytest.raises(error, match=match):
        blackbox.one_pixel(brightest_red_detector, dark_image, **{"maxiter": 2, "popsize": 10, **change})
    with pytest.raises(ValueError, match=r"`image` to be a non-empty array of 3 axes"):
        blackbox.one_pixel(brightest_red_detector, dark_image[np.newaxis])


# --------------------------------------------------------------------------- substitutes


@pytest.fixture(scope="module")
def oracle_and_data():
    rng = np.random.default_rng(3)
    weights = rng.normal(size=(16, 3))
    images = rng.uniform(0.0, 1.0, size=(60, 16)).astype(np.float32)
    bias = -np.median(images @ weights, axis=0)
    calls = []

    def oracle(batch):  # a linear model seen through its top label only
        calls.append(len(batch))
        return np.argmax(np.asarray(batch, dtype=np.float64) @ weights + bias, axis=1)

    return oracle, calls, images


def build_substitute():
    return keras.Sequential([keras.Input((16,)), keras.layers.Dense(3)])


def test_substitute_training_counts_queries_and_stays_within_budget(oracle_and_data):
    oracle, calls, images = oracle_and_data
    calls.clear()
    trained = blackbox.train_substitute(oracle, images[:10], build_substitute, query_budget=40,
                                        augmentation_rounds=2, lambda_=0.1, epochs=30, learning_rate=0.05, seed=0)  # fmt: skip
    assert trained.queries == 40 == sum(calls) and calls == [10, 10, 20]
    assert trained.dataset_sizes == (10, 20, 40) and trained.images.shape == (40, 16)
    np.testing.assert_array_equal(trained.labels, oracle(trained.images))
    assert trained.images.min() >= 0.0 and trained.images.max() <= 1.0
    # each augmented image is its parent moved by lambda along a sign: every pixel by 0.1 or clipped
    steps = np.abs(trained.images[10:20] - images[:10])
    assert np.all((np.abs(steps - 0.1) < 1e-6) | (steps < 0.1))
    agreement = np.mean(np.argmax(keras.ops.convert_to_numpy(trained.model(images)), axis=1) == oracle(images))
    assert agreement > 0.6  # far above a chance of 1/3 with 40 queries
    assert "40 oracle queries of a budget of 40" in str(trained)


def test_substitute_refuses_a_budget_too_small_before_asking_anything(oracle_and_data):
    oracle, calls, images = oracle_and_data
    calls.clear()
    with pytest.raises(ValueError, match=r"`query_budget` to cover .* 40 oracle queries. Received: query_budget=39"):
        blackbox.train_substitute(oracle, images[:10], build_substitute, query_budget=39, augmentation_rounds=2)
    assert calls == []


def test_the_oracle_wrapper_refuses_queries_over_budget():
    ask = blackbox._Oracle(lambda batch: np.zeros(len(batch), dtype=int), budget=5, classes=2)
    ask(np.zeros((3, 4)))
    with pytest.raises(blackbox.QueryBudgetExceeded, match="query_budget=5"):
        ask(np.zeros((3, 4)))
    assert ask.queries == 3
    bad = blackbox._Oracle(lambda batch: np.zeros((len(batch), 2)), budget=5, classes=2)
    with pytest.raises(TypeError, match=r"`oracle\(images\)` to be integer class indices"):
        bad(np.zeros((2, 4)))


def test_substitute_attack_transfers_to_the_oracle(oracle_and_data):
    oracle, calls, images = oracle_and_data
    trained = blackbox.train_substitute(oracle, images[:20], build_substitute, query_budget=80,
                                        augmentation_rounds=2, epochs=30, learning_rate=0.05, seed=1)  # fmt: skip
    labels = oracle(images[20:])
    calls.clear()
    result = blackbox.substitute_attack(oracle, trained.model, images[20:], labels, 0.3)
    assert result.queries == 80 == sum(calls)
    assert result.confidence is None and result.original_confidence is None
    np.testing.assert_array_equal(result.predictions, oracle(result.images))
    np.testing.assert_array_equal(result.success, result.predictions != labels)
    assert result.success_rate > 0.5  # the transfer rate
    assert np.all(np.abs(result.perturbation) <= 0.3 + 1e-6)
    assert "80 queries" in str(result)


def test_substitute_errors_name_the_argument(oracle_and_data):
    oracle, _, images = oracle_and_data
    with pytest.raises(ValueError, match="`lambda_`"):
        blackbox.train_substitute(oracle, images[:4], build_substitute, query_budget=100, lambda_=2.0)
    with pytest.raises(TypeError, match="`substitute` to be callable"):
        blackbox.train_substitute(oracle, images[:4], "dense", query_budget=100)
    with pytest.raises(TypeError, match="`substitute` to be a keras.Model or a function"):
        blackbox.train_substitute(oracle, images[:4], lambda: "dense", query_budget=100)
    with pytest.raises(ValueError, match="`seed`"):
        blackbox.train_substitute(oracle, images[:4], build_substitute, query_budget=100, seed=-1)
    with pytest.raises(TypeError, match="`query_budget`"):
        blackbox.train_substitute(oracle, images[:4], build_substitute, query_budget=1.5)
    with pytest.raises(ValueError, match="`epsilon`"):
        blackbox.substitute_attack(oracle, build_substitute(), images[:4], None, -0.1)
    assert isinstance(attacks.as_classifier(build_substitute()), attacks.Classifier)


# --------------------------------------------------------------------------- issue 16: bad arguments


def test_bad_arguments_are_refused_before_any_query(oracle_and_data, dark_image):
    oracle, calls, images = oracle_and_data
    calls.clear()
    built = []

    def build():
        built.append(True)
        return build_substitute()

    with pytest.raises(TypeError, match="`oracle` to be callable"):  # was found after compiling
        blackbox.train_substitute("oracle", images[:4], build, query_budget=100)
    with pytest.raises(TypeError, match="`seed_images` to be an array of real numbers"):
        blackbox.train_substitute(oracle, images[:4] + 1j, build, query_budget=100)
    with pytest.raises(TypeError, match="`seed`"):
        blackbox.train_substitute(oracle, images[:4], build, query_budget=100, seed=1.5)
    assert built == []
    with pytest.raises(TypeError, match="`substitute` to be callable"):  # was named `model`
        blackbox.substitute_attack(oracle, 3, images[:4], None, 0.1)
    labels = np.array([0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"`labels` to hold classes in \[0, 3\)"):  # was after the queries
        blackbox.substitute_attack(oracle, build_substitute(), images[:4], labels, 0.1)
    with pytest.raises(TypeError, match="`oracle` to be callable"):
        blackbox.substitute_attack(None, build_substitute(), images[:4], None, 0.1)
    assert calls == []
    model_calls = []

    def counted(batch):
        model_calls.append(len(batch))
        return brightest_red_detector(batch)

    changes = ({"label": 10**12}, {"target": True}, {"label": "1"}, {"popsize": 10**9}, {"seed": 2**40})
    for change in changes:
        with pytest.raises((TypeError, ValueError), match=f"`{next(iter(change))}`"):
            blackbox.one_pixel(counted, dark_image, **change)
    assert model_calls == []
