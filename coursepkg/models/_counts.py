"""Parameter and multiplication counts of convolutions, computed from their shapes.

These are the back-of-the-envelope numbers of the lecture: how many weights a
convolution holds and how many multiplications one forward pass costs. Bias
additions are not counted as multiplications.
"""

from typing import NamedTuple

from coursepkg.convolution import conv_output_size

from ._common import (
    check_bool,
    check_choice,
    check_filters,
    check_input_shape,
    check_kernel_size,
    check_strides,
)

PADDING_CHOICES = ("same", "valid")


class ConvCost(NamedTuple):
    """Cost of one convolution layer on one image."""

    parameters: int  # number of weights, biases included
    multiplications: int  # multiply operations of one forward pass


def check_kernel_fits(kernel_size, padding, height, width):
    """Raises unless a `"valid"` convolution's kernel fits in the `height x width` input."""
    if padding == "valid" and kernel_size > min(height, width):
        raise ValueError(
            f"Expected `kernel_size` to be at most the input's height and width ({height}x"
            f"{width}) with padding='valid'. Received: kernel_size={kernel_size}"
        )


def conv_cost(
    input_shape,
    filters,
    kernel_size,
    strides=1,
    padding="same",
    use_bias=True,
    depthwise=False,
):
    """Returns the parameters and multiplications of a 2D convolution.

    A standard convolution with `k x k` kernels producing `filters` maps of
    size `h x w` from `c` channels costs `h * w * filters * k * k * c`
    multiplications and holds `(k * k * c + 1) * filters` parameters. A
    depthwise convolution filters each channel on its own: `h * w * k * k * c`
    multiplications, `(k * k + 1) * c` parameters (`filters` is then ignored).

    Args:
        input_shape: `(height, width, channels)` of the input: height and
            width in [1, 8192], channels in [1, 8192].
        filters: Number of output channels, an integer in [1, 8192].
        kernel_size: Kernel height and width, an integer in [1, 31]; with
            `"valid"` padding, at most the height and width of the input.
        strides: Step of the kernel, an integer in [1, 8].
        padding: `"same"` or `"valid"`.
        use_bias: Whether the layer has a bias per output channel.
        depthwise: Whether the convolution is depthwise (one filter per channel).

    Returns:
        A `ConvCost(parameters, multiplications)`.

    Example:
        >>> conv_cost((28, 28, 192), 96, 5)  # the lecture's (25*ch + 1)*96 and w*h*96*25*ch
        ConvCost(parameters=460896, multiplications=361267200)

    Introduced in: book/08_nin_googlenet.ipynb
    """
    height, width, channels = check_input_shape(input_shape, min_size=1)
    filters = check_filters("filters", filters)
    kernel_size = check_kernel_size("kernel_size", kernel_size)
    strides = check_strides("strides", strides)
    check_choice("padding", padding, PADDING_CHOICES)
    use_bias = check_bool("use_bias", use_bias)
    depthwise = check_bool("depthwise", depthwise)
    check_kernel_fits(kernel_size, padding, height, width)
    out_height = conv_output_size(height, kernel_size, strides, padding)
    out_width = conv_output_size(width, kernel_size, strides, padding)
    if depthwise:
        filters = channels
        weights_per_output = kernel_size * kernel_size
    else:
        weights_per_output = kernel_size * kernel_size * channels
    parameters = (weights_per_output + int(use_bias)) * filters
    multiplications = out_height * out_width * filters * weights_per_output
    return ConvCost(parameters=parameters, multiplications=multiplications)
