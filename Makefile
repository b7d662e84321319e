# The two commands the README opens with. Both install what they need first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
DIR ?= ../shared/corpus/files

.PHONY: run test setup bench bench-rights bench-audit bench-grid bench-market bench-app

setup:
	@scripts/setup.sh

# Builds the front end and the app, imports DIR into the default library, and
# opens the app on it (without a display it says so and stops there).
run: setup
	npm --prefix ui run build
	cargo build --release -p assay-cli -p assay-app
	cargo run --release -q -p assay-cli -- import "$(DIR)"
	@if [[ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]]; then \
	  echo "make run: no display (DISPLAY and WAYLAND_DISPLAY are unset), so the app cannot open a window." >&2; \
	  echo "          The library is imported; run ./target/release/assay-app on a desktop, or use the CLI: cargo run -p assay-cli -- --help" >&2; \
	  exit 1; fi
	$${CARGO_TARGET_DIR:-target}/release/assay-app

# Every check CI runs: formatting, lints, the front end's checks and unit
# tests, and every Rust test, the app's end-to-end ones in a real window too.
test: setup
	cargo fmt --all -- --check
	npm --prefix ui run check
	npm --prefix ui test
	npm --prefix ui run build
	cargo clippy --workspace --all-targets -- -D warnings
	# Builds target/debug/assay-app too (src-tauri has tests), which tests/app drives.
	cargo test --workspace

# The import benchmark (see BENCHMARKS.md); needs the peer tools.
bench:
	@scripts/setup.sh --bench
	cargo build --release -p assay-cli -p assay-bench
	cargo run --release -q -p assay-bench --bin assay-bench -- $(BENCH_ARGS)

# Bulk edit of 100,000 assets and verification of 1,000,000 provenance events.
bench-rights: setup
	cargo run --release -q -p assay-bench --bin assay-rights-bench -- $(BENCH_ARGS)

# The desktop grid's page query on 1,000,000 assets, beside bare SQL.
bench-grid: setup
	cargo run --release -q -p assay-bench --bin assay-grid-bench -- $(BENCH_ARGS)

# The app in its window: launch to first thumbnails and memory while
# scrolling, on a release build (under Xvfb, as the end-to-end tests run).
bench-app: setup
	npm --prefix ui run build
	cargo build --release -p assay-app
	cargo run --release -q -p assay-app-e2e --bin assay-app-bench -- $(BENCH_ARGS)

# Audit-package export beside tar over the same generated JPEGs.
bench-audit: setup
	cargo run --release -q -p assay-bench --bin assay-audit-bench -- $(BENCH_ARGS)

# Marketplace sync beside curl over tus, resume after a cut connection, and
# listing reads under wrk, against the real server on loopback.
bench-market:
	@scripts/setup.sh --bench
	cargo run --release -q -p assay-bench --bin assay-market-bench -- $(BENCH_ARGS)
