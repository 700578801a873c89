/* shared_driver.c: forage-demo's single-configuration mode (examples/
 * notebook.c) for tests/golden/model_check.py, which cannot use forage-demo
 * itself: examples/ is configured after tests/.
 *
 * Same task (the notebook's my_task with the asm barrier), same options,
 * same output: joblib's lines on the stream the façade picks (log NULL:
 * stderr below verbose 50, stdout from 50), then "checksum ..." on stdout.
 * One addition: --trace FILE writes every on_progress record, one line
 * "tasks_done tasks_dispatched batches_dispatched finished", so the checker
 * knows the completion order the lines were printed for.
 *
 * usage: golden-shared-driver [--n 40000] [--n-jobs 4] [--batch-size 1000|auto]
 *                             [--verbose 10] [--backend steal|shared|sequential]
 *                             [--trace FILE]
 */
#include <forage.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../examples/seed_task.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* on_progress runs under the call's lock, so records arrive one at a time;
 * they are kept in memory and written after the call. */
typedef struct trace {
    fg_progress *v;
    size_t n, cap;
} trace;

static void on_progress(const fg_progress *p, void *ctx)
{
    trace *t = ctx;
    if (t->n < t->cap)
        t->v[t->n] = *p;
    t->n++;
}

int main(int argc, char **argv)
{
    static const char *const backends[] = { "steal", "shared", "sequential" };
    long n = 40000, n_jobs = 4, batch = 1000, verbose = 10;
    int backend = FG_BACKEND_STEAL;
    const char *trace_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i], *val = i + 1 < argc ? argv[++i] : NULL;
        int ok = val != NULL;
        if (ok && strcmp(flag, "--n") == 0) {
            ok = seed_parse_long(val, &n) == 0 && n >= 0;
        } else if (ok && strcmp(flag, "--n-jobs") == 0) {
            ok = seed_parse_long(val, &n_jobs) == 0;
        } else if (ok && strcmp(flag, "--batch-size") == 0) {
            batch = FG_BATCH_AUTO;
            ok = strcmp(val, "auto") == 0 || (seed_parse_long(val, &batch) == 0 && batch > 0);
        } else if (ok && strcmp(flag, "--verbose") == 0) {
            ok = seed_parse_long(val, &verbose) == 0 && verbose >= 0;
        } else if (ok && strcmp(flag, "--backend") == 0) {
            backend = -1;
            for (int b = 0; b < 3; b++)
                if (strcmp(val, backends[b]) == 0)
                    backend = b;
            ok = backend >= 0;
        } else if (ok && strcmp(flag, "--trace") == 0) {
            trace_path = val;
        } else {
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "usage: %s [--n 40000] [--n-jobs 4] [--batch-size 1000|auto] "
                            "[--verbose 10] [--backend steal|shared|sequential] [--trace FILE]\n",
                    argv[0]);
            return 2;
        }
    }
    size_t total = (size_t)n;
    uint64_t *results = calloc(total + 1, sizeof *results);
    trace t = { calloc(total + 2, sizeof(fg_progress)), 0, total + 2 };
    if (results == NULL || t.v == NULL)
        return 1;
    fg_parallel *par;
    fg_parallel_opts po = FG_PARALLEL_OPTS_INIT(.n_jobs = (int)n_jobs, .batch_size = batch, .verbose = (int)verbose,
                            .backend = backend);
    if (trace_path != NULL) {
        po.on_progress = on_progress;
        po.progress_ctx = &t;
    }
    int err = fg_parallel_open(&par, &po);
    if (err < 0) {
        fprintf(stderr, "golden-shared-driver: fg_parallel_open: %s\n", fg_strerror(err));
        return 1;
    }
    fg_error_info info = FG_ERROR_INFO_INIT();
    double t0 = now_s();
    err = fg_parallel_map(par, (fg_delayed){ my_task_delayed, NULL, sizeof(uint64_t) }, 0, total,
                          results, &info);
    double secs = now_s() - t0;
    fg_parallel_close(par);
    if (err != 0) {
        fprintf(stderr, "golden-shared-driver: task %zu failed: %d\n", info.index, err);
        return 1;
    }
    if (trace_path != NULL) {
        FILE *f = fopen(trace_path, "w");
        if (f == NULL || t.n > t.cap)
            return 1;
        for (size_t i = 0; i < t.n; i++)
            fprintf(f, "%zu %zu %zu %d\n", t.v[i].tasks_done, t.v[i].tasks_dispatched,
                    t.v[i].batches_dispatched, t.v[i].finished);
        if (fclose(f) != 0)
            return 1;
    }
    uint64_t cs = 0;
    for (size_t i = 0; i < total; i++)
        cs += results[i];
    uint64_t expect = total >= 3 ? (uint64_t)total * (total - 1) * (total - 2) / 6 : 0;
    printf("checksum %" PRIu64 " (%s, %.4f s)\n", cs, cs == expect ? "ok" : "MISMATCH", secs);
    free(results);
    free(t.v);
    return cs != expect;
}
