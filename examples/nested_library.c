/* nested_library.c: a library that runs its parallel work on the caller's
 * pool, so calling it from inside tasks adds no threads.
 *
 *   forage-nested-library [--workers P] [--calls C] [--n N]
 *
 * lib_sum_squares() is "a library": it parallelises with fg_parallel_for on
 * fg_pool_current() when called from a forage task, else on
 * fg_pool_default(); it also opens a joblib-style fg_parallel with no pool,
 * which picks up the current pool the same way.  The program counts the
 * process's threads (/proc/self/task) before any pool exists, after its
 * own pool started, and from inside every library call, which runs in C
 * tasks of an outer fg_parallel_map: the count inside must equal the count
 * with the pool alone.  Exits 1 if a thread was added or a sum is wrong. */
#include <forage.h>

#include <dirent.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ------------------------------------------------------- the library */

typedef struct lib_span { uint64_t base; _Atomic uint64_t sum; } lib_span;

static int lib_body(size_t b, size_t e, void *ctx)
{
    lib_span *s = ctx;
    uint64_t sum = 0;
    for (size_t i = b; i < e; i++)
        sum += (s->base + i) * (s->base + i);
    atomic_fetch_add(&s->sum, sum);
    return 0;
}

static int lib_cube(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = (uint64_t)i * i * i;
    return 0;
}

static atomic_int max_threads_inside;

/* sum of (base + i)^2 for i < n, plus sum of i^3 for i < 64 through a
 * nested façade; -1 on error. */
static int64_t lib_sum_squares(uint64_t base, size_t n)
{
    fg_pool *pool = fg_pool_current(); /* inside a task: the caller's pool */
    if (pool == NULL)
        pool = fg_pool_default();
    lib_span s = { base, 0 };
    if (pool == NULL || fg_parallel_for(pool, 0, n, FG_FOR_OPTS(.grain = 1024), lib_body, &s) != 0)
        return -1;
    fg_parallel *par; /* no pool given: inside a task it uses the current one */
    uint64_t cubes[64], cube_sum = 0;
    if (fg_parallel_open(&par, FG_PARALLEL_OPTS(.batch_size = 8)) != 0)
        return -1;
    int threads = count_threads();
    int err = fg_parallel_map(par, (fg_delayed){ lib_cube, NULL, sizeof(uint64_t) }, 0, 64, cubes,
                              NULL);
    fg_parallel_close(par);
    int seen = atomic_load(&max_threads_inside);
    while (threads > seen && !atomic_compare_exchange_weak(&max_threads_inside, &seen, threads)) {}
    for (int i = 0; i < 64; i++)
        cube_sum += cubes[i];
    return err != 0 ? -1 : (int64_t)(atomic_load(&s.sum) + cube_sum);
}

/* ------------------------------------------------------- the program */

static int outer_task(size_t i, void *ctx, void *result)
{
    size_t n = *(const size_t *)ctx;
    *(int64_t *)result = lib_sum_squares(i * 1000, n);
    return 0;
}

static uint64_t expected(uint64_t base, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (base + i) * (base + i);
    for (uint64_t i = 0; i < 64; i++)
        sum += i * i * i;
    return sum;
}

int main(int argc, char **argv)
{
    int workers = 4;
    size_t calls = 16, n = 100000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--workers") == 0)
            workers = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--calls") == 0)
            calls = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--n") == 0)
            n = strtoull(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [--workers P] [--calls C] [--n N]\n", argv[0]);
            return 2;
        }
    }
    int before = count_threads();
    fg_parallel *par;
    int err = fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = workers, .batch_size = 1));
    if (err < 0) {
        fprintf(stderr, "forage: %s\n", fg_strerror(err));
        return 1;
    }
    int with_pool = count_threads();
    int64_t *sums = calloc(calls, sizeof *sums);
    err = fg_parallel_map(par, (fg_delayed){ outer_task, &n, sizeof *sums }, 0, calls, sums, NULL);
    int after = count_threads();
    int bad = err != 0;
    for (size_t c = 0; c < calls; c++)
        bad |= sums[c] != (int64_t)expected(c * 1000, n);
    int inside = atomic_load(&max_threads_inside);
    printf("threads: %d before any pool, %d with the façade's pool of %d workers, "
           "at most %d inside %zu nested library calls, %d after\n",
           before, with_pool, workers, inside, calls, after);
    printf("library results: %s\n", bad ? "WRONG" : "ok");
    if (inside != with_pool) {
        printf("the nested calls added %d thread(s)\n", inside - with_pool);
        bad = 1;
    } else {
        printf("the nested calls added no thread\n");
    }
    free(sums);
    fg_parallel_close(par);
    return bad;
}
