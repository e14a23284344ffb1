"""coursepkg.descriptors against Keras, NumPy and scikit-learn, on hand-worked cases, and bad input.

Descriptors are compared with a Keras sub-model's feature maps pooled in
NumPy; neighbours with ``sklearn.neighbors.NearestNeighbors`` (brute force) and
``sklearn.metrics.pairwise_distances``; the k-NN classifier with
``KNeighborsClassifier``. Runs under every Keras backend.
"""

from __future__ import annotations

import tracemalloc

import keras
import matplotlib
import numpy as np
import pytest
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

import coursepkg
from coursepkg import descriptors

matplotlib.use("Agg")

SKLEARN_METRIC = {"l2": "euclidean", "l1": "manhattan", "cosine": "cosine"}


@pytest.fixture(autouse=True)
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def small_vgg(input_shape=(16, 16, 3)):
    """A VGG-style model with VGG16's layer names: two blocks, then a classifier."""
    keras.utils.set_random_seed(11)
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="block1_conv1")(inputs)
    x = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="block1_conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="block1_pool")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="block2_conv1")(x)
    x = keras.layers.MaxPooling2D(2, name="block2_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(3, name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny_vgg")


def images(count=7, shape=(16, 16, 3), seed=0):
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(count, *shape)).astype("float32")


def numpy_pool(maps, pooling):
    """Global pooling of (n, height, width, channels) feature maps, in NumPy."""
    if pooling == "avg":
        return maps.mean(axis=(1, 2))
    if pooling == "max":
        return maps.max(axis=(1, 2))
    return maps.reshape(len(maps), -1)


# --------------------------------------------------------------------------- block_descriptors


@pytest.mark.parametrize("pooling", descriptors.POOLINGS)
def test_block_descriptors_match_a_keras_sub_model_pooled_in_numpy(pooling):
    model = small_vgg()
    batch = images(7)
    names = ["block1_conv2", "block2_pool"]
    # batch_size 3: two full batches and a last one of 1.
    codes = descriptors.block_descriptors(model, batch, names, pooling=pooling, batch_size=3)
    assert list(codes) == names
    for name in names:
        sub_model = keras.Model(model.input, model.get_layer(name).output)
        maps = keras.ops.convert_to_numpy(sub_model(batch))  # (7, height, width, channels)
        expected = numpy_pool(maps.astype(np.float64), pooling)
        assert codes[name].dtype == np.float32
        assert codes[name].shape == expected.shape
        np.testing.assert_allclose(codes[name], expected, rtol=1e-5, atol=1e-6)


def test_block_descriptors_shapes_follow_the_channels():
    codes = descriptors.block_descriptors(small_vgg(), images(2), ["block1_conv1", "block2_pool"])
    assert codes["block1_conv1"].shape == (2, 4) and codes["block2_pool"].shape == (2, 6)
    flat = descriptors.block_descriptors(small_vgg(), images(2), ["block2_pool"], pooling="flatten")
    assert flat["block2_pool"].shape == (2, 4 * 4 * 6)


def test_block_descriptors_run_batch_by_batch_on_copies():
    model = small_vgg()
    batch = images(7)
    original = batch.copy()
    seen = []

    def preprocess(part):  # changes its argument in place, as vgg16.preprocess_input does
        seen.append(part.shape[0])
        part -= 0.5
        return part

    codes = descriptors.block_descriptors(
        model, batch, ["block2_conv1"], batch_size=3, preprocess=preprocess
    )
    assert seen == [3, 3, 1]  # never more than batch_size images through the model at once
    np.testing.assert_array_equal(batch, original)  # the caller's images are untouched
    expected = descriptors.block_descriptors(model, original - 0.5, ["block2_conv1"])
    np.testing.assert_allclose(
        codes["block2_conv1"], expected["block2_conv1"], rtol=1e-5, atol=1e-6
    )


