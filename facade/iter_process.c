/* iter_process.c: the process backend's runner for fg_parallel_iter
 * (iter.c).  See docs/design/iter.md, "Runners and backends".
 *
 * At open the iterator maps one anonymous MAP_SHARED region and forks
 * n_jobs workers (forked.c), so tasks see the caller's memory as it was at
 * open.  The region holds, besides the workers' slots:
 *   shared   a FIFO of dispatched batches (slot numbers) and a FIFO of
 *            finished ones, the lowest failure, stop and cancel flags, two
 *            futex words (work dispatched, batch finished), under one
 *            robust process-shared mutex;
 *   batches  per window slot: the batch cut into it, tasks finished, its
 *            code, whether it was skipped;
 *   held     per worker: the window slot it runs;
 *   results  per window slot, `cap` results: the slot's buffer, which
 *            the reader copies results out of.
 * So memory is the window, fixed at open, whatever n.  Nothing is
 * serialised, there are no pipes: a worker's stores are the transport.
 *
 * The iterator sends a batch by queueing its slot; a worker takes it, runs
 * its tasks in order into the slot's buffer (a failure ends the batch;
 * a batch that starts past the lowest failure, or after cancellation, is
 * skipped) and queues the slot as finished.  The reader that waits watches:
 * it sleeps on the finished-futex for a few ms, reaps workers that died,
 * kills tasks past the timeout, and collects finished batches.  A worker
 * that died in a task turns its batch into one that failed there with
 * FG_ECRASHED (the index it published, forked.c), or FG_ETIMEDOUT; workers
 * holding batches past a failure are killed and their batches skipped.  A
 * worker that died between tasks lost no task; if no worker is left, the
 * batches still queued fail with FG_ECRASHED at their start.
 *
 * Ordering: every field of the shared part and of a batch is written and
 * read under the mutex, except the results and `ran`, which the worker
 * writes before it queues the batch as finished (under the mutex) and the
 * reader reads after it took it off that queue, or after the worker's death
 * (waitpid orders it).  `fail_index` and a worker's slot `batch_start` are
 * the Dekker pair described in process.c.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include "forage.h"

#include "forked.h"
#include "iter_process.h"

typedef struct fg__ipc_batch {
    size_t start, len;  /* relative tasks */
    _Atomic size_t ran; /* tasks finished, results [0, ran) in the buffer */
    int code;           /* nonzero: task start + ran failed */
    bool skipped;
} fg__ipc_batch;

typedef struct fg__ipc_shared {
    pthread_mutex_t lock; /* robust, process-shared: the rings and the batches */
    size_t queue_head, queue_len, done_head, done_len;
    _Atomic uint32_t work;     /* futex: bumped per batch queued or on stop */
    _Atomic uint32_t finished; /* futex: bumped per batch finished */
    _Atomic size_t fail_index; /* lowest failure known (Dekker with batch_start) */
    _Atomic int stop, cancelled;
    _Atomic uint32_t go;       /* start gate: 1 run, 2 leave (a fork failed) */
} fg__ipc_shared;

struct fg__iter_proc {
    fg_delayed d;
    size_t begin, nslots, cap, rs;
    double timeout;
    char *base;
    size_t bytes;
    fg__ipc_shared *s;
    fg__forked_slot *slots;
    size_t *queue, *done;     /* rings of nslots */
    _Atomic size_t *held;     /* per worker: its window slot, SIZE_MAX: none */
    fg__ipc_batch *batches;
    char *results;
    fg__forked f;
    size_t *timed_out;        /* per worker: the task it was killed in, SIZE_MAX: none */
    fg__iter_proc_done *deaths; /* reported by `ended`, not collected yet */
    size_t ndeaths;
    size_t crashed;           /* tasks that were running when their worker died */
    uint32_t seen;            /* `finished` when the last collect began */
};

static size_t fg__ipc_round(size_t x)
{
    return (x + FG__CACHE_LINE - 1) & ~(size_t)(FG__CACHE_LINE - 1);
}

