#!/usr/bin/env bash
# Runs weir's whole test suite: checks the layering (tests/layers.py), the
# formatting and clippy, installs and starts the real services
# (tests/services.sh), runs unit tests and the integration test binary, and
# stops the services again, whatever the outcome.
#
#   tests/run.sh              everything
#   tests/run.sh wire::       only integration tests whose name contains "wire::"
set -euo pipefail
cd "$(dirname "$0")/.."

# Build output lives outside the clone so later runs on this machine reuse it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${WEIR_CACHE_DIR:-$HOME/.cache/weir}/target}"
export WEIR_SERVICES_DIR="${WEIR_SERVICES_DIR:-$(mktemp -d -t weir-services-XXXXXX)}"

echo "[run] layers: no cycles between modules, the server's layers one way" >&2
python3 tests/layers.py --self-test
python3 tests/layers.py
echo "[run] cargo fmt --check" >&2
cargo fmt --all -- --check

tests/services.sh install
echo "[run] cargo clippy (warnings are errors)" >&2
cargo clippy --workspace --quiet -- -D warnings
echo "[run] building (target directory $CARGO_TARGET_DIR)" >&2
cargo build --workspace --tests --quiet

trap 'tests/services.sh stop' EXIT
tests/services.sh start
eval "$(tests/services.sh env)"

echo "[run] unit tests" >&2
cargo test --workspace --lib --bins --quiet
echo "[run] integration tests" >&2
cargo test -p weir --test integration --quiet -- --test-threads 2 "$@"
echo "[run] all tests passed" >&2
