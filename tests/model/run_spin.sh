#!/bin/sh
# run_spin.sh: check a Promela model with Spin, for meson test.
#
#   run_spin.sh [--expect-error] [--safety] [--ltl name,name...]
#               [--pan-cflags "..."] [-DNAME[=VALUE]...] model.pml
#
# --safety   compile pan with -DSAFETY -DNOCLAIM and search for assertion
#            violations and invalid end states (deadlocks, lost wake-ups).
# --ltl      compile pan with the model's ltl blocks and check each named
#            formula for acceptance cycles under weak fairness (-a -f -N).
# -D...      passed to spin (the model's own #ifdefs: NW, SCEN, BUG_...).
# --expect-error
#            the model is a known-bad variant: succeed only if EVERY
#            requested check reports an error (and print its trail).
#
# Without --expect-error every check must end with "errors: 0" after a
# complete search.  Environment: SPIN (default spin), SPIN_CC (default cc,
# may hold several words, e.g. "ccache gcc").
set -u

spin=${SPIN:-spin}
pan_cc=${SPIN_CC:-cc}
expect_error=0
safety=0
ltl=""
pan_cflags=""
defines=""
model=""

while [ $# -gt 0 ]; do
    case $1 in
    --expect-error) expect_error=1 ;;
    --safety) safety=1 ;;
    --ltl) shift; ltl=$(echo "$1" | tr ',' ' ') ;;
    --pan-cflags) shift; pan_cflags=$1 ;;
    -D*) defines="$defines $1" ;;
    -*) echo "run_spin.sh: unknown option $1" >&2; exit 2 ;;
    *) model=$1 ;;
    esac
    shift
done
if [ -z "$model" ] || [ ! -f "$model" ]; then
    echo "run_spin.sh: no model file given" >&2
    exit 2
fi
if [ $safety = 0 ] && [ -z "$ltl" ]; then
    echo "run_spin.sh: nothing to check (give --safety and/or --ltl)" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/run_spin.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
cp "$model" "$work/model.pml" || exit 2
cd "$work" || exit 2

echo "model: $model  defines:${defines:- (none)}"
# shellcheck disable=SC2086
if ! "$spin" -a $defines model.pml >spin.out 2>&1; then
    cat spin.out
    echo "run_spin.sh: spin -a failed" >&2
    exit 2
fi

failures=0

# check LABEL OUTPUT-FILE: judge one pan run, print its trail if it has one.
check() {
    label=$1 out=$2
    grep -E "^pan:|errors:|states, stored|transitions|depth reached|elapsed time" "$out" |
        sed "s/^/  [$label] /"
    if grep -q "errors: 0" "$out"; then
        if grep -qE "max search depth too small|out of memory|Search not completed" "$out"; then
            echo "  [$label] INCOMPLETE search: raise -m / memory"
            failures=$((failures + 1))
        elif [ $expect_error = 1 ]; then
            echo "  [$label] no error found, but this variant must produce one"
            failures=$((failures + 1))
        else
            echo "  [$label] ok"
        fi
    elif grep -qE "errors: [1-9]" "$out"; then
        if [ $expect_error = 1 ]; then
            echo "  [$label] error found, as expected for this variant; trail:"
        else
            echo "  [$label] FAILED; trail:"
            failures=$((failures + 1))
        fi
        # Replay the trail; drop bookkeeping lines to keep the log short.
        # shellcheck disable=SC2086
        "$spin" -t -p $defines model.pml 2>&1 |
            grep -E "proc +[0-9]+ |invalid end state|assertion violated|START OF CYCLE|<<<<<" |
            grep -vE "assert\(|announcing = |undoing = |\[else\]|\[\(1\)\]|\[(start|k|res|old|ok|inl|won|w|first) = [0-9]+\]" |
            tail -n 80 | sed 's/^/    /'
        rm -f model.pml.trail
    else
        cat "$out"
        echo "  [$label] pan did not report a result"
        failures=$((failures + 1))
    fi
}

if [ $safety = 1 ]; then
    # shellcheck disable=SC2086
    if ! $pan_cc -O2 -DSAFETY -DNOCLAIM $pan_cflags -o pan_safety pan.c >cc.out 2>&1; then
        cat cc.out; echo "run_spin.sh: compiling pan failed" >&2; exit 2
    fi
    # -i: shortest trail, for a known-bad variant (cheap: its search is short)
    short=""
    [ $expect_error = 1 ] && short=-i
    ./pan_safety -m200000 -n $short >safety.out 2>&1
    check safety safety.out
fi

if [ -n "$ltl" ]; then
    # shellcheck disable=SC2086
    if ! $pan_cc -O2 $pan_cflags -o pan_ltl pan.c >cc.out 2>&1; then
        cat cc.out; echo "run_spin.sh: compiling pan failed" >&2; exit 2
    fi
    for name in $ltl; do
        ./pan_ltl -a -f -m200000 -n -N "$name" >"ltl-$name.out" 2>&1
        check "ltl $name" "ltl-$name.out"
    done
fi

if [ $failures -ne 0 ]; then
    echo "run_spin.sh: $failures check(s) failed"
    exit 1
fi
if [ $expect_error = 1 ]; then
    echo "run_spin.sh: every check found the variant's error, as it must"
else
    echo "run_spin.sh: all checks passed"
fi
exit 0