/* Offsets of the parts; false when the size does not fit in a size_t. */
static bool fg__ipc_layout(fg__iter_proc *p, int n, size_t *offs)
{
    size_t results;
    if (__builtin_mul_overflow(p->nslots, p->cap, &results) ||
        __builtin_mul_overflow(results, p->rs, &results))
        return false;
    size_t parts[5] = { fg__forked_slots_size(n), 2 * p->nslots * sizeof(size_t),
                        (size_t)n * sizeof(_Atomic size_t), p->nslots * sizeof(fg__ipc_batch),
                        results };
    size_t at = fg__ipc_round(sizeof(fg__ipc_shared));
    for (int i = 0; i < 5; i++) {
        offs[i] = at;
        if (__builtin_add_overflow(at, parts[i], &at) || at > SIZE_MAX - FG__CACHE_LINE)
            return false;
        at = fg__ipc_round(at);
    }
    p->bytes = at;
    return true;
}

/* ---------------------------------------------------------- workers */

/* Run the batch in window slot i, taken by worker w.  Returns its code. */
static int fg__ipc_run(fg__iter_proc *p, fg__forked_slot *slot, size_t i, bool *skipped)
{
    fg__ipc_batch *b = &p->batches[i];
    fg__ipc_shared *s = p->s;
    /* seq_cst: the worker's half of the Dekker pair (batch_start is set). */
    *skipped = atomic_load_explicit(&s->cancelled, memory_order_relaxed) ||
               b->start > atomic_load_explicit(&s->fail_index, memory_order_seq_cst);
    if (*skipped)
        return 0;
    char *buf = p->results + i * p->cap * p->rs;
    size_t total = atomic_load_explicit(&slot->ran, memory_order_relaxed);
    for (size_t k = 0; k < b->len; k++) {
        atomic_store_explicit(&slot->current, b->start + k, memory_order_relaxed);
        int code = p->d.fn(p->begin + b->start + k, p->d.ctx, p->rs != 0 ? buf + k * p->rs : NULL);
        atomic_store_explicit(&slot->ran, ++total, memory_order_relaxed);
        if (code != 0) {
            fg__forked_lower_fail(&s->fail_index, b->start + k);
            return code;
        }
        atomic_store_explicit(&b->ran, k + 1, memory_order_relaxed);
    }
    return 0;
}

static void fg__ipc_worker(void *arg, int w)
{
    fg__iter_proc *p = arg;
    fg__ipc_shared *s = p->s;
    fg__forked_slot *slot = &p->slots[w];
    if (fg__forked_gate_wait(&s->go) != 1)
        fg__forked_exit(slot);
    for (;;) {
        fg__forked_lock(&s->lock);
        if (atomic_load_explicit(&s->stop, memory_order_relaxed))
            break;
        if (s->queue_len == 0) {
            uint32_t seen = atomic_load_explicit(&s->work, memory_order_relaxed);
            pthread_mutex_unlock(&s->lock);
            fg__forked_futex_wait(&s->work, seen, 100);
            continue;
        }
        size_t i = p->queue[s->queue_head];
        atomic_store_explicit(&p->held[w], i, memory_order_relaxed);
        s->queue_head = (s->queue_head + 1) % p->nslots;
        s->queue_len--;
        /* seq_cst: the worker's half of the Dekker pair with fail_index. */
        atomic_store_explicit(&slot->batch_start, p->batches[i].start, memory_order_seq_cst);
        pthread_mutex_unlock(&s->lock);
        bool skipped;
        int code = fg__ipc_run(p, slot, i, &skipped);
        atomic_store_explicit(&slot->current, SIZE_MAX, memory_order_relaxed);
        fg__forked_lock(&s->lock);
        p->batches[i].code = code;
        p->batches[i].skipped = skipped;
        p->done[(s->done_head + s->done_len++) % p->nslots] = i;
        atomic_store_explicit(&p->held[w], SIZE_MAX, memory_order_relaxed);
        atomic_store_explicit(&slot->batch_start, SIZE_MAX, memory_order_relaxed);
        pthread_mutex_unlock(&s->lock);
        /* release: not needed for the data (the mutex orders it); the
         * counter only wakes the reader. */
        atomic_fetch_add_explicit(&s->finished, 1, memory_order_relaxed);
        fg__forked_futex_wake(&s->finished);
    }
    pthread_mutex_unlock(&s->lock);
    fg__forked_exit(slot);
}

/* ----------------------------------------------------------- caller */

/* Under the shared lock: remove window slot i from ring r (head, len);
 * true if it was there. */
