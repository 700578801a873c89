/* process.c: the process backend's costs (docs/design/process.md,
 * "Costs"), as figures:
 *   fixed     one map call of P trivial tasks (batch 1) with n_jobs = P: the
 *             median of 20 calls per rep, for this small program and again
 *             with --resident MiB (default 100) touched in memory, which
 *             fork() has to copy the page tables of: in 4 KiB pages, and
 *             in transparent huge pages (MADV_HUGEPAGE, 512 times fewer
 *             entries).  The calls follow each other at once, so each one
 *             first waits for the last one's workers to finish exiting
 *             (their exit is left to the reaper when a map returns);
 *   isolated  the same 100 MiB call 10 ms after the last one: what a caller
 *             that does anything between calls waits for;
 *   per-task  (P * Tp - Tseq) / m on m = 250 * n trivial tasks (task i
 *             stores i) at batch auto: worker time per task beyond the
 *             task itself, as trivial.c measures the thread backends;
 *             the first map of a new fg_parallel, and again for a second
 *             map on it, which takes the region the first one kept
 *             (process.md, "The region kept between calls");
 *   floor     with the large heap: P bare fork()s whose children _exit(0)
 *             at once, reaped by waitpid, median of 20: what any backend
 *             that forks P workers per call pays before running anything;
 *             back to back, and again 10 ms after the last (the isolated
 *             call's floor: an idle gap makes the forks themselves dearer);
 *   seed      the seed workload (n tasks, my_task) at batch 1000 on the
 *             process backend and on STEAL in the same run, interleaved:
 *             efficiency Tseq / (P * Tp) of each and their ratio.
 * CSV rows on stdout (bench.h's columns), the summary on stderr.
 *
 * usage: process [--threads 2] [--reps 5] [--n 40000] [--resident 100]
 *                [--no-header] */
#include <forage.h>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/bench.h"
#include "../../examples/seed_task.h"
#include "trivial.h"

/* One map: seconds, or -1 on a failure (the checksum is checked by the
 * caller). */
static double map_once(int backend, int p, long batch, fg_task_fn fn, uint64_t *r, size_t m)
{
    fg_parallel *par;
    if (fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = p, .batch_size = batch,
                                                .backend = backend)) < 0)
        return -1;
    double t0 = bench_now();
    int err = fg_parallel_map(par, (fg_delayed){ fn, NULL, sizeof *r }, 0, m, r, NULL);
    double t = bench_now() - t0;
    fg_parallel_close(par);
    return err == 0 ? t : -1;
}

/* Two trivial maps of m tasks on one new fg_parallel: the first over
 * [0, m) (seconds in *first, checksum in *sum_first), the second over
 * [1, m + 1) (seconds returned, its checksum in *sum), or -1 on a
 * failure. */
static double map_twice(int p, uint64_t *r, size_t m, double *first, uint64_t *sum_first,
                        uint64_t *sum)
{
    fg_parallel *par;
    if (fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = p, .batch_size = FG_BATCH_AUTO,
                                                .backend = FG_BACKEND_PROCESS)) < 0)
        return -1;
    fg_delayed d = { trivial_task, NULL, sizeof *r };
    double t0 = bench_now();
    int err = fg_parallel_map(par, d, 0, m, r, NULL);
    *first = bench_now() - t0;
    *sum_first = seed_checksum(r, m);
    t0 = bench_now();
    err |= fg_parallel_map(par, d, 1, m + 1, r, NULL);
    double t = bench_now() - t0;
    *sum = seed_checksum(r, m);
    fg_parallel_close(par);
    return err == 0 ? t : -1;
}

/* Median of 20 rounds of P bare forks, each child exiting at once, all
 * reaped, each round after a pause of pause_us: the floor under the fixed
 * cost for this caller's memory (pause_us 10000: under the isolated call). */
static double fork_floor(int p, unsigned pause_us)
{
    double t[20];
    for (int k = 0; k < 20; k++) {
        pid_t kids[BENCH_MAX_THREADS];
        if (pause_us > 0)
            usleep(pause_us);
        double t0 = bench_now();
        for (int i = 0; i < p; i++) {
            kids[i] = fork();
            if (kids[i] == 0)
                _exit(0);
            if (kids[i] < 0)
                return -1;
        }
        for (int i = 0; i < p; i++)
            if (waitpid(kids[i], NULL, 0) != kids[i])
                return -1;
        t[k] = bench_now() - t0;
    }
    return bench_median(t, 20);
}

