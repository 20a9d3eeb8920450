# `make run` and `make test` set up whatever is missing, then run. Both are idempotent:
# every step is a file target that is rebuilt only when its inputs change.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LIVEKIT_VERSION := v1.13.5
TOOLS_BIN := $(abspath .tools/bin)
LIVEKIT_BIN := .tools/bin/livekit-server
LIVEKIT_STAMP := .tools/livekit-server-$(LIVEKIT_VERSION).stamp
VENDOR_JS := static/vendor/livekit-client.umd.js
# A .gz and a .br next to every static file (brotli is in requirements.txt), which WhiteNoise
# sends to browsers that accept them. The stamp is newer than every file in static/; a later
# edit makes it stale and it runs again.
STATIC_SOURCES := $(shell find static -type f ! -name '*.gz' ! -name '*.br' 2>/dev/null)
STATIC_GZ_STAMP := .tools/static-compressed.stamp
CHROMIUM ?= /usr/bin/chromium

# A local LiveKit server is only needed when no external one is configured.
RUN_LIVEKIT := $(if $(LIVEKIT_URL),,$(LIVEKIT_STAMP))

.PHONY: help setup run test bench lint format test-setup chromium postgresql redis ffmpeg flite

help:
	@echo "make run    set up what is missing, then serve the app with a local LiveKit server"
	@echo "make test   set up what is missing, then run ruff and every test tier"
	@echo "make bench  measure joins, page weight, tokens, webhooks, a join storm, recording, captions and streaming (bench/results/)"

setup: $(VENV)/.installed $(VENDOR_JS) $(STATIC_GZ_STAMP) $(RUN_LIVEKIT)

run: setup
	@$(PY) scripts/run_dev.py

# Every tier on SQLite (the embedded default) and, side by side with it, the tiers that touch
# the database again on a throw-away PostgreSQL cluster the test harness starts under
# tests/.postgres (README: which tests run once). Each step runs
# even when an earlier one failed, so one run shows everything; the exit status is non-zero
# if any did.
test: test-setup
	@$(PY) scripts/run_checks.py

# Every scenario against gunicorn and a local livekit-server; writes bench/results/<date>.json
# and .md. Pick scenarios with BENCH="token_endpoint join_storm"; BENCH_JOINS=5 for a quick run.
bench: test-setup
	@$(PY) bench/run.py $(BENCH)

test-setup: $(VENV)/.installed-dev $(VENDOR_JS) $(STATIC_GZ_STAMP) $(LIVEKIT_STAMP) chromium postgresql redis ffmpeg flite

lint:
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports --no-cache && npm run --silent lint

format:
	@$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Python 3.11+ with venv is needed: apt-get install python3-venv"; exit 1; }
	@echo "Installing Python packages into $(VENV)…"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	@echo "Installing test tools into $(VENV)…"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(VENDOR_JS): package.json package-lock.json scripts/vendor/build.sh scripts/vendor/track-processors.entry.js scripts/vendor/segmenter-metadata.mjs
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20+ and npm (apt-get install nodejs npm)"; exit 1; }
	@echo "Installing livekit-client, hls.js and the background effects from npm…"
	@npm ci --silent --no-audit --no-fund
	@scripts/vendor/build.sh

$(STATIC_GZ_STAMP): $(VENV)/.installed $(VENDOR_JS) $(STATIC_SOURCES)
	@echo "Compressing static files…"
	@$(PY) -m whitenoise.compress --quiet static
	@mkdir -p $(@D)
	@touch $@

$(LIVEKIT_STAMP):
	@command -v go >/dev/null || { echo "Go is missing: install Go 1.26+ to build livekit-server $(LIVEKIT_VERSION), or set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET to use an existing LiveKit server"; exit 1; }
	@echo "Building livekit-server $(LIVEKIT_VERSION) with go install (a few minutes, once)…"
	@mkdir -p $(TOOLS_BIN)
	@GOBIN=$(TOOLS_BIN) CGO_ENABLED=0 go install github.com/livekit/livekit-server/cmd/server@$(LIVEKIT_VERSION)
	@mv $(TOOLS_BIN)/server $(LIVEKIT_BIN)
	@rm -f .tools/livekit-server-*.stamp
	@touch $@

# Debian's PostgreSQL binaries; the tests run their own cluster, not the system service.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { echo "PostgreSQL is missing: install it with 'apt-get install postgresql' (as root)"; exit 1; }; \
	  echo "Installing PostgreSQL from Debian…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# Redis for the test of rate limits shared by several app instances.
redis:
	@command -v redis-server >/dev/null || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { echo "Redis is missing: install it with 'apt-get install redis-server' (as root)"; exit 1; }; \
	  echo "Installing Redis from Debian…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

chromium:
	@test -x $(CHROMIUM) || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { echo "Chromium is missing: install it with 'apt-get install chromium' (as root) or set CHROMIUM=/path/to/chromium"; exit 1; }; \
	  echo "Installing Chromium from Debian…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's ffmpeg: the recordings tests make a real MP4 with it.
ffmpeg:
	@command -v ffmpeg >/dev/null || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { echo "ffmpeg is missing: install it with 'apt-get install ffmpeg' (as root)"; exit 1; }; \
	  echo "Installing ffmpeg from Debian…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; }

# Debian's flite: the captions tests speak its voices (human-like speech PocketSphinx recognises).
flite:
	@command -v flite >/dev/null || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { echo "flite is missing: install it with 'apt-get install flite' (as root)"; exit 1; }; \
	  echo "Installing flite from Debian…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq flite >/dev/null; }
