#!/usr/bin/env bash
# run.sh: forage's entry points.  Each installs missing Debian packages,
# configures build/ (once) and builds, then:
#   ./run.sh demo [args]      runs forage-demo (the seed workload); args pass through
#   ./run.sh test             runs every test: unit suites, short stress runs, quick benchmarks
#   ./run.sh stress [seconds] runs every stress program for that long (default 60)
#   ./run.sh soak [seconds] [program...]
#                             runs each stress program that long (default 600) as
#                             60 s rounds with fresh seeds; prints totals per program
#   ./run.sh bench [--quick] [--rounds N] [matrix.py options]
#                             the benchmark suite, forage against Lace, rayon,
#                             oneTBB and OpenMP (libgomp, libomp): installs the
#                             peers, builds build-bench/ (-O3), runs interleaved
#                             capacity-checked rounds (about 20 minutes), writes
#                             build/bench/results.csv, summary.md and PNGs
#                             (docs/benchmarks.md); --quick: each program once at
#                             tiny sizes into build/bench/quick/ (CI); --quick
#                             --rounds 2: two short interleaved rounds there
#   ./run.sh mpi-demo [args] runs forage-mpi-demo, the seed workload across 2 MPI
#                             ranks (installs Open MPI: libopenmpi-dev, openmpi-bin)
#   ./run.sh sim [--quick]     the policy lab: forage-sim simulates every victim
#                             policy on the workloads at P = 1..256 on two
#                             synthetic machines; build/simlab/ table, summary
#                             and PNGs (docs/design/sim.md); --quick: a short run (CI)
#   ./run.sh sim --validate [--reps N] [--only fib,...]
#                             simulated against measured makespan at P = 1 and 2,
#                             with both worlds' counters (build/simvalidate/)
#   ./run.sh bench --policies [--quick]
#                             fib, nqueens, uts and the seed workload under every
#                             victim policy, with counters (build-bench-stats/):
#                             build/bench/policies/ table and PNG (docs/policies.md)
#
# Packages: each command installs the Debian packages it needs that are
# missing (apt-get, with sudo when not root).  FORAGE_NO_INSTALL=1 installs
# nothing: it names what is missing and carries on.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(gcc g++ meson ninja-build pkg-config libcriterion-dev libhwloc-dev zlib1g-dev python3 relacy-dev
          spin)

ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "${FORAGE_NO_INSTALL:-0}" = 1 ]; then
        echo "run.sh: FORAGE_NO_INSTALL=1: not installing these missing Debian packages: ${missing[*]}" >&2
        return 0
    fi
    echo "run.sh: installing ${missing[*]}" >&2
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() {
    ensure_packages
    [ -f build/build.ninja ] || meson setup build >/dev/null
    ninja -C build >/dev/null
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
demo)
    build
    exec ./build/examples/forage-demo "$@"
    ;;
mpi-demo)
    PACKAGES+=(libopenmpi-dev openmpi-bin)
    ensure_packages
    # A build/ configured before Open MPI was installed has no forage-mpi.
    if [ ! -f build/build.ninja ]; then
        meson setup build >/dev/null
    elif ! grep -q forage-mpi-demo build/build.ninja; then
        meson setup --reconfigure build >/dev/null
    fi
    ninja -C build >/dev/null
    # mpirun refuses root unless told; ranks are not bound to one core each
    # (Open MPI's default for np <= 2), so a rank's workers can spread.
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    exec mpirun -np 2 --oversubscribe --bind-to none build/examples/forage-mpi-demo "$@"
    ;;
test)
    build
    exec meson test -C build --print-errorlogs "$@"
    ;;
stress)
    build
    seconds=${1:-60}
    for prog in build/tests/stress/stress-*; do
        [ -f "$prog" ] && [ -x "$prog" ] || continue
        echo "== $prog --seconds $seconds" >&2
        "$prog" --seconds "$seconds"
    done
    ;;
soak)
    build
    exec tests/stress/soak.sh build "${1:-600}" "${@:2}"
    ;;
bench)
    # Lace's source is a build input found by benchmarks/meson.build (cmake
    # builds it); rayon comes from Debian's crate, built offline by cargo.
    PACKAGES+=(clang libomp-14-dev libtbb-dev python3-matplotlib binutils cmake cargo
               librust-rayon-dev)
    ensure_packages
    out=build/bench
    case " $* " in *" --quick "*) out=build/bench/quick ;; esac
    # Reconfigure an existing build-bench: peers installed since are found.
    if [ -f build-bench/build.ninja ]; then
        meson setup --reconfigure build-bench >/dev/null
    else
        meson setup build-bench --buildtype=release -Db_ndebug=if-release \
            -Dtests=false -Dexamples=false >/dev/null
    fi
    # Debian's python3, the one python3-matplotlib was installed for.
    py=/usr/bin/python3
    [ -x "$py" ] || py=python3
    if [ "${1:-}" = "--policies" ]; then
        shift
        [ -f build-bench-stats/build.ninja ] ||
            meson setup build-bench-stats --buildtype=release -Db_ndebug=if-release \
                -Dstats=true -Dtests=false -Dexamples=false >/dev/null
        ninja -C build-bench-stats --quiet benchmarks/fib benchmarks/nqueens benchmarks/uts \
            benchmarks/seed
        exec "$py" benchmarks/policies.py --build build-bench-stats --out build/bench/policies "$@"
    fi
    ninja -C build-bench --quiet   # only compiler messages, if any
    rc=0
    "$py" benchmarks/matrix.py --build build-bench --out "$out" "$@" || rc=$?
    [ -s "$out/results.csv" ] && { "$py" benchmarks/report.py "$out/results.csv" || rc=1; }
    exit "$rc"
    ;;
sim)
    build
    [ -x build/sim/forage-sim ] || { echo "run.sh: forage-sim was not built (needs hwloc and zlib: libhwloc-dev, zlib1g-dev)" >&2; exit 1; }
    py=/usr/bin/python3
    [ -x "$py" ] || py=python3
    if [ "${1:-}" = --validate ]; then  # simulated against measured at P = 1 and 2
        shift
        exec "$py" sim/validate.py --sim build/sim/forage-sim --bin build/tests/record \
            --out build/simvalidate "$@"
    fi
    exec "$py" sim/lab.py --sim build/sim/forage-sim --bench build/benchmarks \
        --policy-lib build/sim/libforage-policy-busiest.so --out build/simlab "$@"
    ;;
*)
    echo "usage: ./run.sh demo [args] | mpi-demo [args] | test | stress [seconds] | soak [seconds] [program...] | bench [--quick] [--rounds N] | bench --policies [--quick] | sim [--quick] | sim --validate" >&2
    exit 2
    ;;
esac
