"""The images of the style-transfer chapter: two paintings and Gatys's photograph, checked by hash.

Introduced in: book/17_style_transfer.ipynb

:func:`load_painting` returns one of the three images that Gatys, Ecker and
Bethge (2015) made famous, as published in Anders Boesen Lindbo Larsen's
``neural_artistic_style`` repository (a fixed commit, so the bytes never
change):

* ``"starry_night"``: Vincent van Gogh, *The Starry Night*, 1889 (public domain);
* ``"skrik"``: Edvard Munch, *The Scream* (*Skrik*), 1893 (public domain);
* ``"tuebingen"``: the Neckarfront in Tübingen, photograph by Andreas Praefcke,
  CC BY 3.0 (the content image of the paper; credit the photographer).

It tries, in order:

1. **A staged folder**: ``$COURSEPKG_PAINTINGS_DIR`` holding the file under its
   published name (``starry_night.jpg``, ...). Its sha256 must be the one in
   :data:`PAINTINGS`; another file under that name is refused with an error
   that gives both hashes, and a variable naming a missing folder is an error
   that names it. The Makefile points the variable at
   ``../shared/data/paintings`` when that folder exists.
2. **Keras's cache, or a download** through :func:`coursepkg.downloads.fetch`
   from the repository's raw files at :data:`COMMIT`, with the same sha256.
3. **A visible fallback** (with ``fallback=True``, when both fail): for the
   photograph, scikit-image's photograph of Chelsea the cat (CC0), since any
   photograph serves as content; for a painting, a texture generated here
   (:func:`generated_texture`), since no painting ships with the installed
   packages. A printed line says that it is **not** the image asked for: style
   transfer then copies the style of the generated texture, not the painter's.

Every call prints one line with the image's source, credit and licence.
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np

from coursepkg import downloads, validation

PAINTINGS_DIR_ENV_VAR = "COURSEPKG_PAINTINGS_DIR"
REPOSITORY = "andersbll/neural_artistic_style"
COMMIT = "94b21acca47db89a06b095c48f0c3c69d424144b"
BASE_URL = f"https://raw.githubusercontent.com/{REPOSITORY}/{COMMIT}/images/"
CACHE_SUBDIR = "datasets/neural_artistic_style"  # inside Keras's cache (~/.keras or $KERAS_HOME)
MAX_SIDE = 4096  # largest `max_side` accepted
TEXTURE_MIN_SIDE = 16  # smallest side of generated_texture (and smallest `max_side`)


@dataclasses.dataclass(frozen=True)
class Painting:
    """One image of :func:`load_painting`, with what its licence asks to say about it."""

    file_name: str  # name in the repository's images/ folder and in a staged folder
    title: str  # what it is, for the printed line and captions
    credit: str  # author and licence: quote it wherever the image is shown
    size: tuple[int, int]  # (height, width) of the published file, in pixels
    sha256: str  # of the published file (../shared/data/README.md, checked against the repository)
    is_photograph: bool  # True: the content photograph; False: a painting (a style image)
    texture: str | None  # the generated_texture() kind that stands in for a painting offline


PAINTINGS = {
    "starry_night": Painting(
        file_name="starry_night.jpg",
        title="Vincent van Gogh, The Starry Night, 1889",
        credit="Vincent van Gogh (1853-1890), public domain",
        size=(448, 576),
        sha256="40c4a2dcce7ba517f9a07f2aa3db8fc06410a3d12080043e0dbd2cdab5ea7dd7",
        is_photograph=False,
        texture="swirls",
    ),
    "skrik": Painting(
        file_name="skrik.jpg",
        title="Edvard Munch, The Scream (Skrik), 1893",
        credit="Edvard Munch (1863-1944), public domain",
        size=(800, 576),
        sha256="b4605a0fc05f1bc302f79ef9e6e9803030bb5a33147c875f583bffa7faa6f1fa",
        is_photograph=False,
        texture="waves",
    ),
    "tuebingen": Painting(
        file_name="tuebingen.jpg",
        title="the Neckarfront in Tübingen, the content photograph of Gatys et al. (2015)",
        credit="photograph by Andreas Praefcke, CC BY 3.0 (creativecommons.org/licenses/by/3.0)",
        size=(600, 800),
        sha256="19ef82caae3b822cf2bae22585bace70e4567e5c3878d169351586142a0f5c48",
        is_photograph=True,
        texture=None,
    ),
}

FALLBACK_PHOTOGRAPH = "chelsea"  # coursepkg.sample_image name: Chelsea the cat, CC0
TEXTURES = ("swirls", "waves")


class PaintingFileError(downloads.DataFileError):
    """A staged image whose sha256 is not the published file's: refused, never used."""


