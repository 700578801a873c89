/* futex.c: the two implementations promised by futex.h. */
#include "futex.h"

#include <limits.h>

#if defined(FG_HAVE_FUTEX) && FG_HAVE_FUTEX

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

void fg__futex_wait(FG__ATOMIC(uint32_t) *word, uint32_t expected)
{
    /* The kernel re-reads *word under its own lock: if a waker changed it
     * after our caller's check, the call returns at once (EAGAIN), which is
     * what makes check-then-wait free of lost wake-ups. */
    syscall(SYS_futex, (void *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

void fg__futex_wake(FG__ATOMIC(uint32_t) *word, int count)
{
    syscall(SYS_futex, (void *)word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

void fg__futex_after_fork(void)
{
}

#else /* portable parking lot */

#include <pthread.h>

#define FG__PARK_BUCKETS 64

static struct fg__park_bucket {
    pthread_mutex_t lock;
    pthread_cond_t  cond;
} fg__park_buckets[FG__PARK_BUCKETS] = {
#define FG__B { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER }
#define FG__B8 FG__B, FG__B, FG__B, FG__B, FG__B, FG__B, FG__B, FG__B
    FG__B8, FG__B8, FG__B8, FG__B8, FG__B8, FG__B8, FG__B8, FG__B8
#undef FG__B8
#undef FG__B
};

static struct fg__park_bucket *fg__park_bucket_of(const void *word)
{
    uintptr_t a = (uintptr_t)word;
    return &fg__park_buckets[(a >> 4 ^ a >> 12) % FG__PARK_BUCKETS];
}

void fg__futex_wait(FG__ATOMIC(uint32_t) *word, uint32_t expected)
{
    struct fg__park_bucket *b = fg__park_bucket_of(word);
    pthread_mutex_lock(&b->lock);
    /* Wakers change *word before taking this lock, so reading it under the
     * lock cannot miss a wake-up; seq_cst keeps it ordered after the
     * caller's own seq_cst announcements. */
    if (fg__atomic_load(word, FG__SEQ_CST) == expected)
        pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
}

void fg__futex_wake(FG__ATOMIC(uint32_t) *word, int count)
{
    struct fg__park_bucket *b = fg__park_bucket_of(word);
    (void)count; /* a bucket is shared by several words: wake them all */
    pthread_mutex_lock(&b->lock);
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

void fg__futex_after_fork(void)
{
    for (int i = 0; i < FG__PARK_BUCKETS; i++) {
        pthread_mutex_init(&fg__park_buckets[i].lock, NULL);
        pthread_cond_init(&fg__park_buckets[i].cond, NULL);
    }
}

#endif