def test_block_descriptors_accept_uint8_images():
    model = small_vgg()
    pixels = np.random.default_rng(3).integers(0, 256, size=(4, 16, 16, 3), dtype=np.uint8)
    codes = descriptors.block_descriptors(model, pixels, ["block1_pool"], pooling="max")
    expected = descriptors.block_descriptors(
        model, pixels.astype(np.float32), ["block1_pool"], pooling="max"
    )
    np.testing.assert_array_equal(codes["block1_pool"], expected["block1_pool"])


def test_an_unknown_layer_is_named_and_the_layers_listed():
    with pytest.raises(ValueError, match="'block5_pool'.*block1_conv1.*block2_pool"):
        descriptors.block_descriptors(small_vgg(), images(2), ["block1_pool", "block5_pool"])


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        ({"layer_names": ["flatten"]}, ValueError, "'flatten'.*feature maps"),
        ({"layer_names": "block1_pool"}, TypeError, "layer_names"),
        ({"layer_names": [3]}, TypeError, "layer_names"),
        ({"images": np.ones((2, 16, 16, 3)) + 1j}, TypeError, "images.*complex"),
        ({"images": np.zeros((0, 16, 16, 3))}, ValueError, r"images.*\(0, 16, 16, 3\)"),
        ({"images": [[[[1.0, 2.0, 3.0]]], [[[1.0]]]]}, TypeError, "images"),
        ({"layer_names": []}, ValueError, "layer_names"),
        ({"layer_names": ["block1_pool", "block1_pool"]}, ValueError, "layer_names.*once"),
        ({"pooling": "mean"}, ValueError, "pooling.*'avg', 'max', 'flatten'.*'mean'"),
        ({"batch_size": 0}, ValueError, r"batch_size.*\[1, 10000\]"),
        ({"batch_size": 2.0}, TypeError, "batch_size"),
        ({"batch_size": True}, TypeError, "batch_size"),
        ({"images": np.zeros((16, 16, 3))}, ValueError, r"images.*\(16, 16, 3\)"),
        ({"images": np.zeros((2, 8, 8, 3))}, ValueError, r"images.*fit.*\(2, 8, 8, 3\)"),
        ({"images": np.full((2, 16, 16, 3), np.nan)}, ValueError, "images.*1536 NaN"),
        ({"images": np.full((2, 16, 16, 3), "a")}, TypeError, "images"),
        ({"preprocess": "vgg16"}, TypeError, "preprocess"),
        ({"model": "vgg16"}, TypeError, "model"),
    ],
)
def test_block_descriptors_reject_bad_arguments(arguments, error, words):
    settings = {"model": small_vgg(), "images": images(2), "layer_names": ["block1_pool"]}
    settings.update(arguments)
    with pytest.raises(error, match=words):
        descriptors.block_descriptors(**settings)


# --------------------------------------------------------------------------- nearest_neighbours


@pytest.mark.parametrize("metric", descriptors.METRICS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nearest_neighbours_match_sklearn(metric, dtype):
    rng = np.random.default_rng(1)
    queries = rng.normal(size=(45, 12)).astype(dtype)
    database = rng.normal(size=(230, 12)).astype(dtype)
    # chunk_size 8: six blocks of queries, the last one short.
    indices, distances = descriptors.nearest_neighbours(
        queries, database, 6, metric=metric, chunk_size=8
    )
    reference = NearestNeighbors(n_neighbors=6, algorithm="brute", metric=SKLEARN_METRIC[metric])
    expected_distances, expected_indices = reference.fit(database.astype(np.float64)).kneighbors(
        queries.astype(np.float64)
    )
    assert indices.shape == distances.shape == (45, 6)
    assert indices.dtype == np.int64 and distances.dtype == np.float64
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-10, atol=1e-12)


