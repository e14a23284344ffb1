"""Reference implementations of 2-D convolution, classic filters and conv arithmetic.

Introduced in: book/01_convolution.ipynb

The chapter writes convolution out with loops to show the idea; these are the
vectorised versions the exercises are checked against, tested against SciPy
and ``keras.layers.Conv2D``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np

from coursepkg import validation

# Largest image side and kernel side: a 10,000 x 10,000 image is 800 MB in float64.
MAX_SIDE = 10_000
# Largest layer size (input length, kernel length, stride, padding, channels, filters).
MAX_SIZE = 100_000
# Largest stride of one layer in receptive_field (AlexNet's stem uses 4).
MAX_STRIDE = 100
# Deepest stack :func:`receptive_field` accepts.
MAX_LAYERS = 1_000
PADDINGS = ("valid", "same")


def _check_2d(name: str, value) -> np.ndarray:
    """A real, finite, non-empty 2-D array as float64 (complex, boolean or string input refused)."""
    array = validation.check_array(name, value, ndim=2)
    if max(array.shape) > MAX_SIDE:
        raise ValueError(
            f"Expected `{name}` to have sides of at most {MAX_SIDE:,} pixels. "
            f"Received: {name} with shape {array.shape}"
        )
    return array.astype(np.float64, copy=False)


def correlate2d(image, kernel, padding: str = "valid") -> np.ndarray:
    """Cross-correlation, what deep-learning libraries call "convolution".

    ``out[i, j] = sum_{k, l} image[i + k, j + l] * kernel[k, l]``

    Args:
        image: 2-D array (height, width) of real, finite numbers, each side in
            [1, 10,000].
        kernel: 2-D array (kh, kw) of real, finite numbers, each side in [1, 10,000];
            it must fit inside the (padded) image.
        padding: ``"valid"`` (no padding, output shrinks by kh-1, kw-1) or
            ``"same"`` (zero padding so the output has the image's size; for
            even kernels the extra row/column of padding goes at the bottom/right,
            as in Keras).

    Returns:
        float64 array of shape (height - kh + 1, width - kw + 1) or (height, width).

    Raises:
        TypeError: ``image`` or ``kernel`` is not an array of real numbers (strings,
            booleans and complex numbers are refused).
        ValueError: not 2-D, empty, NaN or infinite values, a kernel that does not fit,
            or an unknown ``padding``.
    """
    image, kernel = _check_2d("image", image), _check_2d("kernel", kernel)
    validation.check_choice("padding", padding, PADDINGS)
    kh, kw = kernel.shape
    if padding == "same":
        top, left = (kh - 1) // 2, (kw - 1) // 2
        image = np.pad(image, ((top, kh - 1 - top), (left, kw - 1 - left)))
    if image.shape[0] < kh or image.shape[1] < kw:
        raise ValueError(
            f"Expected `kernel` to fit inside `image`. Received: image.shape={image.shape}, kernel.shape={kernel.shape}"
        )
    windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw))  # (out_h, out_w, kh, kw)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def convolve2d(image, kernel, padding: str = "valid") -> np.ndarray:
    """True convolution: cross-correlation with the kernel flipped in both axes.

    ``out[i, j] = sum_{k, l} image[i - k, j - l] * kernel[k, l]``, which is what
    ``scipy.signal.convolve2d`` computes (``mode="valid"``/``"same"``, odd kernels).

    Args:
        image: 2-D array (height, width), as for :func:`correlate2d`.
        kernel: 2-D array (kh, kw), as for :func:`correlate2d`.
        padding: ``"valid"`` or ``"same"``.

    Returns:
        float64 array, see :func:`correlate2d`.

    Raises:
        TypeError, ValueError: as :func:`correlate2d`.
    """
    kernel = _check_2d("kernel", kernel)
    return correlate2d(image, kernel[::-1, ::-1], padding=padding)


def conv_output_size(input_size: int, kernel_size: int, stride: int = 1, padding: int | str = 0) -> int:
    """Output length of a convolution or pooling along one axis.

    ``floor((n + 2p - k) / s) + 1`` for an explicit padding ``p``; Keras's
    ``"valid"`` is ``p = 0`` and ``"same"`` gives ``ceil(n / s)``.

    Args:
        input_size: input length ``n``, an integer in [1, 100,000].
        kernel_size: kernel length ``k``, an integer in [1, 100,000].
        stride: step ``s``, an integer in [1, 100,000].
        padding: ``p`` in pixels on each side, an integer in [0, 100,000], or
            ``"valid"``/``"same"``.

    Returns:
        The output length.

    Raises:
        TypeError: a size that is not an integer (a float, a bool, a string other
            than the two paddings).
        ValueError: a size out of range, or a kernel larger than the padded input.
    """
    input_size = validation.check_int("input_size", input_size, 1, MAX_SIZE)
    kernel_size = validation.check_int("kernel_size", kernel_size, 1, MAX_SIZE)
    stride = validation.check_int("stride", stride, 1, MAX_SIZE)
    if isinstance(padding, str):
        padding = validation.check_choice("padding", padding, PADDINGS)
        if padding == "same":
            return math.ceil(input_size / stride)
        padding = 0
    padding = validation.check_int("padding", padding, 0, MAX_SIZE)
    if input_size + 2 * padding < kernel_size:
        raise ValueError(
            f"Expected the kernel to fit in the padded input. Received: input_size={input_size}, "
            f"padding={padding}, kernel_size={kernel_size}"
        )
    return (input_size + 2 * padding - kernel_size) // stride + 1


def conv2d_params(in_channels: int, filters: int, kernel_size: int | tuple[int, int], use_bias: bool = True) -> int:
    """Number of trainable parameters of a Conv2D layer.

    Each filter has ``kh * kw * in_channels`` weights plus one bias: the
    lecture's 4 filters of 3x3 on an RGB image have 4 x (3x3x3 + 1) = 112.

    Args:
        in_channels: channels of the layer's input, an integer in [1, 100,000].
        filters: number of filters, an integer in [1, 100,000].
        kernel_size: an integer in [1, 10,000], or a pair ``(kh, kw)`` of them.
        use_bias: whether each filter has a bias (a real boolean).

    Returns:
        The number of parameters.

    Raises:
        TypeError: a size that is not an integer, or ``use_bias`` that is not a boolean.
        ValueError: a size out of range.
    """
    in_channels = validation.check_int("in_channels", in_channels, 1, MAX_SIZE)
    filters = validation.check_int("filters", filters, 1, MAX_SIZE)
    if isinstance(kernel_size, (tuple, list)):
        kh, kw = validation.check_shape("kernel_size", kernel_size, length=2, high=MAX_SIDE)
    else:
        kh = kw = validation.check_int("kernel_size", kernel_size, 1, MAX_SIDE)
    use_bias = validation.check_bool("use_bias", use_bias)
    return filters * (kh * kw * in_channels + (1 if use_bias else 0))


def _check_sizes(name: str, values, high: int) -> tuple[int, ...]:
    """One integer in [1, ``high``] per layer, for 1 to :data:`MAX_LAYERS` layers."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"Expected `{name}` to be a sequence of integers. Received: {name}={values!r:.80}")
    values = tuple(itertools.islice(values, MAX_LAYERS + 1))
    if not 1 <= len(values) <= MAX_LAYERS:
        raise ValueError(
            f"Expected `{name}` to hold 1 to {MAX_LAYERS:,} layers. Received: {name} with {len(values)} entries"
        )
    return validation.check_shape(name, values, length=len(values), low=1, high=high)


