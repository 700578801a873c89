/* tests/unit/broadcast.c: fg_broadcast (runtime/broadcast.c), the worker
 * scope of fg_worker_index, and fg_pool_default (runtime/pool_default.c). */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* ------------------------------------------- worker indexes everywhere */

static int record_index(void *arg)
{
    *(int *)arg = fg_worker_index();
    return 0;
}

/* A pool inherited across fork() has no workers in the child: its tasks run
 * inline there and see index 0.  The child reports through its status. */
static int fork_child_indexes(fg_pool *pool)
{
    int a = -7, b = -7, s[3] = { -7, -7, -7 };
    if (fg_join(pool, record_index, &a, record_index, &b) != 0 || a != 0 || b != 0)
        return 1;
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 0; i < 3; i++)
        if (fg_spawn(&g, record_index, &s[i]) != 0)
            return 2;
    if (fg_sync(&g) != 0 || s[0] != 0 || s[1] != 0 || s[2] != 0)
        return 3;
    return fg_worker_index() == -1 ? 0 : 4; /* the scope ends with each task */
}

Test(broadcast, worker_index_on_a_pool_inherited_across_fork)
{
    fg_pool *pool = NULL;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 3)), 0);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fork_child_indexes(pool));
    int status = -1;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child check %d failed",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    int a = -7, b = -7; /* the parent's pool is untouched: real workers */
    cr_assert_eq(fg_join(pool, record_index, &a, record_index, &b), 0);
    cr_assert(a >= 0 && a < 3 && b >= 0 && b < 3, "a %d b %d", a, b);
    fg_pool_destroy(pool);
}

typedef struct pid_index { int pid, index; } pid_index;

static int pid_index_task(size_t i, void *ctx, void *result)
{
    (void)i;
    (void)ctx;
    *(pid_index *)result = (pid_index){ (int)getpid(), fg_worker_index() };
    return 0;
}

/* In the process backend each worker process has its own number in
 * [0, n_jobs): one index per process, one process per index. */
Test(broadcast, worker_index_in_process_workers)
{
    enum { N = 300, JOBS = 3 };
    fg_parallel *par = NULL;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = JOBS, .batch_size = 1,
                                                         .backend = FG_BACKEND_PROCESS)), 0);
    pid_index r[N];
    cr_assert_eq(fg_parallel_map(par, (fg_delayed){ pid_index_task, NULL, sizeof *r }, 0, N, r,
                                 NULL), 0);
    int pid_of[JOBS] = { 0 };
    for (int i = 0; i < N; i++) {
        cr_assert(r[i].index >= 0 && r[i].index < JOBS, "task %d saw %d", i, r[i].index);
        cr_assert_neq(r[i].pid, (int)getpid(), "task %d ran in the caller", i);
        if (pid_of[r[i].index] == 0)
            pid_of[r[i].index] = r[i].pid;
        cr_assert_eq(r[i].pid, pid_of[r[i].index], "index %d in two processes", r[i].index);
    }
    for (int a = 0; a < JOBS; a++)
        for (int b = a + 1; b < JOBS; b++)
            cr_assert(pid_of[a] == 0 || pid_of[a] != pid_of[b], "one process, two indexes");
    fg_parallel_close(par);
}

/* A sequential iterator runs its batches in the reader's next(): index 0. */
Test(broadcast, worker_index_in_a_sequential_iterator)
{
    fg_parallel *par = NULL;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 1, .batch_size = 7)), 0);
    fg_parallel_iter *it = NULL;
    cr_assert_eq(fg_parallel_iter_open(par, (fg_delayed){ index_task, NULL, sizeof(int) }, 0, 50,
                                       FG_ORDER_INDEX, &it), 0);
    size_t i, n = 0;
    int w = -7, rc;
    while ((rc = fg_parallel_iter_next(it, &i, &w)) == 0) {
        cr_assert_eq(i, n, "in order");
        cr_assert_eq(w, 0, "task %zu saw %d", i, w);
        n++;
    }
    cr_assert_eq(rc, FG_EDONE);
    cr_assert_eq(n, 50);
    cr_assert_eq(fg_worker_index(), -1);
    fg_parallel_iter_close(it, NULL);
    fg_parallel_close(par);
}

/* n_jobs = 1 on a pool of one worker: every chunk runs on worker 0. */
static int chunk_index(size_t b, size_t e, void *ctx)
{
    int *seen = ctx;
    for (size_t k = b; k < e; k++)
        seen[k] = fg_worker_index();
    return 0;
}

Test(broadcast, worker_index_on_a_one_worker_pool)
{
    fg_pool *pool = NULL;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 1)), 0);
    int seen[100];
    cr_assert_eq(fg_parallel_for(pool, 0, 100, FG_FOR_OPTS(.grain = 3), chunk_index, seen), 0);
    for (int k = 0; k < 100; k++)
        cr_assert_eq(seen[k], 0, "index %d saw %d", k, seen[k]);
    fg_pool_destroy(pool);
}