def tied_vectors(count, seed):
    """Vectors in {-1, 0, 1}^8 with four non-zero entries (norm 2), drawn from a pool of 6.

    Every L1, L2 and cosine distance between them is computed exactly in floating
    point, so repeated vectors and equal distances make exact ties.
    """
    rng = np.random.default_rng(seed)
    pool = np.zeros((6, 8))
    for row in pool:
        row[rng.choice(8, size=4, replace=False)] = rng.choice([-1.0, 1.0], size=4)
    return pool[rng.integers(0, len(pool), size=count)]


@pytest.mark.parametrize("metric", descriptors.METRICS)
def test_ties_go_to_the_lower_database_index(metric):
    queries, database = tied_vectors(20, seed=4), tied_vectors(40, seed=5)
    queries[::2] *= 2.0  # other norms, same directions: still exact
    indices, distances = descriptors.nearest_neighbours(
        queries, database, 9, metric=metric, chunk_size=7
    )
    full = pairwise_distances(queries, database, metric=SKLEARN_METRIC[metric])  # (20, 40)
    assert len(np.unique(full)) < full.size // 10  # the case is made of ties
    np.testing.assert_array_equal(indices, np.argsort(full, axis=1, kind="stable")[:, :9])
    reference = NearestNeighbors(n_neighbors=9, algorithm="brute", metric=SKLEARN_METRIC[metric])
    expected_distances, _ = reference.fit(database).kneighbors(queries)  # its tie order is its own
    np.testing.assert_allclose(distances, expected_distances, rtol=0, atol=1e-12)


def test_ties_by_hand():
    database = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0]])
    indices, distances = descriptors.nearest_neighbours([[0.0, 0.0], [1.0, 0.0]], database, 5)
    np.testing.assert_array_equal(indices, [[0, 1, 2, 3, 4], [0, 3, 1, 4, 2]])
    np.testing.assert_allclose(distances[1], [0.0, 0.0, np.sqrt(2), np.sqrt(2), 2.0])


def test_exclude_self_leaves_each_query_out_but_keeps_its_duplicates():
    rng = np.random.default_rng(6)
    vectors = rng.normal(size=(60, 5))
    vectors[17] = vectors[3]  # an exact duplicate, at distance 0 from item 3
    indices, distances = descriptors.nearest_neighbours(
        vectors, vectors, 4, exclude_self=True, chunk_size=16
    )
    assert not np.any(indices == np.arange(60)[:, np.newaxis])
    assert indices[3, 0] == 17 and indices[17, 0] == 3 and distances[3, 0] == 0.0
    # scikit-learn's kneighbors() without X leaves each training point out the same way.
    expected_distances, expected_indices = (
        NearestNeighbors(n_neighbors=4, algorithm="brute").fit(vectors).kneighbors()
    )
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(distances, expected_distances, atol=1e-7)


@pytest.mark.parametrize("metric", descriptors.METRICS)
def test_small_memory_budget_gives_the_same_answer(monkeypatch, metric):
    rng = np.random.default_rng(7)
    queries, database = rng.normal(size=(31, 9)), rng.normal(size=(101, 9))
    expected = descriptors.nearest_neighbours(queries, database, 5, metric=metric)
    # 1 KiB: one query per block, database tiles of 14 rows (the last one of 3).
    monkeypatch.setattr(descriptors, "_CHUNK_BYTES", 1024)
    result = descriptors.nearest_neighbours(queries, database, 5, metric=metric)
    np.testing.assert_array_equal(result[0], expected[0])
    np.testing.assert_allclose(result[1], expected[1], rtol=1e-12, atol=1e-12)