def receptive_field(kernel_sizes, strides=None) -> int:
    """Receptive field (in input pixels, along one axis) of a stack of layers.

    ``r = 1 + sum_i (k_i - 1) * prod_{j < i} s_j``. Three stacked 3x3
    convolutions (stride 1) see 7 pixels, like one 7x7.

    Args:
        kernel_sizes: kernel length of each layer, first layer first: 1 to 1,000
            integers in [1, 10,000] (any iterable).
        strides: stride of each layer, integers in [1, 100] (default all 1), one per layer.

    Returns:
        The receptive field length.

    Raises:
        TypeError: not a sequence of integers.
        ValueError: no layer, more than 1,000, a size out of range, or a number of
            strides other than the number of layers.
    """
    kernel_sizes = _check_sizes("kernel_sizes", kernel_sizes, MAX_SIDE)
    strides = (1,) * len(kernel_sizes) if strides is None else _check_sizes("strides", strides, MAX_STRIDE)
    if len(strides) != len(kernel_sizes):
        raise ValueError(
            f"Expected one stride per layer. Received: {len(kernel_sizes)} kernel sizes, {len(strides)} strides"
        )
    field, jump = 1, 1
    for kernel, stride in zip(kernel_sizes, strides, strict=True):
        field += (kernel - 1) * jump
        jump *= stride
    return field


