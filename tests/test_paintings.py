"""Tests of coursepkg.paintings: the real files (staged and through the download path), refusals, fallbacks.

References: the published files in ../shared/data/paintings and the sha256 table of
../shared/data/README.md, hashlib, and PIL's own decoding of the files.
"""

from __future__ import annotations

import hashlib
import pathlib
import re

import numpy as np
import pytest
from PIL import Image

from coursepkg import downloads, paintings
from coursepkg.paintings import PAINTINGS, PaintingFileError, generated_texture, load_painting


@pytest.fixture(autouse=True)
def no_staged_folder(monkeypatch):
    """No staged folder from the caller's environment (the Makefile sets one)."""
    monkeypatch.delenv(paintings.PAINTINGS_DIR_ENV_VAR, raising=False)


def decoded(path: pathlib.Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_hashes_and_sizes_are_those_of_the_shared_readme(paintings_dir):
    readme = (paintings_dir.parent / "README.md").read_text(encoding="utf-8")
    for painting in PAINTINGS.values():
        row = re.search(rf"^\| `{re.escape(painting.file_name)}` \|.*$", readme, re.MULTILINE)
        assert row, f"{painting.file_name} is not in the README's table"
        assert f"`{painting.sha256}`" in row.group(0)
        height, width = painting.size
        assert f"| {width}x{height} |" in row.group(0)  # the README gives width x height


def test_staged_real_files_are_accepted(offline, paintings_dir, monkeypatch, capsys):
    monkeypatch.setenv(paintings.PAINTINGS_DIR_ENV_VAR, str(paintings_dir))
    for name, painting in PAINTINGS.items():
        path = paintings_dir / painting.file_name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == painting.sha256
        image = load_painting(name)
        assert image.dtype == np.uint8 and image.shape == painting.size + (3,)
        np.testing.assert_array_equal(image, decoded(path))
        out = capsys.readouterr().out
        assert str(path) in out and "sha256 checked" in out and painting.credit in out
        assert "FALLBACK" not in out
    assert "Andreas Praefcke, CC BY 3.0" in PAINTINGS["tuebingen"].credit


def test_max_side_shrinks_keeping_the_aspect_ratio(offline, paintings_dir, monkeypatch):
    monkeypatch.setenv(paintings.PAINTINGS_DIR_ENV_VAR, str(paintings_dir))
    assert load_painting("tuebingen", max_side=200).shape == (150, 200, 3)  # 600x800
    assert load_painting("skrik", max_side=100).shape == (100, 72, 3)  # 800x576
    assert load_painting("starry_night", max_side=4096).shape == (448, 576, 3)  # never enlarged


def test_a_staged_file_with_another_hash_is_refused(offline, tmp_path, monkeypatch):
    garbage = b"not the painting"
    (tmp_path / "starry_night.jpg").write_bytes(garbage)
    monkeypatch.setenv(paintings.PAINTINGS_DIR_ENV_VAR, str(tmp_path))
    with pytest.raises(PaintingFileError) as caught:
        load_painting("starry_night")
    message = str(caught.value)
    assert str(tmp_path / "starry_night.jpg") in message
    assert PAINTINGS["starry_night"].sha256 in message
    assert hashlib.sha256(garbage).hexdigest() in message
    with pytest.raises(PaintingFileError):  # refused even when a fallback is allowed
        load_painting("starry_night", fallback=True)


def test_the_download_path_checks_the_hash_and_caches(offline, paintings_dir, monkeypatch, capsys):
    """The online route, pointed at the shared copy through a file:// URL (no network needed)."""
    monkeypatch.setattr(paintings, "BASE_URL", paintings_dir.as_uri() + "/")
    image = load_painting("skrik")
    cached = offline / paintings.CACHE_SUBDIR / "skrik.jpg"
    assert cached.is_file() and hashlib.sha256(cached.read_bytes()).hexdigest() == PAINTINGS["skrik"].sha256
    assert image.shape == (800, 576, 3)
    assert "in Keras's cache" in capsys.readouterr().out


def test_the_real_url_names_the_commit_and_the_images_folder():
    assert paintings.BASE_URL == (
        "https://raw.githubusercontent.com/andersbll/neural_artistic_style/"
        "94b21acca47db89a06b095c48f0c3c69d424144b/images/"
    )


def test_a_download_with_another_hash_is_refused_and_not_kept(offline, tmp_path, monkeypatch, capsys):
    (tmp_path / "tuebingen.jpg").write_bytes(b"another photograph")
    monkeypatch.setattr(paintings, "BASE_URL", tmp_path.as_uri() + "/")
    with pytest.raises(downloads.DownloadError):
        load_painting("tuebingen", fallback=False)
    assert not (offline / paintings.CACHE_SUBDIR / "tuebingen.jpg").exists()
    image = load_painting("tuebingen")
    assert "FALLBACK" in capsys.readouterr().out and image.dtype == np.uint8


def test_offline_fallbacks_are_announced(offline, capsys):
    photograph = load_painting("tuebingen")
    out = capsys.readouterr().out
    assert "FALLBACK" in out and "chelsea" in out and "NOT the Neckarfront in Tübingen" in out
    assert photograph.dtype == np.uint8 and photograph.ndim == 3 and photograph.shape[-1] == 3
    painting = load_painting("starry_night", max_side=64)
    out = capsys.readouterr().out
    assert "FALLBACK" in out and "generated_texture('swirls')" in out and "NOT Vincent van Gogh" in out
    assert painting.shape == (50, 64, 3) and painting.dtype == np.uint8
    np.testing.assert_array_equal(painting, generated_texture("swirls", (50, 64)))


def test_offline_without_fallback_raises(offline):
    with pytest.raises(downloads.DownloadError):
        load_painting("skrik", fallback=False)


def test_a_staged_folder_without_the_file_falls_through(offline, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(paintings.PAINTINGS_DIR_ENV_VAR, str(tmp_path))
    load_painting("skrik", max_side=32)
    assert "skrik.jpg is not in $COURSEPKG_PAINTINGS_DIR" in capsys.readouterr().out


def test_generated_textures_are_reproducible_and_differ():
    swirls = generated_texture("swirls", (40, 60), seed=1)
    assert swirls.shape == (40, 60, 3) and swirls.dtype == np.uint8
    np.testing.assert_array_equal(swirls, generated_texture("swirls", (40, 60), seed=1))
    assert not np.array_equal(swirls, generated_texture("swirls", (40, 60), seed=2))
    waves = generated_texture("waves", (60, 40))
    assert waves.shape == (60, 40, 3) and waves.std() > 10  # not a flat colour
    # the waves are orange above and blue below, as the palette says
    assert waves[:10, :, 0].mean() > waves[:10, :, 2].mean() and waves[-10:, :, 2].mean() > waves[-10:, :, 0].mean()


@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda: load_painting("mona_lisa"), ValueError, "name"),
        (lambda: load_painting(3), TypeError, "name"),
        (lambda: load_painting("skrik", max_side=8), ValueError, "max_side"),
        (lambda: load_painting("skrik", max_side=64.0), TypeError, "max_side"),
        (lambda: load_painting("skrik", fallback="no"), TypeError, "fallback"),
        (lambda: generated_texture("dots"), ValueError, "kind"),
        (lambda: load_painting("skrik", max_side=10**6), ValueError, "max_side"),
        (lambda: load_painting("skrik", max_side=float("nan")), TypeError, "max_side"),
        (lambda: generated_texture("dots"), ValueError, "kind"),
        (lambda: generated_texture(3), TypeError, "kind"),
        (lambda: generated_texture("waves", (10, 100)), ValueError, "size"),
        (lambda: generated_texture("waves", (10**6, 10**6)), ValueError, "size"),
        (lambda: generated_texture("waves", (64.0, 64)), TypeError, "size"),
        (lambda: generated_texture("waves", (64, 64, 3)), ValueError, "size"),
        (lambda: generated_texture("waves", 100), TypeError, "size"),
        (lambda: generated_texture("waves", seed=-1), ValueError, "seed"),
        (lambda: generated_texture("waves", seed=1.5), TypeError, "seed"),
    ],
)
def test_bad_arguments_name_themselves(call, error, name):
    with pytest.raises(error, match=f"`{name}`"):
        call()