def _staged(painting: Painting) -> tuple[pathlib.Path | None, str]:
    """The verified staged file, or ``None`` and why there is none."""
    folder = downloads._environment_path(PAINTINGS_DIR_ENV_VAR, "folder")  # raises when it is missing
    if folder is None:
        return None, f"${PAINTINGS_DIR_ENV_VAR} is not set"
    path = folder / painting.file_name
    if not path.is_file():
        return None, f"{painting.file_name} is not in ${PAINTINGS_DIR_ENV_VAR}={folder}"
    found = downloads.file_hash(path)
    if found != painting.sha256:
        raise PaintingFileError(
            f"Refused {path}: its sha256 is {found}, expected {painting.sha256} (the file published "
            f"in {REPOSITORY} at commit {COMMIT[:12]}). It is damaged or another image under this "
            f"name; replace it, or unset ${PAINTINGS_DIR_ENV_VAR} to download the file."
        )
    return path, ""


def _decode(path: pathlib.Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)  # (height, width, 3)


def _shrink(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """Resize (Lanczos) so that the longer side is at most ``max_side``; never enlarges."""
    height, width = image.shape[:2]
    if max_side is None or max(height, width) <= max_side:
        return image
    from PIL import Image

    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL: (width, height)
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS), dtype=np.uint8)


def load_painting(name: str, max_side: int | None = None, fallback: bool = True) -> np.ndarray:
    """One of the style-transfer images of Gatys et al. (2015), hash-checked, as a uint8 RGB array.

    Introduced in: book/17_style_transfer.ipynb

    Reference:
        L. A. Gatys, A. S. Ecker and M. Bethge, [A Neural Algorithm of Artistic
        Style](https://arxiv.org/abs/1508.06576), 2015 (figure 2: the Tübingen
        photograph in the styles of *The Starry Night* and *The Scream*); the
        files of github.com/andersbll/neural_artistic_style at :data:`COMMIT`.

    Order of attempts: the staged folder ``$COURSEPKG_PAINTINGS_DIR``, Keras's
    cache or a download (both sha256-checked), then, with ``fallback=True``, a
    stand-in that the printed line names as such (see the module's docstring).

    Args:
        name: ``"starry_night"``, ``"skrik"`` or ``"tuebingen"`` (a key of :data:`PAINTINGS`).
        max_side: when given, the image is shrunk (Lanczos, aspect ratio kept)
            so that its longer side is at most this many pixels (16 to 4096);
            it is never enlarged. ``None``: the published size.
        fallback: when ``False``, raise instead of returning a stand-in.

    Returns:
        uint8 array ``(height, width, 3)``, RGB. One printed line gives its
        source, credit and licence (quote the credit wherever it is shown).

    Raises:
        ValueError: an unknown ``name`` or a bad ``max_side``.
        TypeError: ``max_side`` is not an integer or ``fallback`` not a boolean.
        PaintingFileError: the staged file's sha256 is not the published one
            (the message names the file and both hashes).
        DataFileError: ``$COURSEPKG_PAINTINGS_DIR`` names a missing folder (the
            message names the variable and the path).
        DownloadError: ``fallback=False`` and the image is neither staged nor downloadable.

    Example:
        >>> content = load_painting("tuebingen", max_side=256)
        [coursepkg] tuebingen: the Neckarfront in Tübingen, ... photograph by Andreas Praefcke, CC BY 3.0 ...
        >>> content.shape, content.dtype
        ((192, 256, 3), dtype('uint8'))
    """
    validation.check_str("name", name, max_length=100)
    validation.check_choice("name", name, tuple(PAINTINGS))
    if max_side is not None:
        max_side = validation.check_int("max_side", max_side, low=TEXTURE_MIN_SIDE, high=MAX_SIDE)
    fallback = validation.check_bool("fallback", fallback)
    painting = PAINTINGS[name]

    path, why_not_staged = _staged(painting)
    if path is not None:
        where = f"staged in ${PAINTINGS_DIR_ENV_VAR} ({path}), sha256 checked"
    else:
        try:
            path = downloads.fetch(
                painting.file_name,
                BASE_URL + painting.file_name,
                file_hash=painting.sha256,
                cache_subdir=CACHE_SUBDIR,
            )
        except downloads.DownloadError as error:
            if not fallback:
                raise
            # Keras's message ends in the cause, e.g. "... -- [Errno -2] Name or service not known".
            cause = str(error.__cause__ or error).rsplit(" -- ", 1)[-1][:120]
            return _fallback(name, painting, f"{why_not_staged}, and the download failed: {cause}", max_side)
        where = f"{REPOSITORY}@{COMMIT[:12]}, in Keras's cache ({path}), sha256 checked"
    image = _shrink(_decode(path), max_side)
    height, width = image.shape[:2]
    print(f"[coursepkg] {name}: {painting.title}; {painting.credit}. {painting.file_name} {where}; {height}x{width}.")
    return image