def test_memory_stays_below_the_full_distance_matrix(monkeypatch):
    monkeypatch.setattr(descriptors, "_CHUNK_BYTES", 2**20)  # 1 MiB blocks
    rng = np.random.default_rng(8)
    queries, database = rng.normal(size=(800, 16)), rng.normal(size=(4000, 16))
    full_matrix = 800 * 4000 * 8  # 25.6 MB of float64
    tracemalloc.start()
    try:
        descriptors.nearest_neighbours(queries, database, 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < full_matrix / 4, f"peak {peak / 1e6:.1f} MB"


def test_cosine_distance_of_a_zero_vector_is_one():
    database = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.0]])
    indices, distances = descriptors.nearest_neighbours(
        [[1.0, 0.0], [0.0, 0.0]], database, 3, metric="cosine"
    )
    np.testing.assert_allclose(distances[0], [1 - np.sqrt(0.5), 1.0, 2.0])
    np.testing.assert_array_equal(indices[0], [1, 0, 2])
    np.testing.assert_allclose(distances[1], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(indices[1], [0, 1, 2])  # all tied


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        ({"k": 0}, ValueError, r"`k`.*\[1, 10000\].*k=0"),
        ({"k": 21}, ValueError, "`k`.*at most 20.*k=21"),
        ({"k": 2.0}, TypeError, "`k`"),
        ({"k": True}, TypeError, "`k`"),
        ({"metric": "euclidean"}, ValueError, "metric.*'l2', 'l1', 'cosine'.*'euclidean'"),
        ({"exclude_self": "yes"}, TypeError, "exclude_self"),
        ({"exclude_self": True}, ValueError, r"database itself.*\(5, 3\).*\(20, 3\)"),
        ({"queries": np.zeros(3)}, ValueError, r"queries.*\(n_queries, dim\).*\(3,\)"),
        ({"queries": np.zeros((0, 3))}, ValueError, "queries"),
        ({"queries": np.zeros((5, 4))}, ValueError, "same number of columns"),
        ({"queries": np.full((5, 3), "x")}, TypeError, "queries"),
        ({"queries": np.ones((5, 3), dtype=bool)}, TypeError, "queries"),
        ({"queries": np.ones((5, 3)) + 1j}, TypeError, "queries.*complex"),
        ({"queries": [[1.0, 2.0, 3.0], [1.0]]}, TypeError, "queries"),
        ({"queries": "vectors"}, TypeError, "queries"),
        ({"k": 10**9}, ValueError, r"`k`.*\[1, 10000\]"),
        ({"metric": None}, ValueError, "metric"),
        ({"chunk_size": 1.5}, TypeError, "chunk_size"),
        ({"database": np.full((20, 3), np.inf)}, ValueError, "database.*60 NaN or infinite"),
        ({"chunk_size": 0}, ValueError, "chunk_size"),
    ],
)
def test_nearest_neighbours_reject_bad_arguments(arguments, error, words):
    rng = np.random.default_rng(0)
    settings = {"queries": rng.normal(size=(5, 3)), "database": rng.normal(size=(20, 3)), "k": 2}
    settings.update(arguments)
    with pytest.raises(error, match=words):
        descriptors.nearest_neighbours(**settings)


def test_exclude_self_needs_the_database_itself():
    vectors = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(ValueError, match="k.*at most 5"):
        descriptors.nearest_neighbours(vectors, vectors, 6, exclude_self=True)
    with pytest.raises(ValueError, match="database itself.*rows 0 to 5"):
        descriptors.nearest_neighbours(vectors + 1.0, vectors, 2, exclude_self=True)


# --------------------------------------------------------------------------- precision_at_k


def test_precision_at_k_by_hand():
    retrieved = [[0, 0, 1], [2, 1, 1]]  # classes of the neighbours, nearest first
    # Query 0 (class 0): 1/1, 2/2, 2/3. Query 1 (class 1): 0/1, 1/2, 2/3.
    assert descriptors.precision_at_k(retrieved, [0, 1], k=1) == 0.5
    assert descriptors.precision_at_k(retrieved, [0, 1], k=2) == 0.75
    assert descriptors.precision_at_k(retrieved, [0, 1]) == pytest.approx(2 / 3)  # all K
    scores = descriptors.precision_at_k(retrieved, [0, 1], k=(1, 2, 3))
    assert scores == pytest.approx({1: 0.5, 2: 0.75, 3: 2 / 3})
    assert all(type(size) is int for size in scores)


