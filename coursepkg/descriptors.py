"""Image descriptors from a pretrained CNN, retrieval by nearest neighbours, and its scores.

Introduced in: book/15_descriptors_transfer.ipynb

The output of each block of a pretrained network (``block1_pool`` ...
``block5_pool`` of VGG16), pooled over the image, is a fixed-length vector
that describes the image: a *descriptor*. Images whose descriptors are close
tend to show the same kind of object, which this module measures:

1. :func:`block_descriptors` runs a batch of images through the network once
   and returns one pooled descriptor per image for each chosen layer.
2. :func:`nearest_neighbours` finds, for each query vector, the ``k`` closest
   vectors of a database (L1, L2 or cosine distance), by brute force in chunks.
3. :func:`precision_at_k` scores the retrieval (how many of the ``k`` retrieved
   images share the query's class); :func:`knn_predict` and
   :func:`knn_accuracy` turn the neighbours into a k-nearest-neighbour
   classifier, the baseline of the cs231n notes (1-NN on CIFAR-10 pixels:
   38.6% with L1, 35.4% with L2).
4. :func:`plot_retrieval` shows queries and what they retrieved.

Everything but the network itself is NumPy (and ``scipy.spatial.distance.cdist``
for the L1 distance), so the results can be compared with scikit-learn's.

Example:
    >>> features = block_descriptors(vgg, x_train, ["block4_pool", "block5_pool"])
    >>> queries = block_descriptors(vgg, x_test[:100], ["block5_pool"])["block5_pool"]
    >>> indices, distances = nearest_neighbours(queries, features["block5_pool"], k=10)
    >>> precision_at_k(indices, y_test[:100], k=(1, 10), database_labels=y_train)
    >>> # {1: ..., 10: ...}: the share of the nearest 1 and 10 that are of the query's class
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np

from coursepkg import validation
from coursepkg.plotting import WRONG_COLOUR

POOLINGS = ("avg", "max", "flatten")
METRICS = ("l2", "l1", "cosine")
RIGHT_FRAME_COLOUR = "tab:green"
WRONG_FRAME_COLOUR = WRONG_COLOUR

MAX_K = 10_000
MAX_BATCH_SIZE = 10_000
MAX_CHUNK_SIZE = 1_000_000
MAX_PLOTTED_QUERIES = 100
MAX_PLOTTED_PANELS = 1_000  # images in one retrieval figure: queries x (1 + k)
MAX_CLASSES = 100_000  # class labels are integers in [0, MAX_CLASSES)
# Bytes of float64 working memory per block of distances (and per database tile):
# 128 MiB holds 335 query rows against 50,000 database vectors.
_CHUNK_BYTES = 128 * 2**20


# --------------------------------------------------------------------------- checks


def _array(name: str, value, ndim: int, what: str, finite: bool = True) -> np.ndarray:
    """A non-empty real-valued NumPy array of rank ``ndim`` (NaN and infinities refused).

    Raises:
        TypeError: not numbers (strings, objects, booleans, complex numbers, ragged lists).
        ValueError: wrong rank, an empty axis, or a non-finite value.
    """
    array = validation.check_array(
        name, value, dtype="number", allow_empty=True, finite=False
    )
    if array.ndim != ndim or 0 in array.shape:
        raise ValueError(
            f"Expected `{name}` to be {what}. Received: {name} with shape {array.shape}"
        )
    if finite and array.dtype.kind == "f":
        bad = _count_non_finite(array)
        if bad:
            raise ValueError(
                f"Expected `{name}` to hold finite numbers only. Received: {name} with shape "
                f"{array.shape} holding {bad} NaN or infinite values"
            )
    return array


def _count_non_finite(array: np.ndarray) -> int:
    """Number of NaN and infinite values, counted in slices so as to hold no full-size mask."""
    rows = max(1, _CHUNK_BYTES // max(1, array[0].size))
    slices = (array[start : start + rows] for start in range(0, len(array), rows))
    return sum(part.size - np.count_nonzero(np.isfinite(part)) for part in slices)


def _class_values(name: str, array: np.ndarray) -> np.ndarray:
    """Refuse class labels outside ``[0, MAX_CLASSES)`` (the array is non-empty)."""
    low, high = array.min(), array.max()
    if low < 0 or high >= MAX_CLASSES:
        raise ValueError(
            f"Expected `{name}` to hold class labels in [0, {MAX_CLASSES:,}). "
            f"Received: {name} with values from {low} to {high}"
        )
    return array


def _labels(name: str, value, length: int | None = None) -> np.ndarray:
    """Integer class labels ``(n,)`` in ``[0, 100,000)``.

    ``(n, 1)``, as ``keras.datasets`` gives them, is flattened.
    """
    array = validation.check_array(name, value, dtype="integer", allow_empty=True)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(
            f"Expected `{name}` to be a non-empty array of class labels (n,) or (n, 1). "
            f"Received: {name} with shape {array.shape}"
        )
    if length is not None and len(array) != length:
        raise ValueError(
            f"Expected `{name}` to have one label per query ({length}). "
            f"Received: {name} with shape {array.shape}"
        )
    return _class_values(name, array)


def _neighbour_labels(neighbours, database_labels) -> np.ndarray:
    """Labels of the retrieved items ``(n_queries, K)``, from labels or from indices."""
    if database_labels is None:
        array = validation.check_array("neighbours", neighbours, dtype="integer", allow_empty=True)
        if array.ndim != 2 or 0 in array.shape:
            raise ValueError(
                "Expected `neighbours` to be the labels of the retrieved items (n_queries, K). "
                f"Received: neighbours with shape {array.shape}"
            )
        return _class_values("neighbours", array)
    labels = _labels("database_labels", database_labels)
    indices = _indices("neighbours", neighbours, len(labels), "database_labels")
    return labels[indices]


def _indices(name: str, value, size: int, of: str) -> np.ndarray:
    """Integer indices ``(n_queries, K)``, each in ``[0, size)``."""
    array = validation.check_array(name, value, dtype="integer", allow_empty=True)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(
            f"Expected `{name}` to be indices (n_queries, K). Received: {name} with shape {array.shape}"
        )
    if array.min() < 0 or array.max() >= size:
        raise ValueError(
            f"Expected `{name}` to hold indices in [0, {size}) (the length of `{of}`). "
            f"Received: indices from {array.min()} to {array.max()}"
        )
    return array


def _ks(value, available: int) -> tuple[int, ...] | int:
    """``k`` as an int (or a tuple of ints) in ``[1, available]``; ``None`` means ``available``."""
    if value is None:
        return available
    if isinstance(value, (tuple, list)):
        if not value:
            raise ValueError(
                f"Expected `k` to be an integer or a non-empty tuple of them. Received: k={value!r}"
            )
        return tuple(_k(item, available) for item in value)
    return _k(value, available)


def _k(value, available: int) -> int:
    k = validation.check_int("k", value, 1, MAX_K)
    if k > available:
        raise ValueError(
            f"Expected `k` to be at most {available}, the number of neighbours given. Received: k={k}"
        )
    return k


# --------------------------------------------------------------------------- descriptors


def block_descriptors(
    model,
    images,
    layer_names: Sequence[str],
    pooling: str = "avg",
    batch_size: int = 128,
    preprocess: Callable | None = None,
) -> dict[str, np.ndarray]:
    """One descriptor per image for each chosen layer: its feature maps pooled over the image.

    Introduced in: book/15_descriptors_transfer.ipynb

    Reference:
        A. Babenko, A. Slesarev, A. Chigorin and V. Lempitsky, *Neural Codes
        for Image Retrieval*, ECCV 2014; A. Sharif Razavian, H. Azizpour,
        J. Sullivan and S. Carlsson, *CNN Features off-the-shelf*, CVPRW 2014.

    One Keras model is built on the layers of ``model``, with each chosen
    layer's output, already pooled, as an output (layers checked and found as
    :func:`coursepkg.visualize.feature_maps` does). It runs batch by batch, so
    that only one batch of feature maps exists at a time, and the pooled
    vectors are written into the result: the memory needed is that of the
    descriptors plus one batch.

    Args:
        model: a built Functional or Sequential ``keras.Model``, e.g.
            ``keras.applications.VGG16(include_top=False)``.
        images: ``(n, height, width, channels)`` array of the size the model
            takes (uint8 or float), already preprocessed unless ``preprocess``
            is given.
        layer_names: names of layers that output feature maps
            ``(batch, height, width, channels)``, e.g. ``["block3_pool", "block5_pool"]``.
        pooling: ``"avg"`` (mean over the positions of each channel),
            ``"max"`` (its largest value) or ``"flatten"`` (no pooling: every
            position of every channel, ``height * width * channels`` values).
        batch_size: images per forward pass, an integer in [1, 10,000].
        preprocess: function from a float32 NumPy batch (a copy: it may be
            changed in place) to the model's input, e.g.
            ``keras.applications.vgg16.preprocess_input``; ``None`` feeds
            the images as they are (as float32).

    Returns:
        ``{layer_name: descriptors}`` in the order asked, each a float32 array
        ``(n, channels)`` (``(n, height * width * channels)`` for ``"flatten"``).

    Raises:
        TypeError: ``model`` is not a Keras model, ``layer_names`` is not a
            list of strings, ``images`` are not real numbers, ``batch_size`` is
            not an integer, ``preprocess`` is not callable.
        ValueError: an unknown layer (the message lists the model's layers), a
            layer without feature maps, no or repeated names, a model with
            several inputs, images of the wrong shape or with NaN, an unknown
            ``pooling``, ``batch_size`` out of [1, 10000].

    Example:
        >>> vgg = keras.applications.VGG16(include_top=False, input_shape=(32, 32, 3))
        >>> codes = block_descriptors(vgg, x_train, ["block5_pool"],
        ...                           preprocess=keras.applications.vgg16.preprocess_input)
        >>> codes["block5_pool"].shape
        (50000, 512)
    """
    import keras

    from coursepkg.visualize import _feature_layer, _model_input

    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected `model` to be a keras.Model. Received: model={model!r}")
    if (
        isinstance(layer_names, (str, bytes))
        or not isinstance(layer_names, Sequence)
        or not all(isinstance(name, str) for name in layer_names)
    ):
        raise TypeError(
            "Expected `layer_names` to be a non-empty list of layer names (strings). "
            f"Received: layer_names={layer_names!r:.80}"
        )
    if not layer_names:
        raise ValueError(
            "Expected `layer_names` to name at least one layer. Received: layer_names=[]"
        )
    if len(set(layer_names)) != len(layer_names):
        raise ValueError(
            f"Expected `layer_names` to name each layer once. Received: layer_names={list(layer_names)!r}"
        )
    layers = [_feature_layer(model, name, "layer_names") for name in layer_names]
    pooling = validation.check_choice("pooling", pooling, POOLINGS)
    batch_size = validation.check_int("batch_size", batch_size, 1, MAX_BATCH_SIZE)
    if preprocess is not None and not callable(preprocess):
        raise TypeError(
            f"Expected `preprocess` to be None or a function. Received: preprocess={preprocess!r}"
        )
    images = _array("images", images, 4, "a batch of images (n, height, width, channels)")
    if len(model.inputs) != 1:
        raise ValueError(
            f"Expected `model` to take one input (images). Received: a model with "
            f"{len(model.inputs)} inputs"
        )
    expected = tuple(model.inputs[0].shape[1:])  # (height, width, channels), None where any size
    if any(size is not None and size != given for size, given in zip(expected, images.shape[1:])):
        raise ValueError(
            f"Expected `images` to fit the input of model {model.name!r}, (n, "
            f"{', '.join(str(size) for size in expected)}). Received: images with shape {images.shape}"
        )

    pool = {
        "avg": keras.layers.GlobalAveragePooling2D,
        "max": keras.layers.GlobalMaxPooling2D,
        "flatten": keras.layers.Flatten,
    }[pooling]
    extractor = keras.Model(
        _model_input(model),
        [
            pool(dtype="float32", name=f"{layer.name}_{pooling}_descriptor")(layer.output)
            for layer in layers
        ],
        name=f"{model.name}_descriptors",
    )

    results: dict[str, np.ndarray] = {}
    for start in range(0, len(images), batch_size):
        batch = np.array(images[start : start + batch_size], dtype=np.float32)  # a copy
        if preprocess is not None:
            batch = preprocess(batch)
        outputs = extractor.predict_on_batch(batch)  # per layer: (batch, channels)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        for name, output in zip(layer_names, outputs):
            pooled = np.asarray(keras.ops.convert_to_numpy(output), dtype=np.float32)
            if name not in results:  # sizes known once the first batch is through
                results[name] = np.empty((len(images), pooled.shape[1]), dtype=np.float32)
            results[name][start : start + len(pooled)] = pooled
    return results


# --------------------------------------------------------------------------- nearest neighbours


def nearest_neighbours(
    queries,
    database,
    k: int,
    metric: str = "l2",
    exclude_self: bool = False,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` database vectors closest to each query, nearest first, by brute force.

    Introduced in: book/15_descriptors_transfer.ipynb

    Distances are computed in float64, a block of queries at a time against
    tiles of the database, so that memory stays bounded (about 128 MiB of
    distances per block, whatever the sizes: 10,000 queries against 50,000
    vectors never make a 10,000 x 50,000 array). Metrics, as scikit-learn's
    ``NearestNeighbors(metric=...)`` defines them:

    - ``"l2"``: Euclidean distance ``sqrt(sum((q - d) ** 2))``, computed as
      ``|q|^2 - 2 q.d + |d|^2`` with one matrix product per block;
    - ``"l1"``: Manhattan distance ``sum(|q - d|)``, with
      ``scipy.spatial.distance.cdist`` on every core (no matrix product
      computes it: 2,000 queries against 10,000 vectors of 3,072 values take
      about 36 s of CPU time, against about 5 s for L2);
    - ``"cosine"``: ``1 - q.d / (|q| |d|)``, in [0, 2]; a zero vector is at
      distance 1 from everything.

    Ties: of equal distances (as computed), the lower database index comes first.

    Args:
        queries: ``(n_queries, dim)`` array of integers or finite floats.
        database: ``(n_database, dim)`` array of integers or finite floats.
        k: neighbours per query, an integer in [1, 10,000], at most
            ``n_database`` (``n_database - 1`` with ``exclude_self``).
        metric: ``"l2"``, ``"l1"`` or ``"cosine"``.
        exclude_self: ``True`` when the queries are the database itself
            (leave-one-out retrieval): query ``i`` is database item ``i`` and is
            not its own neighbour, even where other items are identical to it.
        chunk_size: queries per block, an integer in [1, 1,000,000]; ``None``
            chooses it from the memory budget.

    Returns:
        ``(indices, distances)``: int64 ``(n_queries, k)`` indices into
        ``database`` and float64 ``(n_queries, k)`` distances, nearest first.

    Raises:
        TypeError: arrays not of numbers, ``k`` or ``chunk_size`` not an
            integer, ``exclude_self`` not a boolean.
        ValueError: arrays of the wrong rank, of different widths, with NaN or
            infinities; ``k`` out of range; an unknown metric; ``exclude_self``
            with queries that are not the database.

    Example:
        >>> indices, distances = nearest_neighbours(x_test, x_train, k=5, metric="l1")
        >>> indices.shape
        (10000, 5)
    """
    queries = _array("queries", queries, 2, "vectors (n_queries, dim)")
    database = _array("database", database, 2, "vectors (n_database, dim)")
    if queries.shape[1] != database.shape[1]:
        raise ValueError(
            "Expected `queries` and `database` to have the same number of columns. "
            f"Received: queries with shape {queries.shape}, database with shape {database.shape}"
        )
    metric = validation.check_choice("metric", metric, METRICS)
    exclude_self = validation.check_bool("exclude_self", exclude_self)
    if exclude_self and queries.shape != database.shape:
        raise ValueError(
            "Expected `queries` to be the database itself with exclude_self=True. Received: "
            f"queries with shape {queries.shape}, database with shape {database.shape}"
        )
    k = validation.check_int("k", k, 1, MAX_K)
    available = len(database) - int(exclude_self)
    if k > available:
        raise ValueError(
            f"Expected `k` to be at most {available}, the number of database vectors"
            f"{' other than the query' if exclude_self else ''}. Received: k={k}"
        )
    n_queries, n_database = len(queries), len(database)
    if chunk_size is None:  # as many queries as make _CHUNK_BYTES of distances
        chunk_size = min(n_queries, max(1, _CHUNK_BYTES // (8 * n_database)))
    else:
        chunk_size = validation.check_int("chunk_size", chunk_size, 1, MAX_CHUNK_SIZE)
    tile = max(1, _CHUNK_BYTES // (8 * database.shape[1]))  # database rows per float64 tile

    # Per database vector, what every block needs: squared norms (l2) or norms (cosine).
    database_norms = None
    if metric == "l2":
        database_norms = _squared_norms(database, tile)
    elif metric == "cosine":  # norms, with 1 for a zero vector (whose products are all 0)
        database_norms = np.sqrt(_squared_norms(database, tile))
        database_norms[database_norms == 0] = 1.0

    indices = np.empty((n_queries, k), dtype=np.int64)
    distances = np.empty((n_queries, k), dtype=np.float64)
    for start in range(0, n_queries, chunk_size):
        stop = min(start + chunk_size, n_queries)
        block = queries[start:stop].astype(np.float64, copy=False)  # (rows, dim)
        if exclude_self and not np.array_equal(block, database[start:stop]):
            raise ValueError(
                "Expected `queries` to be the database itself with exclude_self=True. "
                f"Received: queries that differ from it in rows {start} to {stop - 1}"
            )
        scores = _block_distances(block, database, metric, database_norms, tile)
        if exclude_self:
            rows = np.arange(stop - start)
            scores[rows, start + rows] = np.inf
        indices[start:stop], distances[start:stop] = _smallest(scores, k)
    if metric == "l2":
        np.sqrt(distances, out=distances)
    return indices, distances


def _block_distances(block, database, metric, database_norms, tile) -> np.ndarray:
    """Distances ``(rows, n_database)`` in float64 from a block of queries to every database vector.

    Squared for ``"l2"`` (the square root is taken of the k retained only); the
    database is read a tile of rows at a time, each converted to float64 in turn.
    """
    n_database = len(database)
    scores = np.empty((len(block), n_database), dtype=np.float64)  # (rows, n_database)
    tiles = [(first, min(first + tile, n_database)) for first in range(0, n_database, tile)]
    if metric == "l2":  # |q|^2 - 2 q.d + |d|^2
        block_norms = np.einsum("ij,ij->i", block, block)[:, np.newaxis]  # (rows, 1)
        for first, last in tiles:
            products = block @ database[first:last].astype(np.float64, copy=False).T
            products *= -2.0
            products += block_norms
            products += database_norms[first:last]
            scores[:, first:last] = products
        np.maximum(scores, 0.0, out=scores)  # rounding can leave -1e-13 where q == d
    elif metric == "cosine":  # 1 - (q / |q|).d / |d|
        block_norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        unit_block = block / np.where(block_norms > 0, block_norms, 1.0)[:, np.newaxis]
        for first, last in tiles:
            products = unit_block @ database[first:last].astype(np.float64, copy=False).T
            products /= database_norms[first:last]  # cosine similarities
            scores[:, first:last] = 1.0 - products
        np.clip(scores, 0.0, 2.0, out=scores)
    else:  # l1, in float64 as scikit-learn's manhattan_distances (which calls cdist too)
        from concurrent.futures import ThreadPoolExecutor

        from scipy.spatial.distance import cdist

        workers = os.cpu_count() or 1
        size = min(tile, -(-n_database // workers))  # at least one tile per core
        tiles = [(first, min(first + size, n_database)) for first in range(0, n_database, size)]

        def fill(bounds):  # cdist releases the GIL: the tiles run on all cores at once
            first, last = bounds
            scores[:, first:last] = cdist(block, database[first:last], metric="cityblock")

        with ThreadPoolExecutor(max_workers=min(workers, len(tiles))) as pool:
            list(pool.map(fill, tiles))
    return scores


def _squared_norms(vectors: np.ndarray, tile: int) -> np.ndarray:
    """Squared Euclidean norm of each row, in float64, a tile of rows at a time."""
    norms = np.empty(len(vectors), dtype=np.float64)
    for first in range(0, len(vectors), tile):
        rows = vectors[first : first + tile].astype(np.float64, copy=False)
        norms[first : first + tile] = np.einsum("ij,ij->i", rows, rows)
    return norms


def _smallest(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the ``k`` smallest entries of each row, smallest first.

    Ties go to the lower column: every entry up to the k-th smallest value is
    a candidate, and the candidates are sorted by (value, column).
    """
    rows, columns = scores.shape
    if k < columns:
        kth = np.partition(scores, k - 1, axis=1)[:, k - 1]  # (rows,)
        row, column = np.nonzero(scores <= kth[:, np.newaxis])  # row-major: at least k per row
    else:
        row, column = np.divmod(np.arange(rows * columns), columns)
    values = scores[row, column]
    order = np.lexsort((column, values, row))  # by row, then value, then column
    column, values = column[order], values[order]
    first = np.concatenate(([0], np.cumsum(np.bincount(row, minlength=rows))[:-1]))
    take = first[:, np.newaxis] + np.arange(k)  # (rows, k)
    return column[take].astype(np.int64), values[take]


# --------------------------------------------------------------------------- scores


def precision_at_k(
    neighbours,
    query_labels,
    k: int | Sequence[int] | None = None,
    database_labels=None,
) -> float | dict[int, float]:
    """Precision at k: the mean fraction of the first ``k`` retrieved items that share the query's class.

    Introduced in: book/15_descriptors_transfer.ipynb

    Args:
        neighbours: the classes of the retrieved items, ``(n_queries, K)``,
            nearest first; or, with ``database_labels``, their indices into the
            database (the ``indices`` of :func:`nearest_neighbours`).
        query_labels: the class of each query, ``(n_queries,)`` or
            ``(n_queries, 1)``. Class labels are integers in [0, 100,000).
        k: how many of the retrieved items count, an integer in [1, ``K``]
            (``K`` at most 10,000), or a tuple of such numbers; ``None``
            counts all ``K``.
        database_labels: the class of each database item, when ``neighbours``
            holds indices.

    Returns:
        The precision, a float in [0, 1], or ``{k: precision}`` for a tuple of ks.

    Raises:
        TypeError: labels or indices that are not integers, ``k`` not an integer.
        ValueError: arrays of the wrong shape, indices outside the database,
            labels outside [0, 100,000), ``k`` outside ``[1, K]``.

    Example:
        >>> precision_at_k([[0, 0, 1], [2, 1, 1]], [0, 1], k=(1, 3))
        {1: 0.5, 3: 0.6666666666666666}
    """
    retrieved = _neighbour_labels(neighbours, database_labels)  # (n_queries, K)
    truth = _labels("query_labels", query_labels, len(retrieved))
    ks = _ks(k, retrieved.shape[1])
    hits = retrieved == truth[:, np.newaxis]  # (n_queries, K)
    hits_so_far = np.cumsum(hits, axis=1)  # (n_queries, K): hits among the first j + 1
    sizes = ks if isinstance(ks, tuple) else (ks,)
    scores = {size: float(hits_so_far[:, size - 1].mean() / size) for size in sizes}
    return scores if isinstance(ks, tuple) else scores[ks]


def knn_predict(neighbours, k: int | None = None, database_labels=None) -> np.ndarray:
    """The class of each query by a majority vote of its ``k`` nearest neighbours.

    Introduced in: book/15_descriptors_transfer.ipynb

    A tie between classes goes to the class of the nearest neighbour among
    the tied ones (scikit-learn's ``KNeighborsClassifier`` gives it to the
    lowest class index instead; with ``k=1`` both are the nearest neighbour's class).

    Args:
        neighbours: classes of the retrieved items ``(n_queries, K)``, nearest
            first, or their indices into the database with ``database_labels``.
        k: how many neighbours vote (at most ``K``); ``None``: all ``K``.
        database_labels: the class of each database item, when ``neighbours``
            holds indices.

    Returns:
        ``(n_queries,)`` array of predicted classes, of the labels' dtype.

    Example:
        >>> knn_predict([[3, 1, 1], [3, 1, 2]])
        array([1, 3])
    """
    retrieved = _neighbour_labels(neighbours, database_labels)  # (n_queries, K)
    k = _k(k, retrieved.shape[1]) if k is not None else retrieved.shape[1]
    return _vote(retrieved[:, :k])


def _vote(retrieved: np.ndarray) -> np.ndarray:
    """Majority class of each row, ties to the class that appears first (the nearest)."""
    n_queries, k = retrieved.shape
    classes, codes = np.unique(retrieved, return_inverse=True)
    codes = codes.reshape(n_queries, k)  # class codes 0 .. len(classes) - 1
    keys = np.arange(n_queries)[:, np.newaxis] * len(classes) + codes  # (query, class) pairs
    _, pair, counts = np.unique(keys, return_inverse=True, return_counts=True)
    votes = counts[pair.reshape(n_queries, k)]  # (n_queries, k): votes for each item's class
    best = votes == votes.max(axis=1, keepdims=True)  # (n_queries, k)
    winner = np.argmax(best, axis=1)  # the first, that is the nearest, of the best
    return retrieved[np.arange(n_queries), winner]


def knn_accuracy(
    neighbours,
    query_labels,
    k: int | Sequence[int] | None = None,
    database_labels=None,
) -> float | dict[int, float]:
    """Accuracy of the k-nearest-neighbour classifier: how often :func:`knn_predict` is right.

    Introduced in: book/15_descriptors_transfer.ipynb

    With ``k=1``, the L1 distance and CIFAR-10 pixels (50,000 training images
    as the database, the 10,000 test images as queries) this is the baseline
    of the cs231n notes, 38.6% (35.4% with L2).

    Args:
        neighbours: classes of the retrieved items ``(n_queries, K)``, nearest
            first, or their indices into the database with ``database_labels``.
        query_labels: the true class of each query, ``(n_queries,)`` or ``(n_queries, 1)``.
        k: how many neighbours vote (at most ``K``), or a tuple of such numbers;
            ``None``: all ``K``.
        database_labels: the class of each database item, when ``neighbours``
            holds indices.

    Returns:
        The accuracy in [0, 1], or ``{k: accuracy}`` for a tuple of ks.

    Example:
        >>> indices, _ = nearest_neighbours(x_test, x_train, k=10, metric="l1")
        >>> knn_accuracy(indices, y_test, k=(1, 5, 10), database_labels=y_train)
    """
    retrieved = _neighbour_labels(neighbours, database_labels)  # (n_queries, K)
    truth = _labels("query_labels", query_labels, len(retrieved))
    ks = _ks(k, retrieved.shape[1])
    sizes = ks if isinstance(ks, tuple) else (ks,)
    scores = {size: float(np.mean(_vote(retrieved[:, :size]) == truth)) for size in sizes}
    return scores if isinstance(ks, tuple) else scores[ks]


# --------------------------------------------------------------------------- figure


def plot_retrieval(
    query_images,
    database_images,
    indices,
    query_labels=None,
    database_labels=None,
    class_names: Sequence[str] | None = None,
    k: int | None = None,
    cell_size: float = 1.1,
    title: str | None = None,
):
    """Queries and what they retrieved: one row per query, the query first, then its neighbours.

    Introduced in: book/15_descriptors_transfer.ipynb

    With labels, each neighbour is framed green when it shares the query's
    class and red when not, and titled with its class.

    Args:
        query_images: ``(n_queries, height, width[, channels])``, uint8 or
            finite floats (shown as :func:`coursepkg.plot_images` shows them),
            at most 100 queries.
        database_images: ``(n_database, height, width[, channels])``.
        indices: ``(n_queries, K)`` indices into ``database_images``, nearest
            first (from :func:`nearest_neighbours`).
        query_labels: ``None`` or the class of each query (then also
            ``database_labels``), integers in [0, 100,000).
        database_labels: ``None`` or the class of each database image.
        class_names: a list of strings, the names of the class indices
            (default: the indices).
        k: neighbours shown per query, an integer in [1, ``K``] (default: all
            ``K``); the figure holds at most 1,000 images, ``n_queries * (1 + k)``.
        cell_size: width and height of one image, in inches, in (0, 10].
        title: figure title, at most 1,000 characters.

    Raises:
        TypeError: arrays or names of the wrong type.
        ValueError: arrays of the wrong shape, indices or labels out of range,
            a figure of more than 1,000 images, numbers out of range.

    Returns:
        The Figure: ``n_queries`` rows of ``1 + k`` Axes, the query in the first column.

    Example:
        >>> indices, _ = nearest_neighbours(codes_test[:5], codes_train, k=8)
        >>> fig = plot_retrieval(x_test[:5], x_train, indices, y_test[:5], y_train,
        ...                      class_names=CIFAR10_CLASSES)
    """
    import matplotlib.pyplot as plt

    from coursepkg.plotting import _displayable

    queries = _images("query_images", query_images)
    database = _images("database_images", database_images)
    if len(queries) > MAX_PLOTTED_QUERIES:
        raise ValueError(
            f"Expected at most {MAX_PLOTTED_QUERIES} `query_images` in one figure. "
            f"Received: {len(queries)}; pass a slice"
        )
    indices = _indices("indices", indices, len(database), "database_images")
    if len(indices) != len(queries):
        raise ValueError(
            f"Expected `indices` to have one row per query image ({len(queries)}). "
            f"Received: indices with shape {indices.shape}"
        )
    k = _k(k, indices.shape[1]) if k is not None else indices.shape[1]
    if len(queries) * (1 + k) > MAX_PLOTTED_PANELS:
        raise ValueError(
            f"Expected at most {MAX_PLOTTED_PANELS:,} images in one figure, `query_images` times "
            f"(1 + `k`). Received: {len(queries)} queries and k={k}; "
            "pass fewer queries or a smaller k"
        )
    if (query_labels is None) != (database_labels is None):
        raise ValueError(
            "Expected both `query_labels` and `database_labels`, or neither. Received: "
            f"query_labels is {'None' if query_labels is None else 'given'}, "
            f"database_labels is {'None' if database_labels is None else 'given'}"
        )
    labelled = query_labels is not None
    if labelled:
        truth = _labels("query_labels", query_labels, len(queries))
        retrieved = _labels("database_labels", database_labels)
        if len(retrieved) != len(database):
            raise ValueError(
                f"Expected `database_labels` to have one label per database image ({len(database)}). "
                f"Received: database_labels with {len(retrieved)} labels"
            )
        retrieved = retrieved[indices[:, :k]]  # (n_queries, k)
    if class_names is not None and (
        isinstance(class_names, (str, bytes))
        or not isinstance(class_names, Sequence)
        or not all(isinstance(name, str) for name in class_names)
    ):
        raise TypeError(
            "Expected `class_names` to be a list of names (strings). "
            f"Received: class_names={class_names!r:.80}"
        )
    if class_names is not None and labelled:
        largest = int(max(truth.max(), retrieved.max()))
        if truth.min() < 0 or retrieved.min() < 0 or len(class_names) <= largest:
            raise ValueError(
                f"Expected `class_names` to name every class index up to {largest}. "
                f"Received: {len(class_names)} names"
            )
    cell_size = validation.check_float("cell_size", cell_size, 0.0, 10.0, low_inclusive=False)
    if title is not None:
        title = validation.check_str("title", title)

    def name(label) -> str:
        return str(class_names[label]) if class_names is not None else str(label)

    nrows, ncols = len(queries), 1 + k
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(cell_size * ncols, cell_size * nrows + 0.4), squeeze=False
    )
    for row in range(nrows):
        for column in range(ncols):
            ax = axes[row, column]
            ax.set_xticks([])
            ax.set_yticks([])
            image = queries[row] if column == 0 else database[indices[row, column - 1]]
            pixels, options = _displayable(image)
            ax.imshow(pixels, **options)
            if column == 0:
                ax.set_title(
                    f"query: {name(truth[row])}" if labelled else "query", fontsize="x-small"
                )
                ax.set_ylabel(f"#{row}", fontsize="small")
            elif labelled:
                label = retrieved[row, column - 1]
                colour = RIGHT_FRAME_COLOUR if label == truth[row] else WRONG_FRAME_COLOUR
                for spine in ax.spines.values():
                    spine.set_edgecolor(colour)
                    spine.set_linewidth(3.0)
                ax.set_title(name(label), fontsize="x-small", color=colour)
            else:
                ax.set_title(f"{column}", fontsize="x-small")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _images(name: str, value) -> np.ndarray:
    """Images ``(n, height, width)`` from ``(n, height, width[, 1 or 3])``, integers or finite floats."""
    array = validation.check_array(
        name, value, dtype="number", allow_empty=True, finite=False
    )
    shape = array.shape
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if 0 in array.shape or not (array.ndim == 3 or (array.ndim == 4 and array.shape[-1] == 3)):
        raise ValueError(
            f"Expected `{name}` to be images (n, height, width), (n, height, width, 1) or "
            f"(n, height, width, 3). Received: {name} with shape {shape}"
        )
    if array.dtype.kind == "f" and _count_non_finite(array):
        raise ValueError(
            f"Expected `{name}` to hold finite values. Received: {name} with NaN or infinite values"
        )
    return array