/* Median of 20 calls of P trivial tasks on one open façade, each after a
 * pause of pause_us. */
static double fixed_cost(int p, uint64_t *r, unsigned pause_us)
{
    fg_parallel *par;
    if (fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = p, .batch_size = 1,
                                                .backend = FG_BACKEND_PROCESS)) < 0)
        return -1;
    double t[20];
    for (int k = 0; k < 20; k++) {
        if (pause_us > 0)
            usleep(pause_us);
        double t0 = bench_now();
        int err = fg_parallel_map(par, (fg_delayed){ trivial_task, NULL, sizeof *r }, 0,
                                  (size_t)p, r, NULL);
        t[k] = bench_now() - t0;
        if (err != 0 || seed_checksum(r, (size_t)p) != (uint64_t)p * (uint64_t)(p - 1) / 2) {
            fg_parallel_close(par);
            return -1;
        }
    }
    fg_parallel_close(par);
    return bench_median(t, 20);
}

static double seq_seed(uint64_t *r, size_t n)
{
    double t0 = bench_now();
    for (size_t i = 0; i < n; i++)
        r[i] = my_task(i);
    return bench_now() - t0;
}

int main(int argc, char **argv)
{
    long resident_mib = 100;
    for (int i = 1; i + 1 < argc; i++) /* ours, then bench.h's */
        if (strcmp(argv[i], "--resident") == 0) {
            resident_mib = strtol(argv[i + 1], NULL, 10);
            for (int j = i; j + 2 <= argc; j++)
                argv[j] = argv[j + 2];
            argc -= 2;
            break;
        }
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 40000);
    if (rc != 0 || resident_mib < 0)
        return rc != 0 ? rc : 2;
    int p = o.threads[0];
    size_t n = (size_t)o.param, m = 250 * n;
    bench_header(&o);
    double fixed_small[BENCH_MAX_REPS], fixed_big[BENCH_MAX_REPS], fixed_huge[BENCH_MAX_REPS];
    double isolated_big[BENCH_MAX_REPS];
    double floor_big[BENCH_MAX_REPS], floor_isolated[BENCH_MAX_REPS];
    double over[BENCH_MAX_REPS], over_again[BENCH_MAX_REPS];
    /* The small caller first, before the large arrays below exist. */
    uint64_t small[BENCH_MAX_THREADS * 8];
    for (int rep = -1; rep < o.reps; rep++) {
        double fs = fixed_cost(p, small, 0);
        if (fs < 0)
            return 1;
        if (rep >= 0) {
            fixed_small[rep] = fs;
            bench_row("forage-process", "fixed", (long)p, 1, p, rep, fs, 0);
        }
    }
    uint64_t *r = calloc(m + 1, sizeof *r);
    if (r == NULL)
        return 1;
    uint64_t trivial_expect = m > 0 ? (uint64_t)m * (m - 1) / 2 : 0;
    uint64_t again_expect = (uint64_t)m * (m + 1) / 2; /* tasks 1..m */
    int bad = 0;
    for (int rep = -1; rep < o.reps && !bad; rep++) { /* rep -1: warm-up */
        double ts = trivial_seq(r, m), tp;
        uint64_t sum, sum_again;
        double tp2 = map_twice(p, r, m, &tp, &sum, &sum_again);
        bad |= tp2 < 0 || sum != trivial_expect || sum_again != again_expect;
        if (rep < 0 || bad)
            continue;
        over[rep] = ((double)p * tp - ts) / (double)m * 1e9;
        over_again[rep] = ((double)p * tp2 - ts) / (double)m * 1e9;
        bench_row("seq", "trivial", (long)m, 0, 1, rep, ts, trivial_expect);
        bench_row("forage-process", "trivial", (long)m, -1, p, rep, tp, trivial_expect);
        bench_row("forage-process", "trivial-again", (long)m, -1, p, rep, tp2, again_expect);
    }
    /* The trivial tasks' results are large (250 n tasks, 8 bytes each):
     * let them go, so that the seed runs in a caller holding the seed's
     * own n results, as the seed program does (each fork copies the page
     * tables of whatever the caller holds), and the fixed costs below in
     * the memory they name. */
    free(r);
    r = calloc(n + 16, sizeof *r);
    double eff_proc[BENCH_MAX_REPS], eff_steal[BENCH_MAX_REPS];
    uint64_t seed_expect = seed_reference_checksum(n);
    for (int rep = -1; rep < o.reps && !bad && r != NULL; rep++) {
        double tseq = seq_seed(r, n);
        double tproc = map_once(FG_BACKEND_PROCESS, p, 1000, my_task_delayed, r, n);
        bad |= tproc < 0 || seed_checksum(r, n) != seed_expect;
        double tsteal = map_once(FG_BACKEND_STEAL, p, 1000, my_task_delayed, r, n);
        bad |= tsteal < 0 || seed_checksum(r, n) != seed_expect;
        if (rep < 0 || bad)
            continue;
        eff_proc[rep] = tseq / ((double)p * tproc);
        eff_steal[rep] = tseq / ((double)p * tsteal);
        bench_row("seq", "seed", (long)n, 0, 1, rep, tseq, seed_expect);
        bench_row("forage-process", "seed", (long)n, 1000, p, rep, tproc, seed_expect);
        bench_row("forage-steal", "seed", (long)n, 1000, p, rep, tsteal, seed_expect);
    }
    /* The same fixed cost with a large resident heap, in 4 KiB pages and
     * then in huge pages. */
    size_t big = ((size_t)resident_mib << 20) + (2u << 20);
    for (int huge = 0; huge < 2 && !bad && r != NULL; huge++) {
        char *heap = aligned_alloc(2u << 20, big);
        if (heap == NULL) {
            bad = 1;
            break;
        }
        if (huge)
            madvise(heap, big, MADV_HUGEPAGE);
        memset(heap, 1, big);
        __asm__ volatile("" : : "r"(heap) : "memory"); /* keep the stores */
        double *out = huge ? fixed_huge : fixed_big;
        for (int rep = 0; rep < o.reps && !bad; rep++) {
            if (!huge) {
                floor_big[rep] = fork_floor(p, 0);
                floor_isolated[rep] = fork_floor(p, 10000);
                bad |= floor_big[rep] < 0 || floor_isolated[rep] < 0;
                if (!bad) {
                    bench_row("fork", "floor-resident", resident_mib, 0, p, rep, floor_big[rep], 0);
                    bench_row("fork", "floor-isolated-resident", resident_mib, 0, p, rep,
                              floor_isolated[rep], 0);
                }
            }
            out[rep] = fixed_cost(p, r, 0);
            bad |= out[rep] < 0;
            if (!bad)
                bench_row("forage-process", huge ? "fixed-resident-huge" : "fixed-resident",
                          resident_mib, 1, p, rep, out[rep], 0);
            if (!huge && !bad) {
                isolated_big[rep] = fixed_cost(p, r, 10000);
                bad |= isolated_big[rep] < 0;
                if (!bad)
                    bench_row("forage-process", "isolated-resident", resident_mib, 1, p, rep,
                              isolated_big[rep], 0);
            }
        }
        free(heap);
    }
    free(r);
    if (bad) {
        fprintf(stderr, "process: a run failed or a checksum did not match\n");
        return 1;
    }
    double es = bench_median(eff_steal, o.reps), ep = bench_median(eff_proc, o.reps);
    fprintf(stderr, "process backend, n_jobs=%d, medians of %d reps:\n", p, o.reps);
    fprintf(stderr, "  fixed cost of one map call:    %.3f ms (small caller), %.3f ms (%ld MiB "
                    "resident, 4 KiB pages), %.3f ms (the same in huge pages)\n",
            bench_median(fixed_small, o.reps) * 1e3, bench_median(fixed_big, o.reps) * 1e3,
            resident_mib, bench_median(fixed_huge, o.reps) * 1e3);
    fprintf(stderr, "  the same, 10 ms after the last:  %.3f ms (%ld MiB resident, 4 KiB pages)\n",
            bench_median(isolated_big, o.reps) * 1e3, resident_mib);
    fprintf(stderr, "  floor: %d bare forks + exits:  %.3f ms (%ld MiB resident, 4 KiB pages)\n",
            p, bench_median(floor_big, o.reps) * 1e3, resident_mib);
    fprintf(stderr, "  the floor, 10 ms after the last: %.3f ms\n",
            bench_median(floor_isolated, o.reps) * 1e3);
    fprintf(stderr, "  per-task overhead, batch auto: %.2f ns/task (%zu trivial tasks)\n",
            bench_median(over, o.reps), m);
    fprintf(stderr, "  the same, second map on one fg_parallel: %.2f ns/task\n",
            bench_median(over_again, o.reps));
    fprintf(stderr, "  seed n=%zu batch 1000:        efficiency %.3f (STEAL %.3f), ratio %.3f\n",
            n, ep, es, ep / es);
    return 0;
}