def test_precision_at_k_from_indices_matches_a_loop():
    rng = np.random.default_rng(9)
    database_labels = rng.integers(0, 4, size=50)
    query_labels = rng.integers(0, 4, size=(12, 1))  # keras.datasets' shape
    indices = rng.integers(0, 50, size=(12, 8))
    for k in (1, 3, 8):
        loop = np.mean(
            [
                sum(database_labels[index] == query_labels[row, 0] for index in indices[row, :k])
                / k
                for row in range(12)
            ]
        )
        result = descriptors.precision_at_k(indices, query_labels, k, database_labels)
        assert result == pytest.approx(loop)
        assert result == descriptors.precision_at_k(database_labels[indices], query_labels, k)


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        ({"k": 4}, ValueError, "`k`.*at most 3"),
        ({"k": (1, 0)}, ValueError, "`k`"),
        ({"k": ()}, ValueError, "`k`"),
        ({"k": "3"}, TypeError, "`k`"),
        ({"query_labels": [0, 1, 2]}, ValueError, r"query_labels.*one label per query \(2\)"),
        ({"query_labels": [0.0, 1.0]}, TypeError, "query_labels.*integer"),
        ({"neighbours": [0, 1, 1]}, ValueError, r"neighbours.*\(n_queries, K\)"),
        ({"neighbours": [[0.5, 1, 1], [1, 1, 1]]}, TypeError, "neighbours"),
        ({"database_labels": [0, 1]}, ValueError, r"neighbours.*\[0, 2\).*to 2"),
        ({"query_labels": [-1, 1]}, ValueError, r"query_labels.*\[0, 100,000\)"),
        ({"neighbours": [[0, 0, 10**12], [2, 1, 1]]}, ValueError, r"neighbours.*\[0, 100,000\)"),
        ({"query_labels": "01"}, TypeError, "query_labels"),
        ({"k": [2.5]}, TypeError, "`k`"),
    ],
)
def test_precision_at_k_rejects_bad_arguments(arguments, error, words):
    settings = {"neighbours": [[0, 0, 1], [2, 1, 1]], "query_labels": [0, 1], "k": 2}
    settings.update(arguments)
    with pytest.raises(error, match=words):
        descriptors.precision_at_k(**settings)


# --------------------------------------------------------------------------- k-NN classifier


def test_knn_vote_by_hand():
    retrieved = [
        [3, 1, 1],  # majority 1
        [3, 1, 2],  # three-way tie: the nearest, 3
        [2, 1, 1, 2],  # 2 against 1: the nearest of the two, 2
        [5, 4, 4, 5, 5],  # majority 5
    ]
    np.testing.assert_array_equal(descriptors.knn_predict(retrieved[:2]), [1, 3])
    np.testing.assert_array_equal(descriptors.knn_predict([retrieved[2]]), [2])
    np.testing.assert_array_equal(descriptors.knn_predict([retrieved[3]], k=3), [4])
    np.testing.assert_array_equal(descriptors.knn_predict([retrieved[3]]), [5])
    assert descriptors.knn_accuracy([retrieved[3]], [4], k=(1, 3, 5)) == {1: 0.0, 3: 1.0, 5: 0.0}


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_one_nearest_neighbour_accuracy_matches_sklearn(metric):
    rng = np.random.default_rng(10)
    centres = rng.normal(scale=2.0, size=(4, 6))
    train_labels, test_labels = rng.integers(0, 4, size=300), rng.integers(0, 4, size=120)
    train = centres[train_labels] + rng.normal(size=(300, 6))
    test = centres[test_labels] + rng.normal(size=(120, 6))
    indices, _ = descriptors.nearest_neighbours(test, train, 1, metric=metric)
    classifier = KNeighborsClassifier(
        n_neighbors=1, algorithm="brute", metric=SKLEARN_METRIC[metric]
    ).fit(train, train_labels)
    np.testing.assert_array_equal(
        descriptors.knn_predict(indices, database_labels=train_labels), classifier.predict(test)
    )
    accuracy = descriptors.knn_accuracy(indices, test_labels, k=1, database_labels=train_labels)
    assert accuracy == pytest.approx(classifier.score(test, test_labels))
    assert 0.3 < accuracy < 1.0  # a real problem: neither trivial nor chance


