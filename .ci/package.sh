#!/usr/bin/env bash
# The library crates as crates.io would get them: package them (cargo builds
# each .crate on its own), unpack the .crate files into a scratch workspace
# that patches them to each other and to nothing else of this repository,
# run their tests there, then `cargo publish --dry-run`.
set -euo pipefail
cd "$(dirname "$0")/.."
crates=(ioam-wire ioam-trace clt-context ioam-capture clt-otlp clt-socket ioam-agent)
pkgs=()
for c in "${crates[@]}"; do pkgs+=(-p "$c"); done
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

# `cargo package` verifies each crate against the ones packaged before it
# through a temporary local registry, and unpacks those into
# $CARGO_HOME/registry/src/-<hash>/ (the hash comes from the registry's
# path). An unpacked copy left there by an earlier run of the same version
# from the same path is reused as it is, stale: remove ours first.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
for c in "${crates[@]}"; do
    rm -rf "$cargo_home"/registry/src/-*/"$c-$version"
done

cargo package --locked "${pkgs[@]}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
members=()
patches=()
for c in "${crates[@]}"; do
    tar -xzf "target/package/$c-$version.crate" -C "$scratch"
    for f in README.md LICENSE-MIT LICENSE-APACHE; do
        [ -f "$scratch/$c-$version/$f" ] || { echo "!!! $c-$version.crate has no $f"; exit 1; }
    done
    members+=("\"$c-$version\"")
    patches+=("$c = { path = \"$c-$version\" }")
done
{
    echo "[workspace]"
    echo "resolver = \"2\""
    echo "members = [$(IFS=,; echo "${members[*]}")]"
    echo
    echo "[patch.crates-io]"
    printf '%s\n' "${patches[@]}"
} >"$scratch/Cargo.toml"
cp Cargo.lock "$scratch/"
echo "scratch workspace of the unpacked crates:"
cat "$scratch/Cargo.toml"
# The registry dependencies are the same as here, so the main target
# directory's builds of them are reused.
(cd "$scratch" && CARGO_TARGET_DIR="$OLDPWD/target" cargo test --workspace --all-features)

cargo publish --dry-run --locked --no-verify "${pkgs[@]}"
echo "packages: built, unpacked and tested alone, publish dry run passed"
