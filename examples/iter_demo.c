/* iter_demo.c: streaming results with fg_parallel_iter, memory bounded by
 * the dispatch window.
 *
 *   forage-iter-demo [--n N] [--n-jobs J] [--batch-size B] [--order index|completion]
 *                    [--backend steal|process]
 *
 * Streams task i -> i * i for i in [0, N) (default 10^7) and folds the
 * results as they arrive, on the stealing backend (or in forked worker
 * processes) with joblib's default pre_dispatch (2 * n_jobs).  Prints the
 * checksum, the time, the heap high-water mark above the starting point,
 * sampled (glibc mallinfo2) every 4096 results, and the peak resident set
 * (VmHWM; the process backend's window is a shared mapping, not heap): the
 * iterator holds a few batches, where fg_parallel_map would need N * 8
 * bytes for its results array.  Exits 1 on a wrong checksum. */
#include <forage.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__GLIBC__)
#  include <malloc.h>
#endif

static int square(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = (uint64_t)i * i;
    return 0;
}

static size_t heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
#else
    return 0;
#endif
}

/* Peak resident set of this process, KiB (0 if unknown). */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    size_t n = 10000000;
    int n_jobs = 2, order = FG_ORDER_INDEX, backend = FG_BACKEND_STEAL;
    long batch = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--n") == 0)
            n = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--n-jobs") == 0)
            n_jobs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--batch-size") == 0)
            batch = strcmp(argv[i + 1], "auto") == 0 ? FG_BATCH_AUTO : atol(argv[i + 1]);
        else if (strcmp(argv[i], "--backend") == 0)
            backend = strcmp(argv[i + 1], "process") == 0 ? FG_BACKEND_PROCESS : FG_BACKEND_STEAL;
        else if (strcmp(argv[i], "--order") == 0)
            order = strcmp(argv[i + 1], "completion") == 0 ? FG_ORDER_COMPLETION : FG_ORDER_INDEX;
        else {
            fprintf(stderr, "usage: %s [--n N] [--n-jobs J] [--batch-size B|auto] "
                            "[--order index|completion] [--backend steal|process]\n", argv[0]);
            return 2;
        }
    }
    fg_parallel *par;
    int err = fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = n_jobs, .batch_size = batch,
                                                      .backend = backend));
    if (err < 0) {
        fprintf(stderr, "forage: %s\n", fg_strerror(err));
        return 1;
    }
    size_t base = heap_in_use(), high = 0;
    long rss0 = peak_rss_kib();
    double t0 = now();
    fg_parallel_iter *it;
    err = fg_parallel_iter_open(par, (fg_delayed){ square, NULL, sizeof(uint64_t) }, 0, n, order,
                                &it);
    if (err < 0) {
        fprintf(stderr, "forage: %s\n", fg_strerror(err));
        return 1;
    }
    uint64_t sum = 0, r;
    size_t i, count = 0;
    while ((err = fg_parallel_iter_next(it, &i, &r)) == 0) {
        sum += r ^ i;
        if (++count % 4096 == 0) {
            size_t used = heap_in_use();
            high = used > base && used - base > high ? used - base : high;
        }
    }
    double t = now() - t0;
    fg_error_info info = FG_ERROR_INFO_INIT();
    fg_parallel_iter_close(it, &info);
    uint64_t want = 0;
    for (size_t k = 0; k < n; k++)
        want += ((uint64_t)k * k) ^ k;
    char batch_text[32] = "auto";
    if (batch > 0)
        snprintf(batch_text, sizeof batch_text, "%ld", batch);
    printf("iter: n=%zu n_jobs=%d batch_size=%s order=%s backend=%s: %zu results, ended with %s, "
           "checksum %s, %.3f s\n", n, n_jobs, batch_text,
           order == FG_ORDER_INDEX ? "index" : "completion",
           backend == FG_BACKEND_PROCESS ? "process" : "steal", count, fg_error_name(err),
           sum == want ? "ok" : "WRONG", t);
    printf("heap high-water above the start while streaming: %zu KiB (fg_parallel_map's "
           "results array alone: %zu KiB)\n", high / 1024, n * sizeof(uint64_t) / 1024);
    printf("peak resident set: %ld KiB at the start, %ld KiB after streaming\n", rss0,
           peak_rss_kib());
    fg_parallel_close(par);
    return sum == want && err == FG_EDONE && count == n ? 0 : 1;
}
