#!/usr/bin/env bash
# Installs what building and testing Assay needs on Debian/Ubuntu, skipping
# whatever is already there. Safe to run again. Every step that downloads has
# a deadline, so a stalled registry ends the run (the line before says which
# step it was) instead of holding it. Usage: scripts/setup.sh [--bench]
#   --bench  also the peer tools the benchmark measures against
#            (sha256sum, vipsthumbnail, curl, wrk; exiftool is always installed), GNU time,
#            and haproxy, the load balancer in front of the hosted market's processes.
set -euo pipefail

# cmake and nasm build the bundled libjpeg-turbo (Debian 12 ships TurboJPEG 2, the
# turbojpeg crate needs 3). exiftool reads back the XMP sidecars in the tests; Python
# runs MLCommons' mlcroissant, which validates the Croissant exports in the tests.
# ffmpeg (ffprobe and ffmpeg) describes video and audio at import and renders their
# poster frames and waveforms; the tests make their media with it too. libheif's
# heif-convert decodes HEIF, HEIC and AVIF pictures for their previews.
packages=(pkg-config gcc g++ make cmake nasm libimage-exiftool-perl python3 python3-venv python3-pip ffmpeg
  libheif-examples)
# PostgreSQL's server (initdb, postgres): the market's tests run its records on a throwaway cluster.
# openssl makes the certificate authority of the HTTPS webhook test.
packages+=(postgresql openssl)
# The desktop app: Tauri's WebKitGTK and GTK headers; Xvfb, WebKitWebDriver and
# dbus for its end-to-end tests in a real window; Node.js builds its front end.
# WebKitGTK plays media through GStreamer, whose libav plugin decodes the
# H.264 and AAC of videos and of their playback proxies. The app links
# libEGL itself (libegl-dev, which WebKitGTK's headers need anyway) to keep
# EGL drivers out of its own process (src-tauri/src/webview_memory.rs).
packages+=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  libegl-dev libssl-dev file xvfb xauth webkit2gtk-driver dbus-x11 at-spi2-core fonts-dejavu-core
  gstreamer1.0-libav)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
[[ "${1:-}" == "--bench" ]] && packages+=(libvips-tools time coreutils curl wrk haproxy)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  # sudo -n fails at once where a password would be asked: never a prompt.
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo -n"
  echo "setup: installing ${missing[*]}" >&2
  # Another apt or dpkg holding the lock is waited on for five minutes at most.
  timeout 900 $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive timeout 1800 $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  [[ -x "$HOME/.cargo/bin/cargo" ]] || {
    echo "setup: installing the Rust toolchain with rustup" >&2
    curl --proto '=https' --tlsv1.2 --max-time 600 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
  }
fi

# Python tools the tests run, each pinned, so a new release cannot change
# what a test accepts. The marker names the version, so changing a pin
# reinstalls.
pip_pinned() {
  local venv="$1" package="$2" version="$3"
  if [[ ! -f "$venv/installed-$package-$version" ]]; then
    echo "setup: installing $package $version into $venv" >&2
    [[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv"
    timeout 900 "$venv/bin/pip" install -q --disable-pip-version-check --timeout 60 "$package==$version"
    touch "$venv/installed-$package-$version"
  fi
}
# mlcroissant validates the Croissant exports; tuspy, the Python tus client
# tus.io lists, uploads to the market with its own defaults (chunks,
# resume, sha1 checksums).
pip_pinned "$HOME/.cache/assay/venv" mlcroissant 1.1.1
pip_pinned "$HOME/.cache/assay/venv" tuspy 1.1.0
# The trainer's side of datasets: webdataset and pyarrow read the shards a
# build writes, and mlcroissant needs pyarrow for Parquet and Pillow for
# images when it loads a version's records.
pip_pinned "$HOME/.cache/assay/venv" webdataset 1.0.2
pip_pinned "$HOME/.cache/assay/venv" pyarrow 26.0.1
pip_pinned "$HOME/.cache/assay/venv" pillow 13.0.0
# Schemathesis generates requests from the market's OpenAPI document and
# checks every answer against it (a market test runs it, bounded in time).
# Its own venv: its dependencies are not mlcroissant's.
pip_pinned "$HOME/.cache/assay/venv-schemathesis" schemathesis 4.32.5
# The market's S3 blob storage is tested against moto's server: the S3 API
# (multipart uploads with their 5 MiB minimum, ranged reads) in one process,
# from PyPI, started by the tests on a free port. Its own venv.
pip_pinned "$HOME/.cache/assay/venv-moto" "moto[server]" 5.2.6

# The app's end-to-end tests drive the window through tauri-driver.
if ! "$HOME/.cargo/bin/tauri-driver" --help >/dev/null 2>&1; then
  echo "setup: installing tauri-driver" >&2
  timeout 1200 cargo install -q tauri-driver --locked --version '^2'
fi

# c2patool, the Content Authenticity Initiative's own C2PA tool, reads back
# what `assay c2pa export` writes (a test checks every file with it).
# Pinned: 0.27.22 is the last release that builds with Rust 1.95 (0.28 needs
# 1.96); it links Debian's OpenSSL (libssl-dev above). Without its default
# networking feature it never fetches remote manifests.
if [[ "$("$HOME/.cargo/bin/c2patool" --version 2>/dev/null)" != *0.27.22* ]]; then
  echo "setup: installing c2patool 0.27.22" >&2
  timeout 2400 cargo install -q c2patool --locked --version 0.27.22 --no-default-features
fi

# make test runs the tests with cargo-nextest (a deadline per test). These
# machines have it; elsewhere it is built from crates.io.
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest" >&2
  timeout 1800 cargo install -q cargo-nextest --locked
fi

# The front end's packages, exactly as package-lock.json pins them.
ui="$(dirname "$0")/../ui"
if [[ ! -f "$ui/node_modules/.package-lock.json" || "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]]; then
  echo "setup: installing the front end's npm packages" >&2
  timeout 900 npm --prefix "$ui" ci --no-audit --no-fund --loglevel=error
fi
