"""Fuzzing (see tests/fuzzing.py): image datasets, downloads and the style-transfer images.

Every bad call here must fail in the argument checks, before anything is downloaded,
decoded or generated: the valid values below would otherwise reach the network or the disk
(``fetch``'s origin is a missing file:// URL, so even then nothing leaves the machine).
"""

from __future__ import annotations

import pathlib
import tempfile

import fuzzing
import numpy as np
import pytest
from fuzzing import Case
from hypothesis import strategies as st

from coursepkg import data, downloads, paintings

_bad_strings = st.sampled_from([1, 2.5, None, b"x", ["a"]])

# A file path: a str or os.PathLike, non-empty, at most 4,096 characters, without NUL bytes.
fuzzing.KINDS["data_path"] = st.one_of(
    _bad_strings, st.just(object()), st.sampled_from(["", "a\0b", "x" * 5000])
)
# A plain file name inside the cache: no folder, not "." or "..", at most 255 characters.
fuzzing.KINDS["data_file_name"] = st.one_of(
    _bad_strings, st.sampled_from(["", " ", ".", "..", "a/b", "..\\a", "a\0b", "x" * 256])
)
# A URL urllib can fetch (https, http, ftp, file).
fuzzing.KINDS["data_url"] = st.one_of(
    _bad_strings,
    st.sampled_from(["", "payload.bin", "/an/absolute/path", "gopher://host/x", "https://", "http://a b", "x" * 5000]),
)
# A hex digest: 64 digits (SHA-256) or 32 (MD5).
fuzzing.KINDS["data_hash"] = st.one_of(
    _bad_strings, st.sampled_from(["", "abc", "g" * 64, "a" * 63, "a" * 33, "a" * 65, "a" * 100_001])
)
# A relative folder inside the Keras cache.
fuzzing.KINDS["data_subdir"] = st.one_of(
    _bad_strings, st.sampled_from(["", " ", "..", "/tmp", "a/../../b", "a\\b", "a\0b", "x" * 5000])
)
# A non-empty dict of identifiers to NumPy arrays without Python objects.
fuzzing.KINDS["data_arrays"] = st.one_of(
    _bad_strings,
    st.sampled_from([
        {}, [np.zeros(2)], {"x": [1, 2]}, {"": np.zeros(2)}, {3: np.zeros(2)}, {"file": np.zeros(2)},
        {"x": np.array([1, None], dtype=object)},
    ]),
)  # fmt: skip

_EXISTING_FILE = __file__  # a real file, so that only the fuzzed argument is wrong
_NEVER_WRITTEN = str(pathlib.Path(tempfile.gettempdir()) / "coursepkg-fuzz-never-written.npz")
_NO_ORIGIN = "file:///nonexistent/coursepkg-fuzz/never-fetched.bin"
_TOY = data.ImageDataset(
    "toy", np.zeros((12, 4, 4), np.uint8), np.arange(12) % 10, np.zeros((6, 4, 4), np.uint8),
    np.arange(6) % 10, data.MNIST_CLASSES, "zeros", True,
)  # fmt: skip

CASES = [
    # coursepkg.data
    Case(_TOY.subset, kinds={"seed": "seed"}),
    Case(data.read_idx, kinds={"path": "data_path"}),
    Case(data.digits_as_mnist, kinds={"seed": "seed"}),
    Case(data.make_shapes, {"n_images": 10}, kinds={"n_images": "int", "seed": "seed"}),
    Case(data.read_cifar10_jpeg, {"archive": _EXISTING_FILE}, kinds={"archive": "data_path"}),
    Case(data.load_cifar10_jpeg, {"archive": _EXISTING_FILE}, kinds={"archive": "data_path"}),
    Case(data.load_mnist),
    Case(data.load_fashion_mnist),
    Case(data.load_cifar10),
    Case(data.sample_image, {"name": "coffee"}, kinds={"name": "choice"}),
    # coursepkg.downloads
    Case(downloads.cache_dir),
    Case(downloads.download_timeout),
    Case(downloads.hash_algorithm, kinds={"expected_hash": "data_hash"}),
    Case(downloads.fetch, {"fname": "never-fetched.bin", "origin": _NO_ORIGIN},
         kinds={"fname": "data_file_name", "origin": "data_url", "file_hash": "data_hash",
                "cache_subdir": "data_subdir", "verify": "callable"}),
    Case(downloads.keras_dataset, kinds={"name": "choice"}),
    Case(downloads.file_hash, {"path": _EXISTING_FILE}, kinds={"path": "data_path"}),
    Case(downloads.sha256_of_arrays),  # *arrays only: tested in tests/test_downloads.py
    Case(downloads.save_npz_atomically, {"path": _NEVER_WRITTEN, "arrays": {"x": np.zeros(2)}},
         kinds={"path": "data_path", "arrays": "data_arrays"}),
    # coursepkg.paintings
    Case(paintings.load_painting, {"name": "skrik"}, kinds={"name": "choice"}),
    Case(paintings.generated_texture, {"kind": "waves"}, kinds={"kind": "choice", "seed": "seed"}),
]  # fmt: skip

EXEMPT = {
    "coursepkg.data.ImageDataset": "a result record the loaders fill in (its length check: tests/test_data.py)",
    "coursepkg.downloads.DataFileError": "an exception class",
    "coursepkg.paintings.Painting": "a record of the table paintings.PAINTINGS",
}


@pytest.mark.parametrize("case", CASES, ids=fuzzing.case_ids(CASES))
def test_bad_arguments_are_refused_naming_them(case):
    fuzzing.fuzz(case)
