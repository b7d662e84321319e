# The two commands the README opens with. Both install what they need first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
DIR ?= ../shared/corpus/files

.PHONY: run test setup bench bench-rights bench-audit

setup:
	@scripts/setup.sh

# Builds the `assay` CLI, shows its help, and imports DIR into the default library.
run: setup
	cargo build --release -p assay-cli
	cargo run --release -q -p assay-cli -- --help
	cargo run --release -q -p assay-cli -- import "$(DIR)"
	cargo run --release -q -p assay-cli -- ls | tail -n 20

# Every check CI runs: formatting, lints, and all tests.
test: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace

# The import benchmark (see BENCHMARKS.md); needs the peer tools.
bench:
	@scripts/setup.sh --bench
	cargo build --release -p assay-cli -p assay-bench
	cargo run --release -q -p assay-bench --bin assay-bench -- $(BENCH_ARGS)

# Bulk edit of 100,000 assets and verification of 1,000,000 provenance events.
bench-rights: setup
	cargo run --release -q -p assay-bench --bin assay-rights-bench -- $(BENCH_ARGS)

# Audit-package export beside tar over the same generated JPEGs.
bench-audit: setup
	cargo run --release -q -p assay-bench --bin assay-audit-bench -- $(BENCH_ARGS)
