/* fib.h: the fib task the fork-join tests run, and its sequential
 * reference.  Header-only: a test includes it once.
 *
 * fib_task(n) makes one fg_join per internal node of its call tree, with
 * no cutoff, so fib(n) is fib(n + 1) - 1 joins.  Called from a worker it
 * joins on that worker; from any other thread, through the injector. */
#ifndef FG_TEST_FIB_H
#define FG_TEST_FIB_H

#include <stdint.h>

#include "forage.h"

/* A leaf ran on no worker of its pool: fib_task's own error code. */
enum { FIB_WRONG_WORKER = 77 };

typedef struct fib_arg {
    fg_pool *pool;
    int n;
    int workers;     /* > 0: each leaf checks fg_worker_index() < workers */
    uint64_t result; /* fib(n) once the task returned 0 */
} fib_arg;

static inline int fib_task(void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        int w = fg_worker_index();
        a->result = (uint64_t)a->n;
        return a->workers > 0 && (w < 0 || w >= a->workers) ? FIB_WRONG_WORKER : 0;
    }
    fib_arg x = { a->pool, a->n - 1, a->workers, 0 };
    fib_arg y = { a->pool, a->n - 2, a->workers, 0 };
    int err = fg_join(a->pool, fib_task, &x, fib_task, &y);
    a->result = x.result + y.result;
    return err;
}

/* fib(n) by iteration: exact up to n = 93. */
static inline uint64_t fib_seq(int n)
{
    uint64_t a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

#endif