def _fallback(name: str, painting: Painting, reason: str, max_side: int | None) -> np.ndarray:
    """The stand-in for an image that could not be had, announced as such."""
    print(f"[coursepkg] {name}: {painting.title} is unavailable ({reason}).")
    if painting.is_photograph:
        from coursepkg.data import sample_image

        image = _shrink(sample_image(FALLBACK_PHOTOGRAPH), max_side)
        what = f"scikit-image's photograph {FALLBACK_PHOTOGRAPH!r} (Chelsea the cat, CC0)"
    else:
        height, width = painting.size
        scale = 1.0 if max_side is None else min(1.0, max_side / max(height, width))
        scale = max(scale, TEXTURE_MIN_SIDE / min(height, width))  # generated_texture's smallest side
        image = generated_texture(painting.texture, (round(height * scale), round(width * scale)))
        image = _shrink(image, max_side)  # only when the smallest side forced a larger texture
        what = f"generated_texture({painting.texture!r}), a texture of brush strokes made by coursepkg"
    height, width = image.shape[:2]
    print(
        f"[coursepkg] {name}: FALLBACK, using {what}, {height}x{width}: NOT {painting.title}. "
        f"Set ${PAINTINGS_DIR_ENV_VAR} to a folder holding {painting.file_name}, or run online."
    )
    return image


