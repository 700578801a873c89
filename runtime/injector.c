/* injector.c: FIFO of jobs handed in by non-worker threads.
 * See docs/design/sleep.md for how pushes here wake sleepers.
 *
 * field  written by           read by            order
 * head,  push/pop under lock  push/pop           the mutex
 * tail
 * count  push/pop under lock  workers, sleepers  seq_cst RMW [sleep-inject]
 *
 * Lifetime: jobs are frames owned by their submitters, which block until
 * the job completes, so a queued job is always valid memory.
 */
#include "injector.h"

#include "forage.h"

int fg__injector_init(fg__injector *q)
{
    if (pthread_mutex_init(&q->lock, NULL) != 0)
        return FG_ENOMEM;
    q->head = q->tail = NULL;
    fg__atomic_init(&q->count, 0);
    return 0;
}

void fg__injector_destroy(fg__injector *q)
{
    pthread_mutex_destroy(&q->lock);
}

void fg__injector_push(fg__injector *q, fg__job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->tail != NULL)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    /* [sleep-inject] seq_cst RMW: the job is counted before the caller reads
     * the sleeper count (seq_cst, fg__sleep_wake_one).  Pairs with the
     * sleeper's seq_cst announce followed by its seq_cst re-read of count:
     * one of the two sees the other, so no sleeper misses this job. */
    fg__atomic_fetch_add(&q->count, 1, FG__SEQ_CST);
    pthread_mutex_unlock(&q->lock);
}

fg__job *fg__injector_pop(fg__injector *q)
{
    if (fg__atomic_load(&q->count, FG__RELAXED) == 0)
        return NULL; /* the lock orders the real check below */
    pthread_mutex_lock(&q->lock);
    fg__job *job = q->head;
    if (job != NULL) {
        q->head = job->next;
        if (q->head == NULL)
            q->tail = NULL;
        fg__atomic_fetch_sub(&q->count, 1, FG__RELAXED);
    }
    pthread_mutex_unlock(&q->lock);
    return job;
}

bool fg__injector_looks_nonempty(fg__injector *q)
{
    /* [sleep-inject] seq_cst: the sleeper's re-scan, see fg__injector_push. */
    return fg__atomic_load(&q->count, FG__SEQ_CST) > 0;
}