# --------------------------------------------------------------------------- classic filters

# Bounds of gaussian_kernel: below 0.001 pixels, sigma**2 underflows and the centre is 0 / 0.
MAX_GAUSSIAN_SIZE = 1_001
MIN_SIGMA, MAX_SIGMA = 1e-3, 1e3

_KIRSCH_NORTH = np.array([[5, 5, 5], [-3, 0, -3], [-3, -3, -3]], dtype=np.float64)


def gaussian_kernel(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """Normalised 2-D Gaussian kernel of odd ``size``.

    Args:
        size: side of the kernel, an odd integer in [1, 1,001].
        sigma: standard deviation in pixels, a finite number in [0.001, 1,000].

    Returns:
        float64 array of shape (size, size) summing to 1, peaked at the centre.

    Raises:
        TypeError: ``size`` is not an integer, or ``sigma`` not a real number.
        ValueError: ``size`` even or out of range, ``sigma`` out of range, NaN or infinite.
    """
    size = validation.check_int("size", size, 1, MAX_GAUSSIAN_SIZE)
    if size % 2 == 0:
        raise ValueError(f"Expected `size` to be odd. Received: size={size}")
    sigma = validation.check_float("sigma", sigma, MIN_SIGMA, MAX_SIGMA)
    axis = np.arange(size) - size // 2
    kernel = np.exp(-(axis[:, None] ** 2 + axis[None, :] ** 2) / (2.0 * sigma**2))
    return kernel / kernel.sum()


def kirsch_kernels() -> np.ndarray:
    """The 8 Kirsch compass kernels, shape (8, 3, 3).

    Ordered N then clockwise (N, NE, E, SE, S, SW, W, NW) when applied as
    cross-correlation (:func:`correlate2d`, ``keras.layers.Conv2D``); true
    convolution flips them, so N and S (and E and W) swap.
    """
    ring = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]
    values = [_KIRSCH_NORTH[position] for position in ring]
    kernels = []
    for shift in range(8):
        kernel = np.zeros((3, 3))
        for position, value in zip(ring, values[-shift:] + values[:-shift] if shift else values, strict=True):
            kernel[position] = value
        kernels.append(kernel)
    return np.stack(kernels)


CLASSIC_FILTERS = {
    "mean": np.full((3, 3), 1.0 / 9.0),
    "gaussian": gaussian_kernel(5, 1.0),
    "sobel_x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64),
    "sobel_y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64),
    "prewitt_x": np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=np.float64),
    "prewitt_y": np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]], dtype=np.float64),
    "kirsch_n": _KIRSCH_NORTH,
    "laplace": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    "laplace_8": np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]], dtype=np.float64),
}


for _kernel in CLASSIC_FILTERS.values():
    _kernel.flags.writeable = False  # shared constants: classic_filter() hands out copies


def classic_filter(name: str) -> np.ndarray:
    """A copy of one of the classic kernels in :data:`CLASSIC_FILTERS`.

    Args:
        name: one of the keys of :data:`CLASSIC_FILTERS` (``"sobel_x"``, ``"laplace"``, ...).

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    validation.check_choice("name", name, sorted(CLASSIC_FILTERS))
    return CLASSIC_FILTERS[name].copy()
