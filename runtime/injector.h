/* injector.h: the pool's queue for jobs from threads that are not workers.
 * A mutex-protected FIFO: external submissions are rare next to deque
 * traffic, and a lock keeps FIFO order and the no-lost-wake-up argument
 * simple.  `count` lets workers skip the lock when it is empty. */
#ifndef FG_INJECTOR_H
#define FG_INJECTOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"
#include "job.h"

typedef struct fg__injector {
    pthread_mutex_t lock;
    fg__job *head, *tail;       /* under lock */
    FG__ATOMIC(int64_t) count;  /* jobs queued; see injector.c */
} fg__injector;

int  fg__injector_init(fg__injector *q);
void fg__injector_destroy(fg__injector *q);
/* Any thread: append a job (never fails). */
void fg__injector_push(fg__injector *q, fg__job *job);
/* Any thread: the oldest job or NULL. */
fg__job *fg__injector_pop(fg__injector *q);
/* [sleep-announce] seq_cst: is something queued? */
bool fg__injector_looks_nonempty(fg__injector *q);

#endif
