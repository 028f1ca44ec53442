# Every target runs through $(DENO): the deno on PATH when it is 2.x, else a pinned copy that
# `make` installs from the npm registry into .deno/ (ignored by git).
SHELL := /bin/bash
.DEFAULT_GOAL := help

DENO_VERSION := 2.9.6
DENO_LOCAL := .deno/node_modules/.bin/deno
DENO := $(shell d=$$(command -v deno 2>/dev/null); if [ -n "$$d" ] && "$$d" --version 2>/dev/null | head -1 | grep -q '^deno 2\.'; then echo "$$d"; else echo $(DENO_LOCAL); fi)

# Options for the sync targets (see README).
CHUNK_SIZE ?= 50
START_INDEX ?= 0
SYNC_URL ?= http://localhost:8000
DEV_URL ?= http://localhost:8000
RUN := $(DENO) run --allow-net --allow-env --allow-read --allow-write --allow-run

.PHONY: help deno demo test check fmt lint typecheck unit bench start-bot dev dev-start dev-status \
	complete start status stop commands-diff commands-sync backup restore clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

deno: ## install the pinned Deno when none is on PATH
	@if [ "$(DENO)" = "$(DENO_LOCAL)" ] && ! [ -x "$(DENO_LOCAL)" ]; then \
	  echo "deno not on PATH: installing deno@$(DENO_VERSION) from npm into .deno/"; \
	  npm install --prefix .deno --no-audit --no-fund --no-save --loglevel=error deno@$(DENO_VERSION) >/dev/null; \
	fi
	@"$(DENO)" --version | head -1

demo: deno ## run the main job locally: emulator + bot on local KV, then a complete role sync and an /ethos card
	$(RUN) tests/emulator/demo.ts $(DEMO_ARGS)

test: deno check unit ## the whole suite: fmt, lint, type check, then every test

check: deno ## deno fmt --check, deno lint, deno check
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check .

unit: deno
	$(DENO) test --allow-all

fmt: deno ## format the tree
	$(DENO) fmt

bench: deno ## every benchmark in bench/, printing figures next to their targets
	$(RUN) bench/run.ts

start-bot: deno ## run the bot (mod.ts) with the environment of .env if present
	$(DENO) task start

dev: deno ## run the bot with --watch
	$(DENO) task dev

dev-start: deno ## start one chunk against the local bot
	$(RUN) sync-helper.ts start --url $(DEV_URL) --chunk-size $(CHUNK_SIZE) --start-index $(START_INDEX)

dev-status: deno ## sync status of the local bot
	$(RUN) sync-helper.ts status --url $(DEV_URL)

complete: deno ## run (or continue) a sync to the end with a progress bar
	$(RUN) sync-helper.ts complete --url $(SYNC_URL) --chunk-size $(CHUNK_SIZE)

start: deno ## start one chunk (CHUNK_SIZE, START_INDEX)
	$(RUN) sync-helper.ts start --url $(SYNC_URL) --chunk-size $(CHUNK_SIZE) --start-index $(START_INDEX)

status: deno ## sync status
	$(RUN) sync-helper.ts status --url $(SYNC_URL)

stop: deno ## stop the running sync after its current batch
	$(RUN) sync-helper.ts stop --url $(SYNC_URL)

commands-diff: deno ## compare the command manifest with what Discord has
	$(DENO) task commands diff

commands-sync: deno ## sync the command manifest when it changed
	$(DENO) task commands sync

backup: deno ## create a backup of DISCORD_GUILD_ID and print its id
	$(DENO) task backup create

restore: deno ## restore backup ID=... (non-destructive)
	@test -n "$(ID)" || { echo "usage: make restore ID=<backup id>"; exit 2; }
	$(DENO) task backup restore $(ID)

clean: ## remove local KV files and the local Deno
	rm -rf .data .deno
