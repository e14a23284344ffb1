"""Hidden checks of book/15_descriptors_transfer.ipynb: inputs the public checks do not try.

Instructors only: keep this folder private (a private fork, or a folder given to
``--hidden``). The inputs are drawn when a submission is graded, from a seed
written in the gradebook, so they differ from submission to submission.

Only ``descriptors.cosine_distance`` is a function. The other four exercises
(``descriptor_lengths``, ``precision_at_k``, ``head_parameters``,
``frozen_statistics``) have no hidden checks: a pair of numbers or a list of
letters is right or wrong, and the public check already says which.
"""

from __future__ import annotations

import numpy as np

from coursepkg.exercises import descriptors
from grading.checks import function_cases, random_generator

_rng = random_generator()  # seeded anew for every submission; the seed is in the gradebook

# descriptors.cosine_distance: values whose squares overflow float32 or int64, a single entry,
# sparse ReLU-like descriptors, long vectors.
function_cases(
    "descriptors.cosine_distance",
    descriptors.cosine_distance,
    "your cosine distance",
    [
        (
            (
                (_rng.normal(size=16) * 1e20).astype(np.float32),
                (_rng.normal(size=16) * 1e20).astype(np.float32),
            ),
            "float32 vectors with entries near 1e20 (their squares overflow float32)",
        ),
        (
            (
                _rng.integers(-3_000_000_000, 3_000_000_000, size=10),
                _rng.integers(-3_000_000_000, 3_000_000_000, size=10),
            ),
            "int64 vectors with entries up to 3e9 (the sums of their squares overflow int64)",
        ),
        ((np.array([3.0]), np.array([-2.0])), "two vectors of length 1 pointing opposite ways"),
        (
            (
                np.maximum(_rng.normal(size=4096), 0.0),
                np.maximum(_rng.normal(size=4096), 0.0),
            ),
            "two sparse, non-negative descriptors of length 4096 (about half zeros)",
        ),
    ],
)
