"""coursepkg: the helper package of the open course on convolutional neural networks.

Chapters import what they need from here; every public name is listed in
``__all__``. Heavy modules (Keras, TensorFlow, librosa) are imported inside the
functions that need them, so ``import coursepkg`` is quick.
"""

__version__ = "0.1.0"

from coursepkg.attacks import (
    AttackResult,
    SmallestEpsilonResult,
    accuracy_under_attack,
    basic_iterative,
    epsilon_text,
    fgsm,
    iterative_least_likely,
    perturbation_norms,
    pgd,
    smallest_epsilon,
)
from coursepkg.audio import AudioDataset, AudioSplit, load_fsdd, log_mel_spectrogram, pad_or_crop
from coursepkg.blackbox import (
    OnePixelResult,
    QueryBudgetExceeded,
    SubstituteResult,
    one_pixel,
    substitute_attack,
    train_substitute,
)
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
    load_cifar10_jpeg,
    load_fashion_mnist,
    load_mnist,
    make_shapes,
    read_cifar10_jpeg,
    read_idx,
    sample_image,
)
from coursepkg.descriptors import (
    block_descriptors,
    knn_accuracy,
    knn_predict,
    nearest_neighbours,
    plot_retrieval,
    precision_at_k,
)
from coursepkg.downloads import DataFileError, DownloadError
from coursepkg.fooling import (
    FoolingImageResult,
    UniversalPerturbationResult,
    fooling_image,
    fooling_rate,
    universal_perturbation,
)
from coursepkg.gradients import compiled_value_and_gradient, value_and_input_gradient
from coursepkg.paintings import PAINTINGS, PaintingFileError, generated_texture, load_painting
from coursepkg.plotting import (
    plot_activations,
    plot_confusion_matrix,
    plot_history,
    plot_images,
    plot_optimizer_paths,
)
from coursepkg.pretrained import PretrainedNetwork, pretrained
from coursepkg.spectrograms import frame_signal, log_mel_batch, mfcc_batch, stft
from coursepkg.style import (
    StyleTransfer,
    StyleTransferResult,
    adaptive_instance_normalisation,
    content_loss,
    deep_dream,
    gram_matrix,
    octave_sizes,
    style_loss,
    total_variation_loss,
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
_SUBMODULES = ("activations", "audio_layers", "models", "optim", "visualize")
# Names of submodules that import Keras when loaded, resolved on first use.
_LAZY_NAMES = {
    name: "audio_layers"
    for name in (
        "LogMelSpectrogram", "RandomNoise", "RandomTimeShift", "SpecAugment", "add_noise",
        "frequency_mask", "keras_log_mel_layer", "time_mask", "time_shift",
    )
}  # fmt: skip


def __getattr__(name):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"coursepkg.{name}")
    if name in _LAZY_NAMES:
        import importlib

        return getattr(importlib.import_module(f"coursepkg.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module 'coursepkg' has no attribute {name!r}")


__all__ = [
    "AudioDataset",
    "AudioSplit",
    "AttackResult",
    "FoolingImageResult",
    "OnePixelResult",
    "QueryBudgetExceeded",
    "SmallestEpsilonResult",
    "SubstituteResult",
    "UniversalPerturbationResult",
    "CLASSIC_FILTERS",
    "CheckResult",
    "DeviceInfo",
    "DataFileError",
    "DownloadError",
    "ImageDataset",
    "PAINTINGS",
    "PaintingFileError",
    "LogMelSpectrogram",
    "PretrainedNetwork",
    "RandomNoise",
    "RandomTimeShift",
    "SAMPLE_IMAGES",
    "SpecAugment",
    "StyleTransfer",
    "StyleTransferResult",
    "activations",
    "add_noise",
    "audio_layers",
    "accuracy_under_attack",
    "attacks",
    "basic_iterative",
    "blackbox",
    "epsilon_text",
    "fgsm",
    "fooling_image",
    "fooling_rate",
    "fooling",
    "iterative_least_likely",
    "one_pixel",
    "perturbation_norms",
    "pgd",
    "smallest_epsilon",
    "substitute_attack",
    "train_substitute",
    "universal_perturbation",
    "block_descriptors",
    "check",
    "classic_filter",
    "compiled_value_and_gradient",
    "configure_precision",
    "adaptive_instance_normalisation",
    "content_loss",
    "conv2d_params",
    "conv_output_size",
    "convolve2d",
    "correlate2d",
    "deep_dream",
    "descriptors",
    "detect_accelerator",
    "device_summary",
    "distribution_strategy",
    "evaluate",
    "fit",
    "frame_signal",
    "frequency_mask",
    "gaussian_kernel",
    "generated_texture",
    "gram_matrix",
    "is_fast",
    "keras_log_mel_layer",
    "kirsch_kernels",
    "knn_accuracy",
    "knn_predict",
    "load_cifar10",
    "load_cifar10_jpeg",
    "load_fashion_mnist",
    "load_fsdd",
    "load_mnist",
    "load_painting",
    "log_mel_batch",
    "log_mel_spectrogram",
    "make_dataset",
    "make_shapes",
    "mfcc_batch",
    "models",
    "mode_summary",
    "nearest_neighbours",
    "optim",
    "pad_or_crop",
    "plot_activations",
    "plot_confusion_matrix",
    "plot_history",
    "plot_images",
    "plot_optimizer_paths",
    "precision_scope",
    "plot_retrieval",
    "precision_at_k",
    "pretrained",
    "read_cifar10_jpeg",
    "read_idx",
    "receptive_field",
    "sample_image",
    "scaled",
    "seed_everything",
    "setup",
    "stft",
    "octave_sizes",
    "style_loss",
    "time_mask",
    "time_shift",
    "total_variation_loss",
    "value_and_input_gradient",
    "visualize",
]
