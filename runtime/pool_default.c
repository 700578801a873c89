/* pool_default.c: fg_pool_default, the process-wide pool made on first use.
 *
 * Libraries that want parallelism without owning threads use it (and
 * fg_pool_current() inside tasks), so that a program runs one set of
 * workers however many libraries it links.
 * I1  the pool is created at most once per process image, under `lock`,
 *     sized like any pool whose config leaves `workers` at 0
 *     ($FORAGE_WORKERS, else the CPUs this process may use, cgroup quota
 *     included: config.c).
 * I2  at exit it is destroyed only if no call is using it and the exiting
 *     thread is not one of its workers; otherwise it is left to the
 *     operating system, because waiting for calls that may never finish
 *     (a thread blocked elsewhere) would hang exit.
 * I3  in a forked child the parent's pool has no threads: the child forgets
 *     it (its memory is not freed, its workers do not exist) and makes a
 *     fresh one on first use.
 *
 * field   written by             read by          order
 * pool    first caller, atexit,  every caller     under lock
 *         fork child
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static pthread_mutex_t fg__default_lock = PTHREAD_MUTEX_INITIALIZER;
static fg_pool *fg__default_pool;
static int fg__default_err;     /* why creation failed, for the detail line */
static bool fg__default_hooked; /* atexit and atfork registered */

static void fg__default_at_exit(void)
{
    pthread_mutex_lock(&fg__default_lock);
    fg_pool *p = fg__default_pool;
    fg__default_pool = NULL; /* so fg_pool_destroy below does destroy it */
    pthread_mutex_unlock(&fg__default_lock);
    if (p == NULL || fg__worker_of(p) != NULL)
        return; /* I2: exit() called from one of its tasks */
    /* I2: the count destroy would wait for; 0 means nobody is inside. */
    if (fg__atomic_load(&p->inflight, FG__SEQ_CST) != 0)
        return;
    fg_pool_destroy(p);
}

static void fg__default_in_child(void)
{
    /* I3: the lock may have been held by a parent thread at fork. */
    pthread_mutex_init(&fg__default_lock, NULL);
    fg__default_pool = NULL;
}

fg_pool *fg_pool_default(void)
{
    pthread_mutex_lock(&fg__default_lock);
    if (fg__default_pool == NULL) {
        if (!fg__default_hooked) {
            fg__default_hooked = true;
            atexit(fg__default_at_exit);
            pthread_atfork(NULL, NULL, fg__default_in_child);
        }
        fg__default_err = fg_pool_create(&fg__default_pool, NULL);
    }
    fg_pool *p = fg__default_pool;
    int err = fg__default_err;
    pthread_mutex_unlock(&fg__default_lock);
    if (p == NULL) {
        char why[256];
        snprintf(why, sizeof why, "%s", fg_last_error_detail());
        fg__detail_set("fg_pool_default: %s%s%s", fg_strerror(err), why[0] ? ": " : "", why);
    }
    return p;
}

bool fg__pool_is_default(const fg_pool *p)
{
    pthread_mutex_lock(&fg__default_lock);
    bool is = p == fg__default_pool;
    pthread_mutex_unlock(&fg__default_lock);
    return is;
}
