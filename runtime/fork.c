/* fork.c: forage is fork-safe.  A forked child has one thread, the one
 * that called fork(); the pools' workers are not in it.
 * I1  a pool belongs to the fork generation it was created in
 *     (fg_pool.fork_gen); the child handler bumps the generation, so every
 *     pool inherited from the parent is dead in the child.  Calls on a
 *     dead pool never wait for its (absent) workers: fg_join and fg_spawn
 *     run their tasks inline on the caller, fg_sync then has nothing to
 *     wait for, other calls fail with FG_ESHUTDOWN, and fg_pool_destroy
 *     does nothing (the memory is the child's copy; there are no threads
 *     to join).
 * I2  the calling thread forgets that it was a worker: if fork() was
 *     called inside a task, fg_pool_current() is NULL in the child, so the
 *     façade does not reuse the dead pool.  (Such a child must not return
 *     from the task: it has no worker loop to return to; exec or _exit.)
 * I3  the runtime's process-wide locks (the live-pool list, the parking
 *     lot's buckets) are re-initialised in the child: a parent thread may
 *     have held one at the fork.  The live-pool list is also locked across
 *     the fork so that the child's copy is consistent.
 * fg_pool_default's own handler (pool_default.c) forgets the parent's
 * default pool, so the child's first call makes a fresh one.
 *
 * field      written by        read by         order
 * generation child handler     pool create,    the child handler runs
 *                              dead-pool checks before any other code of
 *                              the child: relaxed
 */
#include "fork.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "testhooks.h"

static pthread_once_t fg__fork_once = PTHREAD_ONCE_INIT;
static FG__ATOMIC(unsigned) fg__generation;

static void fg__fork_prepare(void)
{
    fg__live_lock_fork(0);
}

static void fg__fork_parent(void)
{
    fg__live_lock_fork(1);
}

static void fg__fork_child(void)
{
    fg__atomic_store(&fg__generation, fg__atomic_load(&fg__generation, FG__RELAXED) + 1,
                     FG__RELAXED);
    const fg__cpu_mask *m = fg__unbound_mask();
    if (m != NULL) /* forked by a bound worker: the child gets the pool's CPUs */
        fg__bind_self_mask(m);
    fg__tls_worker = NULL; /* I2 */
    fg__tls_cx = NULL;
    fg__live_lock_fork(2); /* I3 */
    fg__futex_after_fork();
}

static void fg__fork_register_once(void)
{
    pthread_atfork(fg__fork_prepare, fg__fork_parent, fg__fork_child);
}

void fg__fork_register(void)
{
    pthread_once(&fg__fork_once, fg__fork_register_once);
}

unsigned fg__fork_generation(void)
{
    return fg__atomic_load(&fg__generation, FG__RELAXED);
}

pid_t fg__fork(void)
{
    fg__fork_register();
#if defined(FG_TEST_HOOKS) && FG_TEST_HOOKS
    if (fg__fault_fail_now("fork")) {
        errno = EAGAIN;
        fg__detail_set("fork: %s (injected)", strerror(errno));
        return -1;
    }
#endif
    pid_t pid = fork();
    if (pid < 0)
        fg__detail_set("fork: %s", strerror(errno));
    return pid;
}

void *fg__map_shared(size_t size)
{
#if defined(FG_TEST_HOOKS) && FG_TEST_HOOKS
    if (fg__fault_fail_now("mmap")) {
        errno = ENOMEM;
        return NULL;
    }
#endif
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void fg__unmap_shared(void *p, size_t size)
{
    if (p != NULL)
        munmap(p, size);
}

int fg__thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
#if defined(FG_TEST_HOOKS) && FG_TEST_HOOKS
    if (fg__fault_fail_now("pthread_create"))
        return EAGAIN;
#endif
    pthread_attr_t attr, *a = NULL;
    const fg__cpu_mask *m = fg__unbound_mask(); /* not a bound worker's one CPU */
    if (m != NULL && pthread_attr_init(&attr) == 0) {
        a = &attr;
        (void)fg__attr_set_mask(a, m);
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the new thread inherits it */
    int err = pthread_create(t, a, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (a != NULL)
        pthread_attr_destroy(a);
    return err;
}
