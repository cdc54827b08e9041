#!/usr/bin/env bash
# Source coverage reached by the committed corpus of each fuzz target.
#
# Replays fuzz/corpus/<target>/ through a coverage-instrumented build and
# prints, per target, the line and region coverage of the modules that
# target is aimed at (a module also holds builders and formatting the target
# does not call, so 100 % is not expected), then the union over all targets
# for each library crate. Dependencies, the fuzz harness and the shared
# checks are left out.
#
#   fuzz/coverage.sh [TARGET...]
#
# Needs the nightly toolchain, cargo-fuzz and its llvm-tools component
# (`rustup component add llvm-tools --toolchain nightly`). Per-file reports
# go to fuzz/coverage/<target>/report.txt and fuzz/coverage/all.txt.
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# The modules each target is aimed at (paths relative to the repository).
declare -A aim=(
    [clt_context]="clt-context/src/view.rs clt-context/src/oss.rs"
    [clt_legacy]="clt-context/src/legacy.rs"
    [decode]="ioam-cli/src/decode.rs ioam-cli/src/model.rs ioam-cli/src/linklayer.rs ioam-cli/src/text.rs"
    [dex]="ioam-wire/src/dex.rs"
    [e2e]="ioam-wire/src/e2e.rs"
    [ext_headers]="ioam-wire/src/ext.rs ioam-wire/src/ipv6.rs ioam-wire/src/packet.rs"
    [hbh_insert_remove]="ioam-wire/src/build.rs"
    [incremental_insert]="ioam-trace/src/incremental.rs"
    [injector]="clt-context/src/injector.rs ioam-trace/src/encap.rs"
    [integrity]="ioam-wire/src/integrity.rs"
    [options]="ioam-wire/src/opt.rs ioam-wire/src/ioam.rs"
    [pot]="ioam-wire/src/pot.rs"
    [trace_records]="ioam-trace/src/trace.rs ioam-trace/src/record.rs ioam-trace/src/layout.rs ioam-trace/src/header.rs"
    [traceparent]="clt-context/src/traceparent.rs clt-context/src/id.rs"
    [transit_writer]="ioam-trace/src/writer.rs ioam-trace/src/prepared.rs"
)

sysroot=$(rustc +nightly --print sysroot)
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
bindir="$sysroot/lib/rustlib/$host/bin"
[ -x "$bindir/llvm-cov" ] || {
    echo "llvm-cov not found: rustup component add llvm-tools --toolchain nightly" >&2
    exit 1
}
ignore='(/\.cargo/|/rustc/|/\.rustup/|/fuzz/|/fuzz-replay/)'
root=$(cd .. && pwd)

# Sums the Regions/Lines columns of the report rows whose file is listed.
sum_rows() { # report file...
    local report=$1
    shift
    awk -v files="$*" -v root="$root/" '
        BEGIN { n = split(files, f, " "); for (i = 1; i <= n; i++) want[f[i]] = 1 }
        { name = $1; sub(root, "", name) }
        name in want { r += $2; rm += $3; l += $8; lm += $9 }
        END {
            printf "%6.1f%% %6.1f%%", (l ? 100 * (l - lm) / l : 0), (r ? 100 * (r - rm) / r : 0)
        }' "$report"
}

mkdir -p coverage
objects=()
profiles=()
printf '%-20s %7s  %7s %7s  %s\n' target inputs lines regions modules
for t in "${targets[@]}"; do
    cargo +nightly fuzz coverage "$t" "corpus/$t" >"coverage/$t.log" 2>&1 ||
        { cat "coverage/$t.log"; exit 1; }
    bin="target/$host/coverage/$host/release/$t"
    "$bindir/llvm-cov" report "$bin" -instr-profile="coverage/$t/coverage.profdata" \
        -ignore-filename-regex="$ignore" >"coverage/$t/report.txt"
    objects+=("-object=$bin")
    profiles+=("coverage/$t/coverage.profdata")
    n=$(find "corpus/$t" -type f | wc -l)
    printf '%-20s %7s  %s  %s\n' "$t" "$n" \
        "$(sum_rows "coverage/$t/report.txt" ${aim[$t]:-})" "${aim[$t]:-?}"
done

# Union over the targets run, per library crate.
"$bindir/llvm-profdata" merge -sparse "${profiles[@]}" -o coverage/all.profdata
"$bindir/llvm-cov" report "${objects[@]}" -instr-profile=coverage/all.profdata \
    -ignore-filename-regex="$ignore" >coverage/all.txt
echo
printf '%-20s %7s %7s   (union of the targets above)\n' crate lines regions
for crate in ioam-wire ioam-trace clt-context ioam-cli; do
    files=$(awk -v root="$root/" -v c="$crate/src/" \
        '{ name = $1; sub(root, "", name) } index(name, c) == 1 { print name }' coverage/all.txt)
    [ -n "$files" ] || continue
    printf '%-20s %s\n' "$crate" "$(sum_rows coverage/all.txt $files)"
done
