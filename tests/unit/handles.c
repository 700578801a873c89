/* tests/unit/handles.c: the thread-safety forage.h promises for its
 * handles (see "Thread safety" there): one fg_parallel used by two threads
 * at once (maps with the adaptive batch size they share, calls, iterators,
 * progress lines to one log), and one pool under loops from several
 * threads. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forage.h"

TestSuite(handles, .timeout = 120);

#define N 20000
#define ROUNDS 30

static int cube(size_t i, void *ctx, void *result)
{
    *(uint64_t *)result = (uint64_t)i * i * i + (uint64_t)(uintptr_t)ctx;
    return 0;
}

typedef struct user { fg_parallel *par; uintptr_t salt; int bad; } user;

static void *use_par(void *p)
{
    user *u = p;
    uint64_t *out = malloc(N * sizeof *out);
    for (int r = 0; r < ROUNDS && !u->bad; r++) {
        size_t begin = (size_t)r * 7;
        if (fg_parallel_map(u->par, (fg_delayed){ cube, (void *)u->salt, sizeof *out }, begin,
                            begin + N, out, NULL) != 0)
            u->bad = 1;
        for (size_t k = 0; k < N; k++)
            if (out[k] != (uint64_t)(begin + k) * (begin + k) * (begin + k) + u->salt)
                u->bad = 2;
        fg_parallel_iter *it;
        if (fg_parallel_iter_open(u->par, (fg_delayed){ cube, (void *)u->salt, sizeof *out }, 0,
                                  1000, FG_ORDER_INDEX, &it) != 0) {
            u->bad = 3;
            break;
        }
        size_t i, want = 0;
        uint64_t v;
        while (fg_parallel_iter_next(it, &i, &v) == 0)
            if (i != want++ || v != (uint64_t)i * i * i + u->salt)
                u->bad = 4;
        if (want != 1000)
            u->bad = 5;
        fg_parallel_iter_close(it, NULL);
    }
    free(out);
    return NULL;
}

ParameterizedTestParameters(handles, one_parallel_two_threads)
{
    static int backends[] = { FG_BACKEND_STEAL, FG_BACKEND_SHARED, FG_BACKEND_SEQUENTIAL };
    return cr_make_param_array(int, backends, 3);
}

ParameterizedTest(int *backend, handles, one_parallel_two_threads)
{
    FILE *log = tmpfile();
    cr_assert_not_null(log);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .backend = *backend,
                                                            .batch_size = FG_BATCH_AUTO,
                                                            .verbose = 1, .log = log)), 0);
    user a = { par, 1, 0 }, b = { par, 2, 0 };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, use_par, &a);
    pthread_create(&tb, NULL, use_par, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert_eq(a.bad, 0, "thread a: check %d failed", a.bad);
    cr_assert_eq(b.bad, 0, "thread b: check %d failed", b.bad);
    fg_parallel_close(par);
    /* Every line whole: each starts with the prefix. */
    rewind(log);
    char line[512];
    int lines = 0;
    while (fgets(line, sizeof line, log) != NULL) {
        cr_assert(strncmp(line, "[Parallel(n_jobs=2)]: ", 22) == 0, "torn line: %s", line);
        lines++;
    }
    cr_assert_geq(lines, 2 * ROUNDS, "a Using-backend line per map at least");
    fclose(log);
}

static int sum_body(size_t b, size_t e, void *ctx)
{
    uint64_t s = 0;
    for (size_t i = b; i < e; i++)
        s += i;
    __atomic_fetch_add((uint64_t *)ctx, s, __ATOMIC_RELAXED);
    return 0;
}

typedef struct looper { fg_pool *pool; int bad; } looper;

static void *loop_on_pool(void *p)
{
    looper *l = p;
    for (int r = 0; r < 200; r++) {
        uint64_t sum = 0;
        if (fg_parallel_for(l->pool, 0, 10000, FG_FOR_OPTS(.grain = 64), sum_body, &sum) != 0 ||
            sum != 10000ull * 9999 / 2)
            l->bad = 1;
    }
    return NULL;
}

Test(handles, one_pool_three_threads)
{
    fg_pool *pool;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 2)), 0);
    looper l[3] = { { pool, 0 }, { pool, 0 }, { pool, 0 } };
    pthread_t t[3];
    for (int k = 0; k < 3; k++)
        pthread_create(&t[k], NULL, loop_on_pool, &l[k]);
    for (int k = 0; k < 3; k++) {
        pthread_join(t[k], NULL);
        cr_assert_eq(l[k].bad, 0);
    }
    fg_pool_destroy(pool);
}