def test_k_nearest_neighbours_match_sklearn_where_the_vote_is_clear():
    rng = np.random.default_rng(12)
    train, test = rng.normal(size=(200, 4)), rng.normal(size=(150, 4))
    train_labels = rng.integers(0, 3, size=200)
    indices, _ = descriptors.nearest_neighbours(test, train, 5)
    ours = descriptors.knn_predict(indices, database_labels=train_labels)
    theirs = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(train, train_labels)
    counts = np.stack([(train_labels[indices] == label).sum(axis=1) for label in range(3)], 1)
    clear = np.sort(counts, axis=1)[:, -1] > np.sort(counts, axis=1)[:, -2]  # no tie for first
    assert 100 < clear.sum() < 150
    np.testing.assert_array_equal(ours[clear], theirs.predict(test)[clear])


def test_knn_accuracy_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`k`.*at most 2"):
        descriptors.knn_accuracy([[0, 1]], [0], k=3)
    with pytest.raises(ValueError, match="query_labels"):
        descriptors.knn_accuracy([[0, 1]], [0, 1])
    with pytest.raises(TypeError, match="`k`"):
        descriptors.knn_predict([[0, 1]], k=1.0)
    with pytest.raises(TypeError, match="database_labels"):
        descriptors.knn_predict([[0, 1]], database_labels=["cat", "dog"])


# --------------------------------------------------------------------------- plot_retrieval


def test_plot_retrieval_frames_right_and_wrong_neighbours():
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure

    rng = np.random.default_rng(13)
    database = rng.integers(0, 256, size=(10, 8, 8, 3), dtype=np.uint8)
    query_images = rng.uniform(size=(2, 8, 8, 3))
    database_labels = np.array([0, 1, 0, 1, 2, 2, 0, 1, 2, 0])
    indices = np.array([[0, 1, 2], [3, 9, 7]])
    fig = descriptors.plot_retrieval(
        query_images, database, indices, [0, 1], database_labels, class_names=["a", "b", "c"]
    )
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2 * (1 + 3)
    axes = np.array(fig.axes).reshape(2, 4)
    green, red = to_rgba(descriptors.RIGHT_FRAME_COLOUR), to_rgba(descriptors.WRONG_FRAME_COLOUR)
    frames = [[axes[row, column].spines["left"].get_edgecolor() for column in (1, 2, 3)]
              for row in (0, 1)]  # fmt: skip
    assert frames == [[green, red, green], [green, red, green]]
    assert axes[0, 0].get_title() == "query: a" and axes[1, 2].get_title() == "a"
    np.testing.assert_array_equal(axes[1, 1].get_images()[0].get_array(), database[3])


