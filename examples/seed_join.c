/* seed_join.c: the seed workload by hand with fg_join (forage-seed-join).
 *
 * 40000 independent tasks, task i returns the sum of the integers below i
 * (the notebook's my_task).  The index range is split by fg_join into a
 * balanced binary tree whose leaves are batches of --batch-size tasks, the
 * way the joblib-style façade (a later issue) will cut it.  Results land in
 * index order; the checksum is their sum, C(n, 3) = 10665866680000 for the
 * notebook's n = 40000.
 *
 * usage: forage-seed-join [--n 40000] [--workers W] [--batch-size 1000] [--reps 3]
 */
#include <forage.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seed_task.h"

typedef struct range {
    fg_pool *pool;
    uint64_t *results;
    size_t begin, end, batch;
} range;

/* Split [begin, end) in halves until it is one batch, then run the batch. */
static int run_range(void *p)
{
    range *r = p;
    if (r->end - r->begin <= r->batch) {
        for (size_t i = r->begin; i < r->end; i++)
            r->results[i] = my_task(i);
        return 0;
    }
    size_t mid = r->begin + (r->end - r->begin) / 2;
    range lo = *r, hi = *r;
    lo.end = mid;
    hi.begin = mid;
    return fg_join(r->pool, run_range, &lo, run_range, &hi);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_long(const char *s, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    long n = 40000, workers = 0, batch = 1000, reps = 3;
    for (int i = 1; i < argc; i++) {
        long *dst = NULL, min = 1;
        if (strcmp(argv[i], "--n") == 0) dst = &n, min = 0;
        else if (strcmp(argv[i], "--workers") == 0) dst = &workers, min = -512;
        else if (strcmp(argv[i], "--batch-size") == 0) dst = &batch;
        else if (strcmp(argv[i], "--reps") == 0) dst = &reps;
        if (dst == NULL || i + 1 >= argc || parse_long(argv[++i], min, dst) < 0) {
            fprintf(stderr, "usage: %s [--n 40000] [--workers W] [--batch-size 1000] [--reps 3]\n",
                    argv[0]);
            return 2;
        }
    }
    uint64_t *seq = calloc((size_t)n + 1, sizeof *seq), *par = calloc((size_t)n + 1, sizeof *par);
    fg_pool *pool;
    int err = fg_pool_create(&pool, FG_CONFIG(.workers = (int)workers));
    if (seq == NULL || par == NULL || err < 0) {
        fprintf(stderr, "forage-demo: %s\n", err < 0 ? fg_strerror(err) : "out of memory");
        return 1;
    }
    uint64_t expect = seed_reference_checksum((uint64_t)n);
    printf("forage %s: seed workload, n=%ld tasks, batch_size=%ld, %d workers\n",
           fg_version_string(), n, batch, fg_pool_workers(pool));
    printf("%-4s %-22s %10s %8s %16s\n", "rep", "run", "seconds", "speedup", "checksum");
    int bad = 0;
    for (long rep = 0; rep < reps; rep++) {
        double t0 = now();
        for (long i = 0; i < n; i++)
            seq[i] = my_task((uint64_t)i);
        double tseq = now() - t0;
        /* From main (not a worker) the first fg_join goes through the
         * pool's injector; every deeper one runs on a worker's deque. */
        range lo = { pool, par, 0, (size_t)n / 2, (size_t)batch }, hi = lo;
        hi.begin = lo.end;
        hi.end = (size_t)n;
        t0 = now();
        err = fg_join(pool, run_range, &lo, run_range, &hi);
        double tpar = now() - t0;
        uint64_t cs = seed_checksum(seq, (size_t)n), cp = seed_checksum(par, (size_t)n);
        bad |= err != 0 || cs != expect || cp != expect || memcmp(seq, par, (size_t)n * sizeof *seq) != 0;
        printf("%-4ld %-22s %10.4f %8s %16" PRIu64 "\n", rep, "sequential loop", tseq, "1.00", cs);
        printf("%-4ld %-22s %10.4f %8.2f %16" PRIu64 "\n", rep, "forage fork-join", tpar,
               tseq / tpar, cp);
    }
    printf("reference checksum %" PRIu64 ": %s\n", expect, bad ? "MISMATCH" : "ok");
    fg_pool_destroy(pool);
    free(seq);
    free(par);
    return bad ? 1 : 0;
}
