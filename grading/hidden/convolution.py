"""Hidden checks of book/01_convolution.ipynb: inputs the public checks do not try.

Instructors only: keep this folder private (a private fork, or a folder given to
``--hidden``). The inputs are drawn when a submission is graded, from a seed
written in the gradebook, so they differ from submission to submission.

The four number exercises (output_size, param_count, one_by_one,
receptive_field) have no hidden checks: a number is right or wrong, and the
public check already says which.

``convolution.correlate2d`` asks for a correlation written with NumPy's basic
operations: the library's own implementations (the course's, SciPy's, NumPy's
1-D ones, the frameworks') are forbidden while it is checked.
"""

from __future__ import annotations

import numpy as np

from coursepkg.checking import compare_array
from coursepkg.convolution import correlate2d
from grading.checks import forbid, function_cases, hidden, random_generator

_rng = random_generator()  # seeded anew for every submission; the seed is in the gradebook

forbid(
    "convolution.correlate2d",
    [
        "coursepkg.correlate2d",
        "coursepkg.convolve2d",
        "coursepkg.convolution.correlate2d",
        "coursepkg.convolution.convolve2d",
        "scipy.signal.correlate2d",
        "scipy.signal.convolve2d",
        "scipy.signal.correlate",
        "scipy.signal.convolve",
        "scipy.signal.fftconvolve",
        "scipy.signal.oaconvolve",
        "scipy.ndimage.correlate",
        "scipy.ndimage.convolve",
        "numpy.correlate",
        "numpy.convolve",
        "keras.ops.conv",
        "keras.ops.depthwise_conv",
        "tensorflow.nn.conv2d",
        "tensorflow.nn.convolution",
        "jax.scipy.signal.correlate2d",
        "jax.scipy.signal.convolve2d",
        "jax.lax.conv_general_dilated",
        "torch.nn.functional.conv2d",
        "cv2.filter2D",
    ],
)

# convolution.correlate2d: dtypes, kernel shapes and sizes beyond the public 5x5 .. 8x7 floats.
function_cases(
    "convolution.correlate2d",
    correlate2d,
    "your correlate2d",
    [
        (
            (_rng.integers(0, 256, size=(7, 6)).astype(np.uint8), _rng.normal(size=(3, 3))),
            "a uint8 7x6 image (pixel values 0..255) and a float 3x3 kernel",
        ),
        (
            (_rng.integers(-5, 6, size=(6, 7)), np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])),
            "an integer 6x7 image and an integer 3x3 (Sobel) kernel",
        ),
        ((_rng.normal(size=(4, 5)), _rng.normal(size=(1, 1))), "a 4x5 image and a 1x1 kernel"),
        (
            (_rng.normal(size=(6, 8)), _rng.normal(size=(1, 5))),
            "a 6x8 image and a 1x5 (row) kernel",
        ),
        (
            (_rng.normal(size=(9, 5)), _rng.normal(size=(4, 2))),
            "a 9x5 image and a 4x2 (tall) kernel",
        ),
        (
            (_rng.normal(size=(3, 5)), _rng.normal(size=(3, 5))),
            "a 3x5 image and a 3x5 kernel (one output pixel)",
        ),
    ],
)
function_cases(
    "convolution.correlate2d",
    correlate2d,
    "your correlate2d",
    [((_rng.normal(size=(24, 31)).astype(np.float32), _rng.normal(size=(5, 5)).astype(np.float32)),
      "a float32 24x31 image and a float32 5x5 kernel")],
    rtol=1e-4,
    atol=1e-4,
)  # fmt: skip


@hidden("convolution.shift_kernel", "shifts a 10x12 integer image one pixel to the right")
def _shift_integer_image(answer):
    if callable(answer):
        return [
            f"your kernel should be a 3x3 array; received the function {getattr(answer, '__name__', '?')}"
        ]
    kernel = np.asarray(answer, dtype=np.float64)
    if kernel.shape != (3, 3):
        return [f"your kernel has shape {kernel.shape}; expected shape (3, 3)"]
    if not np.isfinite(kernel).all():
        return compare_array(kernel, np.zeros((3, 3)), "your kernel")  # names the NaN or infinite values
    image = np.arange(120, dtype=np.int64).reshape(10, 12) % 7
    shifted = np.zeros(image.shape)
    shifted[:, 1:] = image[:, :-1]
    return compare_array(
        correlate2d(image, kernel, padding="same"),
        shifted,
        "a 10x12 integer image filtered by your kernel",
    )