def test_plot_retrieval_without_labels_and_fewer_neighbours():
    rng = np.random.default_rng(14)
    fig = descriptors.plot_retrieval(
        rng.uniform(size=(3, 6, 6)), rng.uniform(size=(9, 6, 6, 1)), rng.integers(0, 9, (3, 5)), k=2
    )
    assert len(fig.axes) == 3 * 3
    assert [ax.get_title() for ax in fig.axes[:3]] == ["query", "1", "2"]


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        ({"query_labels": None}, ValueError, "both `query_labels` and `database_labels`"),
        ({"indices": np.array([[0, 10]])}, ValueError, r"indices.*\[0, 10\)"),
        ({"indices": np.array([[0, 1], [1, 2]])}, ValueError, "indices.*one row per query"),
        ({"k": 3}, ValueError, "`k`.*at most 2"),
        ({"class_names": ["a"]}, ValueError, "class_names.*up to 1"),
        ({"query_images": np.zeros((101, 4, 4))}, ValueError, "at most 100"),
        ({"query_images": np.zeros((1, 4, 4, 2))}, ValueError, "query_images"),
        ({"cell_size": 0}, ValueError, "cell_size"),
        ({"cell_size": float("nan")}, ValueError, "cell_size=nan"),
        ({"class_names": [0, 1]}, TypeError, "class_names"),
        ({"class_names": b"ab"}, TypeError, "class_names"),
        ({"title": 3}, TypeError, "title"),
        ({"query_images": np.full((1, 4, 4), np.nan)}, ValueError, "query_images.*finite"),
        ({"database_images": np.zeros((10, 4, 4)) + 1j}, TypeError, "database_images"),
        ({"query_labels": [-1]}, ValueError, "query_labels"),
        ({"query_images": np.zeros((100, 4, 4)), "indices": np.zeros((100, 10), int),
          "query_labels": np.zeros(100, int)}, ValueError, "at most 1,000 images"),
    ],
)
def test_plot_retrieval_rejects_bad_arguments(arguments, error, words):
    settings = {
        "query_images": np.zeros((1, 4, 4)),
        "database_images": np.zeros((10, 4, 4)),
        "indices": np.array([[0, 1]]),
        "query_labels": [0],
        "database_labels": np.arange(10) % 2,
    }
    settings.update(arguments)
    with pytest.raises(error, match=words):
        descriptors.plot_retrieval(**settings)


# --------------------------------------------------------------------------- package


def test_public_names_are_exported_from_the_package():
    names = [
        "block_descriptors",
        "knn_accuracy",
        "knn_predict",
        "nearest_neighbours",
        "plot_retrieval",
        "precision_at_k",
    ]
    for name in names:
        assert name in coursepkg.__all__
        assert getattr(coursepkg, name) is getattr(descriptors, name)
    assert "descriptors" in coursepkg.__all__ and coursepkg.descriptors is descriptors


@pytest.mark.slow
def test_one_nearest_neighbour_on_cifar10_pixels_is_the_cs231n_baseline(cifar10_archive):
    """1-NN with L2 on raw pixels: 35.4% on CIFAR-10 in the cs231n notes (all 10,000 test images).

    Here the first 1,000 test images of the JPEG copy (quality ~75, so pixels
    differ slightly) against all 50,000 training images (the decoded arrays
    come from the loader's cache): about 15 s on 2 cores. With 1,000 queries the
    standard error of the accuracy is 1.5 points; the tolerance is 4.
    """
    from coursepkg.data import load_cifar10_jpeg

    dataset = load_cifar10_jpeg(cifar10_archive)
    x_train, y_train, x_test, y_test = dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test
    database = x_train.reshape(len(x_train), -1).astype(np.float32)  # (50000, 3072)
    queries = x_test[:1000].reshape(1000, -1).astype(np.float32)  # (1000, 3072)
    indices, _ = descriptors.nearest_neighbours(queries, database, 1)
    accuracy = descriptors.knn_accuracy(indices, y_test[:1000], database_labels=y_train)
    assert accuracy == pytest.approx(0.354, abs=0.04)  # chance: 0.1


def test_bfloat16_predictions_of_a_mixed_precision_model_are_accepted():
    """model.predict under "mixed_bfloat16" returns ml_dtypes' bfloat16, which NumPy calls no float."""
    import ml_dtypes

    vectors = np.random.default_rng(4).normal(size=(6, 3)).astype(ml_dtypes.bfloat16)
    indices, distances = descriptors.nearest_neighbours(vectors, vectors, 2)
    expected = descriptors.nearest_neighbours(vectors.astype("float32"), vectors.astype("float32"), 2)
    np.testing.assert_array_equal(indices, expected[0])
    np.testing.assert_allclose(distances, expected[1])
