/* find_demo.c: early exit with fg_parallel_find_first on a large range.
 *
 *   forage-find-demo [--n N] [--hit H] [--workers P] [--reps R]
 *
 * Searches [0, N) (default 10^8) for the first index whose hash equals the
 * hash of H (default 0.6 N + 12345), on P workers (default: all CPUs), R
 * times (default 3).  Each run prints the index found, how many indices
 * were checked, how many of them lay above the hit, and how many chunks
 * (FG_FIND_CHUNK indices each) above the hit's chunk were touched: the
 * search stops within a chunk or two of the hit instead of sweeping the
 * remaining 40%.  Then a plain loop for comparison.  Exits 1 if an answer
 * is wrong. */
#include <forage.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 65

/* Counts per worker (slot 0: a non-worker thread), a cache line each, so
 * that counting does not make the workers contend. */
typedef struct counts {
    _Alignas(64) size_t checked, above;
} counts;

typedef struct search {
    uint64_t target;
    size_t hit;
    counts per[MAX_THREADS];
    atomic_uchar *chunk_seen; /* one flag per chunk */
} search;

static uint64_t mix(uint64_t x) /* splitmix64's finaliser */
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static int is_target(size_t i, void *ctx)
{
    search *s = ctx;
    int w = fg_worker_index() + 1;
    counts *c = &s->per[w > 0 && w < MAX_THREADS ? w : 0];
    c->checked++;
    if (i > s->hit) {
        c->above++;
        atomic_store_explicit(&s->chunk_seen[i / FG_FIND_CHUNK], 1, memory_order_relaxed);
    }
    return mix(i) == s->target;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    size_t n = 100000000, hit = SIZE_MAX;
    int workers = 0, reps = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--n") == 0)
            n = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--hit") == 0)
            hit = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--workers") == 0)
            workers = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--reps") == 0)
            reps = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: %s [--n N] [--hit H] [--workers P] [--reps R]\n", argv[0]);
            return 2;
        }
    }
    if (hit == SIZE_MAX)
        hit = n / 10 * 6 + 12345 < n ? n / 10 * 6 + 12345 : n - 1;
    fg_pool *pool;
    int err = fg_pool_create(&pool, FG_CONFIG(.workers = workers));
    if (err == 0 && fg_pool_workers(pool) >= MAX_THREADS) {
        fprintf(stderr, "find_demo: at most %d workers\n", MAX_THREADS - 1);
        return 2;
    }
    if (err < 0) {
        fprintf(stderr, "forage: %s\n", fg_strerror(err));
        return 1;
    }
    size_t nchunks = n / FG_FIND_CHUNK + 1;
    static search s;
    s.target = mix(hit);
    s.hit = hit;
    s.chunk_seen = calloc(nchunks, 1);
    printf("find_first over [0, %zu), hit at %zu (chunk %zu), %d workers, chunks of %d\n", n,
           hit, hit / FG_FIND_CHUNK, fg_pool_workers(pool), FG_FIND_CHUNK);
    int bad = 0;
    for (int r = 0; r < reps; r++) {
        memset(s.per, 0, sizeof s.per);
        memset((void *)s.chunk_seen, 0, nchunks);
        size_t index = 0;
        double t0 = now();
        err = fg_parallel_find_first(pool, 0, n, is_target, &s, &index);
        double t = now() - t0;
        size_t chunks_above = 0, checked = 0, above = 0;
        for (int w = 0; w < MAX_THREADS; w++) {
            checked += s.per[w].checked;
            above += s.per[w].above;
        }
        for (size_t c = hit / FG_FIND_CHUNK + 1; c < nchunks; c++)
            chunks_above += s.chunk_seen[c];
        printf("run %d: found %zu in %.3f s | checked %zu | above the hit: %zu indices, "
               "%zu chunks past the hit's own | unchecked: %zu\n",
               r, index, t, checked, above, chunks_above, n - checked);
        bad |= err != 0 || index != hit;
    }
    double t0 = now();
    size_t plain = n;
    for (size_t i = 0; i < n; i++)
        if (mix(i) == s.target) {
            plain = i;
            break;
        }
    printf("plain loop: found %zu in %.3f s\n", plain, now() - t0);
    bad |= plain != hit;
    free((void *)s.chunk_seen);
    fg_pool_destroy(pool);
    if (bad)
        fprintf(stderr, "find_demo: wrong answer\n");
    return bad;
}
