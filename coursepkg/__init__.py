"""coursepkg: the helper package of the open course on convolutional neural networks.

Chapters import what they need from here; every public name is listed in
``__all__``. Heavy modules (Keras, TensorFlow, librosa) are imported inside the
functions that need them, so ``import coursepkg`` is quick.
"""

__version__ = "0.1.0"

from coursepkg.audio import AudioDataset, load_fsdd, log_mel_spectrogram
from coursepkg.checking import CheckResult, check, evaluate
from coursepkg.config import (
    DeviceInfo,
    device_summary,
    is_fast,
    mode_summary,
    scaled,
    seed_everything,
    setup,
)
from coursepkg.convolution import (
    CLASSIC_FILTERS,
    classic_filter,
    conv2d_params,
    conv_output_size,
    convolve2d,
    correlate2d,
    gaussian_kernel,
    kirsch_kernels,
    receptive_field,
)
from coursepkg.data import (
    SAMPLE_IMAGES,
    ImageDataset,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
    make_shapes,
    read_idx,
    sample_image,
)
from coursepkg.downloads import DownloadError
from coursepkg.gradients import value_and_input_gradient
from coursepkg.plotting import (
    plot_activations,
    plot_confusion_matrix,
    plot_history,
    plot_images,
    plot_optimizer_paths,
)
from coursepkg.training import (
    configure_precision,
    detect_accelerator,
    distribution_strategy,
    fit,
    make_dataset,
    precision_scope,
)

# Submodules with many names of their own, loaded on first use
# (``coursepkg.models.vgg16``, ``coursepkg.optim.NumpyAdam``, ...).
_SUBMODULES = ("activations", "models", "optim", "visualize")


def __getattr__(name):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"coursepkg.{name}")
    raise AttributeError(f"module 'coursepkg' has no attribute {name!r}")


__all__ = [
    "AudioDataset",
    "CLASSIC_FILTERS",
    "CheckResult",
    "DeviceInfo",
    "DownloadError",
    "ImageDataset",
    "SAMPLE_IMAGES",
    "activations",
    "check",
    "classic_filter",
    "configure_precision",
    "conv2d_params",
    "conv_output_size",
    "convolve2d",
    "correlate2d",
    "detect_accelerator",
    "device_summary",
    "distribution_strategy",
    "evaluate",
    "fit",
    "gaussian_kernel",
    "is_fast",
    "kirsch_kernels",
    "load_cifar10",
    "load_fashion_mnist",
    "load_fsdd",
    "load_mnist",
    "log_mel_spectrogram",
    "make_dataset",
    "make_shapes",
    "models",
    "mode_summary",
    "optim",
    "plot_activations",
    "plot_confusion_matrix",
    "plot_history",
    "plot_images",
    "plot_optimizer_paths",
    "precision_scope",
    "read_idx",
    "receptive_field",
    "sample_image",
    "scaled",
    "seed_everything",
    "setup",
    "value_and_input_gradient",
    "visualize",
]
