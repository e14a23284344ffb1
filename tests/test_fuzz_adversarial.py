"""Fuzzing (see tests/fuzzing.py): gradient attacks, black-box attacks, fooling images.

Every case gets a tiny untrained network on four 8x8 RGB images: a bad argument must be
refused before the model is called, so each call fails in milliseconds.
"""

from __future__ import annotations

import fuzzing
import numpy as np
import pytest
from fuzzing import Case

from coursepkg import attacks, blackbox, fooling

EXEMPT = {
    "coursepkg.attacks.AttackResult": "a result record the attacks fill in",
    "coursepkg.attacks.SmallestEpsilonResult": "a result record smallest_epsilon fills in",
    "coursepkg.blackbox.OnePixelResult": "a result record one_pixel fills in",
    "coursepkg.blackbox.SubstituteResult": "a result record train_substitute fills in",
    "coursepkg.fooling.FoolingImageResult": "a result record fooling_image fills in",
    "coursepkg.fooling.UniversalPerturbationResult": "a result record of universal_perturbation",
}

LABELS = np.array([0, 1, 2, 3])


def attack(**extra):
    """Valid arguments of an attack on the tiny network, built when a case runs."""
    return lambda: {"model": fuzzing.tiny_classifier(), "images": fuzzing.images(), **extra}


def oracle(images):
    """A label-only model that calls every image class 0."""
    return np.zeros(len(images), dtype=np.int64)


def build_substitute():
    """Never called by a refused call: the checks come before the substitute is built."""
    raise AssertionError("the substitute was built before the arguments were checked")


MODEL = {"model": "callable"}
ATTACK = {"model": "callable", "images": "data", "labels": "labels", "epsilon": "float"}

CASES = [
    # attacks
    Case(attacks.epsilon_text, {"epsilon": 0.1, "pixel_range": (0.0, 1.0)},
         kinds={"epsilon": "float", "pixel_range": "floats"}),
    Case(attacks.perturbation_norms, {"perturbation": fuzzing.images()},
         kinds={"perturbation": "data"}),
    Case(attacks.Classifier,
         lambda: {"model": fuzzing.tiny_classifier(), "output": "logits",
                  "pixel_range": (0.0, 1.0)},
         kinds={**MODEL, "output": "choice", "pixel_range": "floats"}),
    Case(attacks.as_classifier, lambda: {"model": fuzzing.tiny_classifier()}, kinds=MODEL),
    Case(attacks.check_attack, attack(output="logits", pixel_range=(0.0, 1.0), batch_size=8),
         kinds={**MODEL, "images": "data", "output": "choice", "pixel_range": "floats",
                "batch_size": "int"}),
    # the message names the budget by `name`: named "value" here, as the fuzzing expects
    Case(attacks.check_epsilon, {"name": "value", "value": 0.1, "pixel_range": (0.0, 1.0),
                                 "norm": "linf", "image_shape": (8, 8, 3)},
         kinds={"name": "text", "value": "float", "pixel_range": "floats", "norm": "choice",
                "image_shape": "shape"}),
    Case(attacks.project, {"delta": fuzzing.images() - 0.5, "epsilon": 0.1, "norm": "linf"},
         kinds={"delta": "data", "epsilon": "float", "norm": "choice"}),
    Case(attacks.one_hot, {"labels": LABELS, "classes": 4},
         kinds={"labels": "labels", "classes": "int"}),
    Case(attacks.fgsm, attack(labels=LABELS, epsilon=0.1), kinds=ATTACK),
    Case(attacks.basic_iterative, attack(labels=LABELS, epsilon=0.1), kinds=ATTACK),
    Case(attacks.iterative_least_likely, attack(epsilon=0.1),
         kinds={**MODEL, "images": "data", "epsilon": "float"}),
    Case(attacks.pgd, attack(labels=LABELS, epsilon=0.1), kinds={**ATTACK, "seed": "seed"}),
    Case(attacks.smallest_epsilon, attack(labels=LABELS),
         kinds={**MODEL, "images": "data", "labels": "labels", "seed": "seed"}),
    Case(attacks.accuracy_under_attack, attack(labels=LABELS, epsilons=[0.0, 0.1]),
         kinds={**MODEL, "images": "data", "labels": "labels", "epsilons": "floats",
                "seed": "seed"}),
    # blackbox
    Case(blackbox.one_pixel, lambda: {"model": fuzzing.tiny_classifier(),
                                      "image": fuzzing.images()[0], "maxiter": 1, "popsize": 10},
         kinds={**MODEL, "image": "data", "seed": "seed"}),
    Case(blackbox.train_substitute, {"oracle": oracle, "seed_images": fuzzing.images(),
                                     "substitute": build_substitute, "query_budget": 1000},
         kinds={"oracle": "callable", "seed_images": "data", "substitute": "callable",
                "query_budget": "int", "seed": "seed"}),
    Case(blackbox.substitute_attack,
         lambda: {"oracle": oracle, "substitute": fuzzing.tiny_classifier(),
                  "images": fuzzing.images(), "labels": LABELS, "epsilon": 0.1},
         kinds={"oracle": "callable", "substitute": "callable", "images": "data",
                "labels": "labels", "epsilon": "float"}),
    # fooling
    Case(fooling.fooling_image, lambda: {"model": fuzzing.tiny_classifier(),
                                         "target_class": [0, 1], "shape": (8, 8, 3), "steps": 1},
         kinds={**MODEL, "target_class": "labels", "shape": "shape", "seed": "seed"}),
    Case(fooling.fooling_rate, attack(perturbation=np.zeros((8, 8, 3))),
         kinds={**MODEL, "images": "data", "perturbation": "data"}),
    Case(fooling.universal_perturbation, attack(epsilon=0.1, max_passes=1, deepfool_steps=1),
         kinds={**MODEL, "images": "data", "epsilon": "float", "seed": "seed"}),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=fuzzing.case_ids(CASES))
def test_bad_arguments_are_refused_naming_them(case):
    fuzzing.fuzz(case)
