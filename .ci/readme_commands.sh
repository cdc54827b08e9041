#!/usr/bin/env bash
# Runs every command of the README's ```sh blocks, in order, from the
# repository root, with target/release (where the first command builds
# `ioam`) on PATH. A failing command fails the run. Output files go to /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/target/release:$PATH"
script=$(mktemp)
trap 'rm -f "$script"' EXIT
python3 - README.md >"$script" <<'PY'
import shlex, sys
inblock = False
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("```"):
        inblock = (line.strip() == "```sh") if not inblock else False
        continue
    if inblock and line.strip() and not line.lstrip().startswith("#"):
        n += 1
        print("printf '\\n--- README command %s: %s\\n' " + str(n) + " " + shlex.quote(line))
        print(line)
if n == 0:
    sys.exit("no ```sh commands found in README.md")
PY
bash -euo pipefail "$script"
echo "README: every command ran"
