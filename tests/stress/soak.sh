#!/usr/bin/env bash
# soak.sh: run every stress program for a long time, as rounds of at most
# ROUND seconds with a fresh seed each (a seed sweep), and add up what each
# checked.  Any failing round fails the soak; its seed is in the log.
#   tests/stress/soak.sh BUILD_DIR SECONDS_PER_PROGRAM [PROGRAM...]
# Environment: SOAK_ROUND (seconds per round, default 60), SOAK_SEED (first
# seed; the default comes from the clock), SOAK_LOG (default BUILD_DIR/soak.log).
set -euo pipefail
build=${1:?usage: soak.sh BUILD_DIR SECONDS [PROGRAM...]}
seconds=${2:?usage: soak.sh BUILD_DIR SECONDS [PROGRAM...]}
shift 2
programs=("$@")
[ ${#programs[@]} -gt 0 ] || programs=(deque split-deque fib ctx external group lifecycle idle broadcast algo iter)
round=${SOAK_ROUND:-60}
seed=${SOAK_SEED:-$(( ($(date +%s%N) ^ $$) & 0x7fffffffffffffff ))}
log=${SOAK_LOG:-$build/soak.log}
: > "$log"
echo "soak: ${seconds} s per program, rounds of ${round} s, seed sweep from SOAK_SEED=${seed}, log ${log}" >&2

status=0
printf '%-16s %7s %9s %16s %-8s %14s %s\n' program rounds seconds total unit per_second result
for prog in "${programs[@]}"; do
    exe=$build/tests/stress/stress-$prog
    [ -x "$exe" ] || { echo "soak: $exe is missing" >&2; exit 1; }
    rounds=0 total=0 unit=checks result=ok start=$(date +%s.%N) left=$seconds
    while awk -v l="$left" 'BEGIN { exit !(l > 0.5) }'; do
        s=$(awk -v l="$left" -v r="$round" 'BEGIN { print (l < r ? l : r) }')
        seed=$(( (seed * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff ))
        echo "== $exe --seconds $s --seed $seed" >> "$log"
        if ! out=$("$exe" --seconds "$s" --seed "$seed" 2>&1); then
            printf '%s\n' "$out" >> "$log"
            echo "soak: FAILED: $exe --seconds $s --seed $seed (see $log)" >&2
            result=FAILED status=1
            break
        fi
        printf '%s\n' "$out" >> "$log"
        line=$(printf '%s\n' "$out" | grep -E ': OK seed=[0-9]+ total=[0-9]+ ' | tail -1)
        n=$(sed -E 's/.* total=([0-9]+) .*/\1/' <<< "$line")
        unit=$(sed -E 's/.* total=[0-9]+ ([a-z]+) .*/\1/' <<< "$line")
        total=$(( total + n )) rounds=$(( rounds + 1 ))
        elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
        left=$(awk -v t="$seconds" -v e="$elapsed" 'BEGIN { print t - e }')
    done
    elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    rate=$(awk -v n="$total" -v e="$elapsed" 'BEGIN { printf "%.0f", (e > 0 ? n / e : 0) }')
    printf '%-16s %7d %9s %16d %-8s %14s %s\n' "stress-$prog" "$rounds" "$elapsed" "$total" \
        "$unit" "$rate" "$result"
done
exit $status
