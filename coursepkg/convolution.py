"""Reference implementations of 2-D convolution, classic filters and conv arithmetic.

Introduced in: book/01_convolution.ipynb

The chapter writes convolution out with loops to show the idea; these are the
vectorised versions the exercises are checked against, tested against SciPy
and ``keras.layers.Conv2D``.
"""

from __future__ import annotations

import math

import numpy as np


def _check_2d(name: str, array) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"Expected `{name}` to be a 2-D array. Received: {name}.shape={array.shape}")
    return array


def correlate2d(image, kernel, padding: str = "valid") -> np.ndarray:
    """Cross-correlation, what deep-learning libraries call "convolution".

    ``out[i, j] = sum_{k, l} image[i + k, j + l] * kernel[k, l]``

    Args:
        image: 2-D array (height, width).
        kernel: 2-D array (kh, kw).
        padding: ``"valid"`` (no padding, output shrinks by kh-1, kw-1) or
            ``"same"`` (zero padding so the output has the image's size; for
            even kernels the extra row/column of padding goes at the bottom/right,
            as in Keras).

    Returns:
        float64 array of shape (height - kh + 1, width - kw + 1) or (height, width).
    """
    image, kernel = _check_2d("image", image), _check_2d("kernel", kernel)
    kh, kw = kernel.shape
    if padding == "same":
        top, left = (kh - 1) // 2, (kw - 1) // 2
        image = np.pad(image, ((top, kh - 1 - top), (left, kw - 1 - left)))
    elif padding != "valid":
        raise ValueError(f"Expected `padding` to be 'valid' or 'same'. Received: padding={padding!r}")
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
        image: 2-D array (height, width).
        kernel: 2-D array (kh, kw).
        padding: ``"valid"`` or ``"same"``.

    Returns:
        float64 array, see :func:`correlate2d`.
    """
    kernel = _check_2d("kernel", kernel)
    return correlate2d(image, kernel[::-1, ::-1], padding=padding)


def conv_output_size(input_size: int, kernel_size: int, stride: int = 1, padding: int | str = 0) -> int:
    """Output length of a convolution or pooling along one axis.

    ``floor((n + 2p - k) / s) + 1`` for an explicit padding ``p``; Keras's
    ``"valid"`` is ``p = 0`` and ``"same"`` gives ``ceil(n / s)``.

    Args:
        input_size: input length ``n``.
        kernel_size: kernel length ``k``.
        stride: step ``s``.
        padding: ``p`` in pixels on each side, or ``"valid"``/``"same"``.

    Returns:
        The output length.
    """
    for name, value, low in (("input_size", input_size, 1), ("kernel_size", kernel_size, 1), ("stride", stride, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")
    if padding == "same":
        return math.ceil(input_size / stride)
    if padding == "valid":
        padding = 0
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(
            f"Expected `padding` to be a non-negative integer, 'valid' or 'same'. Received: padding={padding!r}"
        )
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
    """
    for name, value in (("in_channels", in_channels), ("filters", filters)):
        if not _is_positive_int(value):
            raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")
    pair = (kernel_size, kernel_size) if isinstance(kernel_size, (int, np.integer)) else kernel_size
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(_is_positive_int(size) for size in pair):
        raise ValueError(
            f"Expected `kernel_size` to be a positive integer or a pair of them. Received: kernel_size={kernel_size!r}"
        )
    kh, kw = pair
    return filters * (kh * kw * in_channels + (1 if use_bias else 0))


def _is_positive_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= 1


def receptive_field(kernel_sizes, strides=None) -> int:
    """Receptive field (in input pixels, along one axis) of a stack of layers.

    ``r = 1 + sum_i (k_i - 1) * prod_{j < i} s_j``. Three stacked 3x3
    convolutions (stride 1) see 7 pixels, like one 7x7.

    Args:
        kernel_sizes: kernel length of each layer, first layer first.
        strides: stride of each layer (default all 1).

    Returns:
        The receptive field length.
    """
    kernel_sizes = list(kernel_sizes)
    if not kernel_sizes:
        raise ValueError("Expected `kernel_sizes` to name at least one layer. Received: kernel_sizes=[]")
    strides = [1] * len(kernel_sizes) if strides is None else list(strides)
    if len(strides) != len(kernel_sizes):
        raise ValueError(
            f"Expected one stride per layer. Received: {len(kernel_sizes)} kernel sizes, {len(strides)} strides"
        )
    for name, values in (("kernel_sizes", kernel_sizes), ("strides", strides)):
        if not all(_is_positive_int(value) for value in values):
            raise ValueError(f"Expected `{name}` to hold positive integers. Received: {name}={values!r}")
    field, jump = 1, 1
    for kernel, stride in zip(kernel_sizes, strides, strict=True):
        field += (kernel - 1) * jump
        jump *= stride
    return field


# --------------------------------------------------------------------------- classic filters

_KIRSCH_NORTH = np.array([[5, 5, 5], [-3, 0, -3], [-3, -3, -3]], dtype=np.float64)


def gaussian_kernel(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """Normalised 2-D Gaussian kernel of odd ``size``."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1 or size % 2 == 0:
        raise ValueError(f"Expected `size` to be a positive odd integer. Received: size={size!r}")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)) or sigma <= 0:
        raise ValueError(f"Expected `sigma` to be positive. Received: sigma={sigma!r}")
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
    """A copy of one of the classic kernels in :data:`CLASSIC_FILTERS`."""
    if name not in CLASSIC_FILTERS:
        raise ValueError(f"Expected `name` to be one of {sorted(CLASSIC_FILTERS)}. Received: name={name!r}")
    return CLASSIC_FILTERS[name].copy()
