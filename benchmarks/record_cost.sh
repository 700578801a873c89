#!/bin/bash
# benchmarks/record_cost.sh [--workers] BUILD [BUILD...]: what recording
# costs on fib without a cutoff (docs/design/record.md, "Costs and checks").
#
# Default: fib(27) by each variant, recording off and on, one fresh process
# per run (as record-t1 runs it), 7 runs interleaved across the builds;
# prints the median and min in ms.  --workers: fib(30) by typed tasks at 1
# and 2 workers, recording off, on, and on with a one-chunk unit budget
# (FORAGE_RECORD_UNITS=4096: the bookkeeping without the record memory),
# min and median of 11 pools in one process.  Wall clocks: run it on a
# quiet machine.
set -euo pipefail
mode=variants
if [ "${1:-}" = "--workers" ]; then mode=workers; shift; fi
[ $# -ge 1 ] || { echo "usage: $0 [--workers] BUILD [BUILD...]" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

one() { # build variant threads n reps [env...]: the variant's seconds, one a line
    local b=$1 v=$2 t=$3 n=$4 reps=$5
    shift 5
    env "$@" "$b/benchmarks/fib" --threads "$t" --reps "$reps" --n "$n" --variant "$v" \
        --no-header 2>/dev/null | awk -F, -v v="$v" '$1 == v { print $7 * 1000 }'
    rm -f "$tmp"/*.rec
}

stats() { # file: "median M ms (min m)"
    sort -g "$1" | awk '{ a[NR] = $1 } END { printf "median %.2f ms (min %.2f)", a[int((NR + 1) / 2)], a[1] }'
}

if [ $mode = variants ]; then
    for v in forage forage-ctx forage-task; do
        for ((i = 0; i < $#; i++)); do : > "$tmp/$i.off"; : > "$tmp/$i.on"; done
        for r in 1 2 3 4 5 6 7; do
            i=0
            for b in "$@"; do
                one "$b" "$v" 1 27 1 FORAGE_RECORD= >> "$tmp/$i.off"
                one "$b" "$v" 1 27 1 FORAGE_RECORD="$tmp/x.rec" >> "$tmp/$i.on"
                i=$((i + 1))
            done
        done
        i=0
        for b in "$@"; do
            echo "fib(27) $v $b: off $(stats "$tmp/$i.off"), on $(stats "$tmp/$i.on")"
            rm -f "$tmp/$i.off" "$tmp/$i.on"
            i=$((i + 1))
        done
    done
else
    for b in "$@"; do
        for t in 1 2; do
            one "$b" forage-task "$t" 30 11 FORAGE_RECORD= > "$tmp/off"
            one "$b" forage-task "$t" 30 11 FORAGE_RECORD="$tmp/x.rec" > "$tmp/on"
            one "$b" forage-task "$t" 30 11 FORAGE_RECORD="$tmp/x.rec" FORAGE_RECORD_UNITS=4096 > "$tmp/small"
            echo "fib(30) typed P=$t $b: off $(stats "$tmp/off"); on $(stats "$tmp/on"); on, no record memory $(stats "$tmp/small")"
        done
    done
fi
