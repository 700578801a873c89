/* tests/unit/broadcast.c: fg_broadcast (runtime/broadcast.c), the worker
 * scope of fg_worker_index, and fg_pool_default (runtime/pool_default.c). */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "forage.h"
#include "threads.h"

TestSuite(broadcast, .timeout = 60);

typedef struct counts {
    atomic_int per_worker[64];
    pthread_t thread[64];
    atomic_int calls;
    int fail_from; /* workers >= this return their index + 100 */
} counts;

static int count_call(int worker, void *ctx)
{
    counts *c = ctx;
    cr_assert_eq(fg_worker_index(), worker, "runs on the worker it names");
    atomic_fetch_add(&c->per_worker[worker], 1);
    c->thread[worker] = pthread_self();
    atomic_fetch_add(&c->calls, 1);
    return worker >= c->fail_from ? worker + 100 : 0;
}

static void check_once_each(counts *c, int workers)
{
    cr_assert_eq(atomic_load(&c->calls), workers);
    for (int i = 0; i < workers; i++) {
        cr_assert_eq(atomic_load(&c->per_worker[i]), 1, "worker %d", i);
        for (int j = 0; j < i; j++)
            cr_assert(!pthread_equal(c->thread[i], c->thread[j]), "workers %d and %d share a thread", i, j);
    }
}

Test(broadcast, every_worker_once_from_outside)
{
    for (int workers = 1; workers <= 8; workers *= 2) {
        fg_pool *p = NULL;
        cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = workers)), 0);
        /* Let the workers park, so the broadcast must wake them. */
        struct timespec ts = { 0, 20000000 };
        nanosleep(&ts, NULL);
        for (int round = 0; round < 20; round++) {
            counts c = { .fail_from = 1000 };
            cr_assert_eq(fg_broadcast(p, count_call, &c), 0);
            check_once_each(&c, workers);
        }
        fg_pool_destroy(p);
    }
}

typedef struct from_worker { fg_pool *pool; counts c; int result; } from_worker;

static int broadcast_inside(void *arg)
{
    from_worker *f = arg;
    f->result = fg_broadcast(f->pool, count_call, &f->c);
    return 0;
}

static int noop(void *arg)
{
    (void)arg;
    return 0;
}

Test(broadcast, from_a_worker_and_errors)
{
    fg_pool *p = NULL;
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 4)), 0);
    from_worker f = { .pool = p, .c = { .fail_from = 1000 } };
    cr_assert_eq(fg_join(p, broadcast_inside, &f, noop, NULL), 0);
    cr_assert_eq(f.result, 0);
    check_once_each(&f.c, 4);
    counts c = { .fail_from = 2 };
    cr_assert_eq(fg_broadcast(p, count_call, &c), 102, "the lowest failing worker's result");
    check_once_each(&c, 4);
    cr_assert_eq(fg_broadcast(NULL, count_call, &c), FG_EINVAL);
    cr_assert_eq(fg_broadcast(p, NULL, &c), FG_EINVAL);
    fg_pool_destroy(p);
}

static int index_task(size_t i, void *ctx, void *result)
{
    (void)i;
    (void)ctx;
    *(int *)result = fg_worker_index();
    return 0;
}

Test(broadcast, worker_index_in_the_sequential_backend)
{
    cr_assert_eq(fg_worker_index(), -1);
    fg_parallel *par = NULL;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 1)), 0);
    int idx[100];
    cr_assert_eq(fg_parallel_map(par, (fg_delayed){ index_task, NULL, sizeof(int) }, 0, 100,
                                 idx, NULL), 0);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(idx[i], 0, "task %d saw %d", i, idx[i]);
    cr_assert_eq(fg_worker_index(), -1, "the scope ends with the call");
    fg_parallel_close(par);
    int prev = fg_worker_scope_enter(3);
    cr_assert_eq(prev, -1);
    cr_assert_eq(fg_worker_index(), 3);
    fg_worker_scope_leave(prev);
    cr_assert_eq(fg_worker_index(), -1);
}

static int in_default(void *arg)
{
    *(fg_pool **)arg = fg_pool_current();
    return 0;
}

Test(broadcast, default_pool)
{
    cr_assert_eq(setenv("FORAGE_WORKERS", "3", 1), 0);
    int before = thread_count();
    fg_pool *p = fg_pool_default();
    cr_assert_not_null(p);
    cr_assert_eq(fg_pool_default(), p, "one pool per process");
    cr_assert_eq(fg_pool_workers(p), 3);
    cr_assert_eq(thread_count(), before + 3);
    fg_pool *seen = NULL;
    cr_assert_eq(fg_join(p, in_default, &seen, noop, NULL), 0);
    cr_assert_eq(seen, p);
    cr_assert_null(fg_pool_current(), "not a worker here");
    fg_pool_destroy(p); /* a no-op on the default pool */
    cr_assert_eq(fg_pool_workers(p), 3, "still alive");
    unsetenv("FORAGE_WORKERS");
}

Test(broadcast, default_pool_bad_env)
{
    cr_assert_eq(setenv("FORAGE_WORKERS", "many", 1), 0);
    cr_assert_null(fg_pool_default());
    cr_assert_str_eq(fg_last_error_detail(),
                     "fg_pool_default: invalid FORAGE_* environment variable: "
                     "FORAGE_WORKERS=\"many\": not a whole number");
    cr_assert_eq(setenv("FORAGE_WORKERS", "2", 1), 0);
    fg_pool *p = fg_pool_default();
    cr_assert_not_null(p, "the next call tries again");
    cr_assert_eq(fg_pool_workers(p), 2);
    unsetenv("FORAGE_WORKERS");
}
