#!/bin/sh
# build.sh: builds the rayon programs for meson (benchmarks/meson.build).
#   build.sh check CARGO SRC WORK        resolves the crates offline: exit 0 if they are there
#   build.sh build CARGO SRC WORK OUT LEAF
#                                        builds them (release) and copies the *-rayon programs to OUT;
#                                        LEAF: matmul's leaf object (common/matmul_leaf.c), linked by build.rs
# Cargo finds .cargo/config.toml (the offline source replacement) from its
# working directory, and writes Cargo.lock beside Cargo.toml: both happen
# in WORK/pkg, a shadow of SRC made of symbolic links, so the source tree is
# never written to.
set -eu
mode=$1 cargo=$2 src=$3 work=$4
# The rustc of the same toolchain as this cargo (Debian's /usr/bin/cargo
# would otherwise take the first rustc on PATH, maybe a rustup one).
if [ -z "${RUSTC:-}" ] && [ -x "$(dirname "$cargo")/rustc" ]; then
    RUSTC=$(dirname "$cargo")/rustc
    export RUSTC
fi
if [ "$mode" = build ]; then
    # Absolute: cargo links from elsewhere.
    BENCH_MM_LEAF_OBJ=$(cd "$(dirname "$6")" && pwd)/$(basename "$6")
    export BENCH_MM_LEAF_OBJ
fi
mkdir -p "$work/pkg"
for f in Cargo.toml build.rs src .cargo; do
    ln -sfn "$src/$f" "$work/pkg/$f"
done
cd "$work/pkg"
# A lock file written by another cargo may be in a format this one cannot
# read (cargo 1.65 and version 4): start afresh when the cargo changes.
version=$("$cargo" --version)
if [ ! -f cargo-version ] || [ "$(cat cargo-version)" != "$version" ]; then
    rm -f Cargo.lock
    printf '%s\n' "$version" >cargo-version
fi
if [ "$mode" = check ]; then
    exec "$cargo" metadata --offline --format-version 1 >/dev/null
fi
out=$5
"$cargo" build --release --offline --quiet --target-dir "$work/target"
for prog in fib nqueens uts matmul parallel_for seed; do
    cp "$work/target/release/$prog-rayon" "$out/$prog-rayon"
done
# What built them, for matrix.py's machine.txt.
{
    "$cargo" --version
    "${RUSTC:-rustc}" --version
    sed -n '/^name = "rayon/{N;s/\n/ /;p;}' Cargo.lock
} >"$work/toolchain.txt"
