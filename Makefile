# The two commands the README opens with. Both install what they need first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
TARGET := $${CARGO_TARGET_DIR:-target}
# Clippy's driver compiles the workspace's crates, with its lints denied.
LINTED := RUSTC_WORKSPACE_WRAPPER="$$(rustc --print sysroot)/bin/clippy-driver" \
	CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
# A folder to import before the app opens; without one, a first run opens a
# sample library made from the test corpus's photos.
DIR ?=
SAMPLE_PHOTOS := tests/corpus/files/exif-py/jpg

.PHONY: run test setup bench bench-dupes bench-rights bench-audit bench-c2pa bench-datasets bench-grid bench-market bench-hosted bench-app fuzz

setup:
	@scripts/setup.sh

# Builds the front end, the CLI and the app (in one cargo build, so the core
# is compiled once), then imports DIR into the default library, or, without
# DIR, makes a sample library there if none exists, and opens the app (without
# a display it says so and stops there).
run: setup
	npm --prefix ui run build
	cargo build --release -p assay-cli -p assay-app
	@if [[ -n "$(DIR)" ]]; then \
	  $(TARGET)/release/assay import "$(DIR)"; \
	else \
	  $(TARGET)/release/assay sample-library --if-missing --from "$(SAMPLE_PHOTOS)"; \
	fi
	@if [[ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]]; then \
	  echo "make run: no display (DISPLAY and WAYLAND_DISPLAY are unset), so the app cannot open a window." >&2; \
	  echo "          The library is ready; run $(TARGET)/release/assay-app on a desktop, or use the CLI: $(TARGET)/release/assay --help" >&2; \
	  exit 1; fi
	$(TARGET)/release/assay-app

# Every check CI runs: formatting, the front end's checks and unit tests, and
# every Rust test (the app's end-to-end ones in a real window too), linted by
# clippy as they compile. Clippy runs as the compiler of the workspace's own
# crates (what `cargo clippy` does under a `check`), so every dependency is
# compiled once, for the tests, instead of once checked and once built.
# cargo-nextest runs each test in its own process under a deadline
# (.config/nextest.toml) and names any test that passes it.
test: setup
	cargo fmt --all -- --check
	npm --prefix ui run check
	npm --prefix ui test
	npm --prefix ui run build
	$(LINTED) cargo nextest run --workspace --all-targets --no-fail-fast

# The import benchmark (see BENCHMARKS.md); needs the peer tools.
bench:
	@scripts/setup.sh --bench
	cargo build --release -p assay-cli -p assay-bench
	cargo run --release -q -p assay-bench --bin assay-bench -- $(BENCH_ARGS)

# Bulk edit of 100,000 assets and verification of 1,000,000 provenance events.
bench-rights: setup
	cargo run --release -q -p assay-bench --bin assay-rights-bench -- $(BENCH_ARGS)

# Near-duplicates: precision and recall per kind of copy (made by libvips),
# and one asset's lookup among 1,000,000 fingerprints beside a full scan.
bench-dupes:
	@scripts/setup.sh --bench
	cargo run --release -q -p assay-bench --bin assay-dupes-bench -- $(BENCH_ARGS)

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

# Dataset builds of 10,000 generated JPEGs: WebDataset beside tar, Parquet
# beside pyarrow writing the same rows.
bench-datasets: setup
	cargo run --release -q -p assay-bench --bin assay-dataset-bench -- $(BENCH_ARGS)

# Content Credentials: signing beside c2patool, and their reading cost at import.
bench-c2pa: setup
	cargo run --release -q -p assay-bench --bin assay-c2pa-bench -- $(BENCH_ARGS)

# Marketplace sync beside curl over tus, resume after a cut connection, and
# listing reads under wrk, undisturbed and beside 500 trickling connections,
# against the real server on loopback.
bench-market:
	@scripts/setup.sh --bench
	cargo run --release -q -p assay-bench --bin assay-market-bench -- $(BENCH_ARGS)

# The hosted market: assay-market processes on PostgreSQL and moto's S3 server
# (started by the bench), sync to S3 beside curl, listing reads under wrk with
# one and two processes behind haproxy beside one on SQLite, and 10,000
# concurrent purchases through two processes, every payout counted.
bench-hosted:
	@scripts/setup.sh --bench
	cargo build --release -p assay-market -p assay-bench
	cargo run --release -q -p assay-bench --bin assay-hosted-bench -- $(BENCH_ARGS)

# Mutation fuzzing of every parser of untrusted bytes, 30 s per target
# (`make test` runs a moment of it). Failing inputs are kept under
# tests/fuzz/regressions/TARGET/: commit them with the fix.
fuzz:
	cargo run --release -q -p assay-fuzz --bin assay-fuzz -- $(FUZZ_ARGS)