def test_generated_texture_accepts_numpy_integers():
    assert generated_texture("waves", (np.int64(20), np.int32(24)), seed=np.uint8(3)).shape == (20, 24, 3)


@pytest.mark.parametrize("where", ["missing", "a_file"])
def test_a_variable_naming_a_missing_folder_is_an_error(offline, tmp_path, monkeypatch, where):
    """A staged folder that is not there used to be skipped without a word."""
    target = tmp_path / "no-such-folder"
    if where == "a_file":
        target.write_bytes(b"not a folder")
    monkeypatch.setenv(paintings.PAINTINGS_DIR_ENV_VAR, str(target))
    with pytest.raises(downloads.DataFileError) as caught:
        load_painting("skrik", max_side=32)
    message = str(caught.value)
    assert f"${paintings.PAINTINGS_DIR_ENV_VAR}={target}" in message and "unset" in message
    assert ("does not exist" if where == "missing" else "is not a folder") in message


@pytest.mark.parametrize("name", ["skrik", "starry_night"])
def test_the_smallest_max_side_works_offline(offline, name):
    """max_side=16 used to ask generated_texture for a side under 16 (skrik: 16x12)."""
    painting = load_painting(name, max_side=16)
    height, width = PAINTINGS[name].size
    assert max(painting.shape[:2]) == 16 and painting.dtype == np.uint8
    assert painting.shape[:2] == (round(height * 16 / max(height, width)), round(width * 16 / max(height, width)))