# --------------------------------------------------------------------------- generated textures


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a ``cells`` x ``cells`` random grid, smoothly interpolated."""
    height, width = shape
    grid = rng.random((cells + 2, cells + 2))
    rows = np.linspace(0.0, cells, height)[:, np.newaxis]  # (height, 1)
    columns = np.linspace(0.0, cells, width)[np.newaxis, :]  # (1, width)
    row0, column0 = np.floor(rows).astype(int), np.floor(columns).astype(int)
    fy, fx = rows - row0, columns - column0
    fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)  # smoothstep: no visible grid lines
    top = grid[row0, column0] * (1 - fx) + grid[row0, column0 + 1] * fx
    bottom = grid[row0 + 1, column0] * (1 - fx) + grid[row0 + 1, column0 + 1] * fx
    return top * (1 - fy) + bottom * fy  # (height, width)


def _brush_strokes(rng: np.random.Generator, angle: np.ndarray, length: int = 12) -> np.ndarray:
    """White noise smeared along the directions ``angle`` (line integral convolution), standardised."""
    height, width = angle.shape
    noise = rng.random((height, width))
    total = np.zeros((height, width))
    for sign in (1.0, -1.0):  # both ways along the stroke
        rows, columns = np.mgrid[0:height, 0:width].astype(float)
        for _ in range(length):
            row = np.clip(np.rint(rows).astype(int), 0, height - 1)
            column = np.clip(np.rint(columns).astype(int), 0, width - 1)
            total += noise[row, column]
            rows += sign * np.sin(angle[row, column])
            columns += sign * np.cos(angle[row, column])
    return (total - total.mean()) / (total.std() + 1e-12)


def _colour(values: np.ndarray, colours) -> np.ndarray:
    """Values in [0, 1] mapped through evenly spaced RGB colours (0-255), as floats in [0, 1]."""
    colours = np.asarray(colours, dtype=float) / 255.0  # (n, 3)
    stops = np.linspace(0.0, 1.0, len(colours))
    return np.stack([np.interp(values, stops, colours[:, channel]) for channel in range(3)], axis=-1)


def generated_texture(kind: str, size: tuple[int, int] = (448, 576), seed: int = 0) -> np.ndarray:
    """A texture of brush strokes, the offline stand-in for a painting (it is not one).

    Introduced in: book/17_style_transfer.ipynb

    White noise smeared along a flow field (line integral convolution, Cabral
    and Leedom 1993) gives strokes; a smooth field mapped through a palette
    gives the colours:

    * ``"swirls"``: strokes around a few random vortices, dark blue to yellow;
    * ``"waves"``: strokes along horizontal waves, orange above, blue below.

    Args:
        kind: ``"swirls"`` or ``"waves"``.
        size: ``(height, width)``, two integers in [16, 4096].
        seed: seed of the random fields (the same seed gives the same texture),
            an integer in [0, 2**32 - 1].

    Returns:
        uint8 array ``(height, width, 3)``, RGB.

    Raises:
        TypeError: an argument of the wrong type (``kind`` not a string, ``size``
            not a pair of integers, ``seed`` not an integer).
        ValueError: an unknown ``kind``, or a size or seed out of range.
    """
    validation.check_str("kind", kind, max_length=100)
    validation.check_choice("kind", kind, TEXTURES)
    height, width = validation.check_shape("size", size, length=2, low=TEXTURE_MIN_SIDE, high=MAX_SIDE)
    seed = validation.check_seed("seed", seed)
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:height, 0:width].astype(float)
    if kind == "swirls":
        flow_x, flow_y = np.full((height, width), 0.3), np.zeros((height, width))  # a drift to the right
        for _ in range(6):  # vortices: rotation that fades with the distance from the centre
            centre_row, centre_column = rng.uniform(0, height), rng.uniform(0, width)
            radius = rng.uniform(0.08, 0.2) * max(height, width)
            d_row, d_column = rows - centre_row, columns - centre_column
            distance = np.sqrt(d_row**2 + d_column**2 + 1.0)
            strength = rng.choice([-1.0, 1.0]) * np.exp(-(distance**2) / (2 * radius**2))
            flow_x += -d_row / distance * strength
            flow_y += d_column / distance * strength
        flow_y += 0.3 * (_smooth_noise(rng, (height, width), 4) - 0.5)
        strokes = _brush_strokes(rng, np.arctan2(flow_y, flow_x))
        values = np.clip(0.15 + 0.7 * _smooth_noise(rng, (height, width), 5) + 0.12 * strokes, 0, 1)
        palette = [(10, 20, 60), (25, 55, 130), (70, 110, 180), (140, 170, 200), (230, 210, 110), (250, 230, 140)]
        image = _colour(values, palette)
    else:
        frequency = 2 * np.pi * 1.5 / width  # one and a half waves across
        offset = rng.uniform(0, 2 * np.pi)
        bands = 10 * rows / height + 1.5 * np.sin(frequency * columns + offset)
        bands = bands + 2 * _smooth_noise(rng, (height, width), 3)
        # strokes follow the waves: the slope of the curve 10 row / height + 1.5 sin(...) = constant
        slope = -1.5 * frequency * np.cos(frequency * columns + offset) * height / 10
        angle = np.arctan(slope) + 0.3 * (_smooth_noise(rng, (height, width), 4) - 0.5)
        strokes = _brush_strokes(rng, angle)
        values = np.clip(0.1 + 0.8 * (0.5 + 0.5 * np.sin(bands)) + 0.1 * strokes, 0, 1)
        sky = _colour(values, [(140, 40, 20), (220, 90, 30), (240, 170, 60), (230, 200, 120)])
        water = _colour(values, [(20, 30, 60), (40, 70, 110), (90, 110, 120), (160, 140, 110)])
        blend = np.clip((rows / height - 0.35) * 4, 0, 1)[..., np.newaxis]
        image = (1 - blend) * sky + blend * water
    return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
