# The course's two commands: `make book` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# 1: fast mode (small data, few epochs; minutes on a 2-core CPU). 0: full size.
FAST ?= 1
# Real data for tests and CI, when the shared folder is there (never copied into the repo).
SHARED_DATA ?= ../shared/data
JOBS ?= 2

export TF_CPP_MIN_LOG_LEVEL := 2
ifneq ($(wildcard $(SHARED_DATA)/mnist-t10k/t10k-images-idx3-ubyte.gz),)
export COURSEPKG_MNIST_DIR ?= $(abspath $(SHARED_DATA)/mnist-t10k)
endif
ifneq ($(wildcard $(SHARED_DATA)/fsdd-v1.0.10/v1.0.10.tar.gz),)
export COURSEPKG_FSDD_ARCHIVE ?= $(abspath $(SHARED_DATA)/fsdd-v1.0.10/v1.0.10.tar.gz)
endif
ifneq ($(wildcard $(SHARED_DATA)/imagenet/imagenet_class_index.json),)
export COURSEPKG_IMAGENET_CLASS_INDEX ?= $(abspath $(SHARED_DATA)/imagenet/imagenet_class_index.json)
endif
ifneq ($(wildcard $(SHARED_DATA)/cifar10-jpeg/cifar10-jpeg.tar.gz),)
export COURSEPKG_CIFAR10_ARCHIVE ?= $(abspath $(SHARED_DATA)/cifar10-jpeg/cifar10-jpeg.tar.gz)
endif
ifneq ($(wildcard $(SHARED_DATA)/paintings/tuebingen.jpg),)
export COURSEPKG_PAINTINGS_DIR ?= $(abspath $(SHARED_DATA)/paintings)
endif

.PHONY: book test test-chapters lint clean

# Create the environment and install the package with its book and test extras.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	touch $@

CHAPTERS := $(wildcard book/[0-9][0-9]_*.ipynb)
CACHE := _build/.jupyter_cache

# The execution cache holds the outputs of one mode: it is emptied when FAST changes,
# so fast and full outputs never mix.
define cache_mode
	@if [ -f _build/.mode ] && [ "$$(cat _build/.mode)" != "FAST=$(1)" ]; then rm -rf $(CACHE); fi
	@mkdir -p _build && echo "FAST=$(1)" > _build/.mode
endef

# Execute every chapter (two at a time, into the execution cache; a chapter whose
# code did not change is not run again) and render the HTML book into _build/html.
# `make test` stores each chapter it ran without error in the same cache (see
# conftest.py), so the book after a test run only renders. `make clean` empties
# the cache after a change to coursepkg.
book: $(VENV)/.installed
	$(call cache_mode,$(FAST))
	yes | $(BIN)/jcache notebook --cache-path $(CACHE) add $(CHAPTERS) > /dev/null
	COURSEPKG_FAST=$(FAST) $(BIN)/jcache project --cache-path $(CACHE) execute --executor local-parallel --timeout 1800
	COURSEPKG_FAST=$(FAST) $(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Book: $(abspath _build/html/index.html)"

lint: $(VENV)/.installed
	$(BIN)/ruff check .

# Test modules that run no backend-specific code of ours (the book's structure, the grader, which runs
# under TensorFlow, downloads, the data and audio loaders, arithmetic exercise checks): the JAX
# phase leaves them out. tests/test_book.py checks that none of them imports backend-specific code.
BACKEND_INDEPENDENT := test_book test_grading test_downloads test_data test_audio test_spectrograms test_validation test_paintings \
	test_exercises_layers test_exercises_architectures_classic test_exercises_architectures_modern

# Lint; the package tests and every chapter under nbmake (fast mode, strict checks; the
# chapters' outputs are kept in the book's execution cache) under TensorFlow; the package
# tests again under JAX, but for the `slow` ones (big models, the grader) and the modules of
# BACKEND_INDEPENDENT, which run no backend-specific code of ours. The chapters, the longest
# items, are collected first, and an idle worker takes work queued for the other (worksteal),
# so the short tests fill both workers at the end; --durations prints the slowest items.
test: lint
	$(call cache_mode,1)
	KERAS_BACKEND=tensorflow COURSEPKG_FAST=1 COURSEPKG_EXECUTION_CACHE=$(abspath $(CACHE)) $(BIN)/python -m pytest -n $(JOBS) --dist worksteal --durations=25 -m "not chapters" --nbmake --nbmake-timeout=600 book tests
	KERAS_BACKEND=jax $(BIN)/python -m pytest -n $(JOBS) --dist worksteal --durations=15 -m "not slow and not chapters" \
		$(foreach module,$(BACKEND_INDEPENDENT),--ignore=tests/$(module).py) tests

# Grade every chapter's own solutions with the instructors' grader (about 10 minutes on
# 2 cores): each must earn every point. Run it after changing an exercise or the grader.
test-chapters: $(VENV)/.installed
	KERAS_BACKEND=tensorflow COURSEPKG_FAST=1 $(BIN)/python -m pytest -n $(JOBS) -m chapters tests

clean:
	rm -rf _build .pytest_cache .ruff_cache