static bool fg__ipc_unqueue(fg__iter_proc *p, size_t *ring, size_t *head, size_t *len, size_t i)
{
    size_t keep = 0;
    bool found = false;
    for (size_t k = 0; k < *len; k++) {
        size_t x = ring[(*head + k) % p->nslots];
        if (x == i)
            found = true;
        else
            ring[(*head + keep++) % p->nslots] = x;
    }
    *len = keep;
    return found;
}

/* forked.c: worker w was reaped.  Its batch, if it held one, comes back
 * as crashed, timed out, skipped (killed past a failure) or whole. */
static void fg__ipc_ended(void *ctx, int w, int status)
{
    fg__iter_proc *p = ctx;
    size_t i = atomic_load_explicit(&p->held[w], memory_order_relaxed);
    /* acquire: pairs with the worker's release of `clean`. */
    if (atomic_load_explicit(&p->slots[w].clean, memory_order_acquire) || i == SIZE_MAX ||
        atomic_load_explicit(&p->s->stop, memory_order_relaxed))
        return;
    fg__ipc_shared *s = p->s;
    fg__forked_lock(&s->lock);
    /* Killed between the steps of a take or a finish: count it once. */
    bool finished = fg__ipc_unqueue(p, p->done, &s->done_head, &s->done_len, i);
    if (finished)
        p->done[(s->done_head + s->done_len++) % p->nslots] = i; /* back at the end */
    else
        (void)fg__ipc_unqueue(p, p->queue, &s->queue_head, &s->queue_len, i);
    pthread_mutex_unlock(&s->lock);
    if (finished)
        return;
    fg__ipc_batch *b = &p->batches[i];
    size_t ran = atomic_load_explicit(&b->ran, memory_order_relaxed);
    fg__iter_proc_done e = { .slot = i, .ran = ran };
    if (p->timed_out[w] != SIZE_MAX) {
        e.code = FG_ETIMEDOUT;
        e.term_signal = SIGKILL;
        p->crashed++;
    } else if (p->f.child[w].killed) {
        e.skipped = true; /* past a failure: not needed */
    } else if (ran < b->len) {
        e.code = FG_ECRASHED;
        e.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        e.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
        p->crashed++;
    }
    p->deaths[p->ndeaths++] = e;
}

static void fg__ipc_timed_out(void *ctx, int w, size_t k)
{
    fg__iter_proc *p = ctx;
    p->timed_out[w] = k;
}

int fg__iter_proc_open(fg__iter_proc **out, fg_delayed d, size_t begin, int n_jobs,
                       size_t nslots, size_t cap, double timeout)
{
    *out = NULL;
    fg__iter_proc *p = fg__alloc_zeroed(sizeof *p);
    if (p == NULL)
        return FG_ENOMEM;
    *p = (fg__iter_proc){ .d = d, .begin = begin, .nslots = nslots, .cap = cap,
                          .rs = d.result_size, .timeout = timeout };
    size_t offs[5];
    int err = FG_ENOMEM;
    if (!fg__ipc_layout(p, n_jobs, offs) || (p->base = fg__map_shared(p->bytes)) == NULL)
        goto fail;
    p->s = (fg__ipc_shared *)(void *)p->base;
    p->slots = (fg__forked_slot *)(void *)(p->base + offs[0]);
    p->queue = (size_t *)(void *)(p->base + offs[1]);
    p->done = p->queue + nslots;
    p->held = (_Atomic size_t *)(void *)(p->base + offs[2]);
    p->batches = (fg__ipc_batch *)(void *)(p->base + offs[3]);
    p->results = p->base + offs[4];
    fg__forked_lock_init(&p->s->lock);
    atomic_init(&p->s->fail_index, SIZE_MAX);
    for (int w = 0; w < n_jobs; w++)
        atomic_init(&p->held[w], SIZE_MAX);
    p->timed_out = fg__alloc((size_t)n_jobs * sizeof *p->timed_out);
    p->deaths = fg__alloc((size_t)n_jobs * sizeof *p->deaths);
    if (p->timed_out == NULL || p->deaths == NULL ||
        fg__forked_init(&p->f, n_jobs, p->slots, fg__ipc_ended, fg__ipc_timed_out, p) < 0)
        goto fail;
    for (int w = 0; w < n_jobs; w++)
        p->timed_out[w] = SIZE_MAX;
    bool started = fg__forked_start(&p->f, fg__ipc_worker, p, NULL);
    fg__forked_gate_open(&p->s->go, started ? 1 : 2);
    if (started) {
        *out = p;
        return 0;
    }
    err = FG_EAGAIN; /* fg_last_error_detail says why (fork.c) */
    while (p->f.live > 0)
        fg__forked_poll(&p->f, -1);
fail:
    fg__iter_proc_close(p);
    return err;
}

