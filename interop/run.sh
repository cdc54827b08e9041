#!/usr/bin/env bash
# Interop suite entry point (CI: `bash interop/run.sh`).
#
# Builds the `ioam` binary and the ioam-trace `transit` example when they
# exist, then runs every scenario against Linux IOAM routers in network
# namespaces and tshark. Needs root, tcpdump and tshark. The last line is
# exactly `N passed, N failed`; the exit status is non-zero on any failure.
#
#   bash interop/run.sh                  # the whole suite
#   bash interop/run.sh --record-sample  # regenerate data/sample-linux.pcap
#   bash interop/run.sh --only tshark    # a subset (substring of test names)
set -uo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "interop: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}

command -v python3 >/dev/null || fail "python3 not found"

if [ "${IOAM_INTEROP_NO_BUILD:-}" != "1" ] && command -v cargo >/dev/null; then
    if [ -f ioam-cli/Cargo.toml ] && grep -q '^name *= *"ioam-cli"' ioam-cli/Cargo.toml; then
        echo "interop: cargo build --release --locked -p ioam-cli"
        cargo build --release -q --locked -p ioam-cli || fail "cargo build --release -p ioam-cli failed"
    fi
    if [ -f clt-socket/examples/traced_client.rs ]; then
        echo "interop: cargo build --release --locked -p clt-socket --features opentelemetry --examples"
        cargo build --release -q --locked -p clt-socket --features opentelemetry --examples ||
            fail "cargo build --release -p clt-socket --examples failed"
    fi
    if [ -f ioam-trace/examples/transit.rs ]; then
        echo "interop: cargo build --release --locked -p ioam-trace --example transit"
        cargo build --release -q --locked -p ioam-trace --example transit ||
            fail "cargo build --release -p ioam-trace --example transit failed"
    fi
fi

exec python3 interop/run.py "$@"
