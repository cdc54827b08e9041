#!/usr/bin/env python3
"""Fails when two source files of one library crate refer to each other.

Looks at every `crate::<module>` path in the code of `src/*.rs` (comments
and doc comments stripped) of the core crates, and reports every pair of
modules that name each other, directly. A `mod tests` that sits in a file
counts as that file; `*_tests.rs` files are children of their module and
are skipped.
"""
import pathlib
import re
import sys

CRATES = ["ioam-wire", "ioam-trace", "clt-context"]
root = pathlib.Path(__file__).resolve().parent.parent
failed = False
for crate in CRATES:
    src = root / crate / "src"
    refs = {}
    for f in sorted(src.glob("*.rs")):
        name = f.stem
        if name in ("lib", "main") or name.endswith("_tests"):
            continue
        code = f.read_text()
        code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
        code = re.sub(r"//[^\n]*", "", code)
        code = re.sub(r'"(\\.|[^"\\])*"', '""', code)
        mods = set(re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", code))
        # `use crate::{a, b::c}` groups.
        for group in re.findall(r"\bcrate::\{([^}]*)\}", code):
            mods.update(re.findall(r"(?:^|,)\s*([a-z_][a-z0-9_]*)", group))
        refs[name] = {m for m in mods if (src / f"{m}.rs").exists() and m != name}
    for a in sorted(refs):
        for b in sorted(refs[a]):
            if a < b and a in refs.get(b, set()):
                print(f"{crate}: src/{a}.rs and src/{b}.rs import each other")
                failed = True
if failed:
    sys.exit(1)
print("import cycles: none between the files of " + ", ".join(CRATES))