char *fg__iter_proc_buf(fg__iter_proc *p, size_t slot)
{
    return p->results + slot * p->cap * p->rs;
}

void fg__iter_proc_send(fg__iter_proc *p, size_t slot, size_t start, size_t len)
{
    fg__ipc_shared *s = p->s;
    fg__forked_lock(&s->lock);
    fg__ipc_batch *b = &p->batches[slot];
    b->start = start;
    b->len = len;
    atomic_store_explicit(&b->ran, 0, memory_order_relaxed);
    b->code = 0;
    b->skipped = false;
    p->queue[(s->queue_head + s->queue_len++) % p->nslots] = slot;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add_explicit(&s->work, 1, memory_order_relaxed); /* a wake-up, no data */
    fg__forked_futex_wake(&s->work);
}

void fg__iter_proc_watch(fg__iter_proc *p, bool cancelled)
{
    if (cancelled)
        atomic_store_explicit(&p->s->cancelled, 1, memory_order_relaxed);
    int ms = fg__forked_poll_ms(&p->f, 10, p->timeout);
    if (p->f.live > 0 && atomic_load_explicit(&p->s->finished, memory_order_relaxed) == p->seen)
        fg__forked_futex_wait(&p->s->finished, p->seen, ms);
    fg__forked_poll(&p->f, 0);
    if (p->timeout > 0)
        fg__forked_timeouts(&p->f, p->timeout, (double)fg__clock_ns() * 1e-9);
}

bool fg__iter_proc_collect(fg__iter_proc *p, fg__iter_proc_done *out)
{
    if (p->ndeaths > 0) {
        *out = p->deaths[--p->ndeaths];
        return true;
    }
    fg__ipc_shared *s = p->s;
    p->seen = atomic_load_explicit(&s->finished, memory_order_relaxed);
    bool got = true;
    fg__forked_lock(&s->lock);
    if (s->done_len > 0) {
        size_t i = p->done[s->done_head];
        s->done_head = (s->done_head + 1) % p->nslots;
        s->done_len--;
        fg__ipc_batch *b = &p->batches[i];
        *out = (fg__iter_proc_done){ .slot = i, .code = b->code, .skipped = b->skipped,
                                     .ran = atomic_load_explicit(&b->ran, memory_order_relaxed) };
    } else if (p->f.live == 0 && s->queue_len > 0) {
        /* No worker is left to run it. */
        size_t i = p->queue[s->queue_head];
        s->queue_head = (s->queue_head + 1) % p->nslots;
        s->queue_len--;
        *out = (fg__iter_proc_done){ .slot = i, .code = FG_ECRASHED };
    } else {
        got = false;
    }
    pthread_mutex_unlock(&s->lock);
    return got;
}

void fg__iter_proc_fail(fg__iter_proc *p, size_t k)
{
    fg__forked_lower_fail(&p->s->fail_index, k);
    fg__forked_kill_past(&p->f, k);
}

int fg__iter_proc_live(const fg__iter_proc *p)
{
    return p->f.live;
}

size_t fg__iter_proc_close(fg__iter_proc *p)
{
    size_t ran = 0;
    if (p->base != NULL) {
        atomic_store_explicit(&p->s->stop, 1, memory_order_relaxed);
        if (p->f.child != NULL)
            fg__forked_kill_all(&p->f);
        ran = p->crashed;
        for (int w = 0; w < p->f.n; w++)
            ran += atomic_load_explicit(&p->slots[w].ran, memory_order_relaxed);
        pthread_mutex_destroy(&p->s->lock);
    }
    fg__forked_free(&p->f);
    fg__unmap_shared(p->base, p->bytes);
    fg__free(p->timed_out);
    fg__free(p->deaths);
    fg__free(p);
    return ran;
}
