/* process.c: the process backend (FG_BACKEND_PROCESS), joblib's loky
 * role: each call forks n_jobs worker processes, so a task that crashes
 * takes down its worker and comes back as FG_ECRASHED, not the caller.
 * See docs/design/process.md.
 *
 * One anonymous MAP_SHARED region, taken before the fork (the one the
 * fg_parallel kept from its last map, or a new one: "The kept region"
 * below), carries everything between the caller and its workers; nothing
 * is serialised and there are no pipes:
 *   shared   joblib's dispatch state (the cutter, the auto batch size, the
 *            counters of print_progress), the FIFO of dispatched batches,
 *            the lowest failure, under one robust process-shared mutex;
 *   slots    per worker: the task it is running, the batch it holds, the
 *            tasks it finished, and whether it left its loop normally;
 *   log      per completed batch, the counters joblib's callback would
 *            print with (only when progress is reported);
 *   results  result_size bytes per task, a copy of the caller's array,
 *            copied back after the call.
 * Dispatch is SHARED's (joblib's) with the workers playing the callback:
 * the caller queues the pre_dispatch prefix, and every worker that
 * completes a batch dispatches one more, so batches in flight are what
 * the prefix put there.  The caller only watches: it prints the logged
 * completions in order, waits for each worker to say "done" (an eventfd)
 * or die (poll on pidfds), times tasks out, and on a death records the
 * index the worker published.  It returns without waiting for the exits
 * of workers that are done: the façade's reaper (reaper.c) reaps them, and
 * the next map waits for any of an older map's before it forks.
 *
 * Failure rule (as the thread backends): the lowest failure is kept;
 * nothing starting after it is taken, and workers holding a batch that
 * starts after it are killed at once (their work is not needed); batches
 * below it finish, so every index below the failure has its result.
 *
 * Forking, the slots, watching, reaping and timeouts are forked.c's.
 *
 * The kept region.  A call does not unmap its region: it gives it back to
 * its fg_parallel (fg__proc_region, map.h), and the next call takes it if
 * it is large enough (else unmaps it and maps a new one), so a caller that
 * maps again does not first-touch a fresh region each time (on a host with
 * shadow paging that costs 7-15 us a page, most of a large map's copy-in).
 *   - Calls on one fg_parallel may come from several threads at once: a
 *     call takes the region out of the record under its lock (the record
 *     then holds none) and gives it back under it; a call that finds none
 *     maps its own, and one that ends while another's is kept unmaps its
 *     own.  So a region belongs to one call at a time.
 *   - No older worker writes a region once its call gave it back: the call
 *     returns when each of its workers is reaped or has said "clean"
 *     (fg__forked_busy), and a worker stores nothing to the region after
 *     `clean` (fg__forked_exit); a worker killed (timeout, past a failure,
 *     from outside) never says "clean", so the call reaps it before it
 *     returns.  The clean ones still exiting (the reaper's) keep a mapping
 *     and hold no lock in it: exiting, the kernel marks a robust mutex only
 *     when the exiting thread owns it.
 *   - Every call starts from zero: setup clears the shared part (the last
 *     call destroyed its mutex) and initialises the mutex again;
 *     fg__forked_init sets the slots; the queue and the log are written
 *     before they are read; the copy-in covers the results.
 *   - A region above the record's cap (FG__PROC_REGION_CAP) is unmapped
 *     when its call returns: memory held between calls is bounded.
 *   - A record inherited across fork() is another process's (its lock may
 *     be held by a thread that is not there, its region is the parent's):
 *     it is reset at its first use (fork generation), dropping this
 *     process's mapping of the parent's region.  fg_parallel_close unmaps
 *     the kept region after the reaper has reaped every worker.
 *
 * The results view.  After a fork every page of the caller's private
 * memory is write-protected in both processes, so the copy-back, which
 * writes every page of the caller's results array, takes a page fault on
 * each (7-15 us a page with shadow paging: a third of a first map of 10^7
 * trivial tasks).  The workers do not need the caller's array: their
 * results go to the region.  So when the array spans at least
 * FG__PROC_VIEW_MIN_PAGES whole pages:
 *   - the region's results start at the same offset in a page as the
 *     caller's array (fg__proc_layout), so each whole page of the array
 *     matches one whole page of the region;
 *   - those pages are left out of the forks (MADV_DONTFORK, undone after
 *     the last fork): the caller's page-table entries for them are neither
 *     copied nor write-protected, and the copy-back writes them at full
 *     speed;
 *   - each worker, before it waits at the gate, maps the region's
 *     matching pages at the same addresses (mremap with old size 0 makes a
 *     second mapping of shared pages).  A task that reads the caller's
 *     array through its own pointer (an in-place map: ctx = results) thus
 *     finds the values as at the call, or results already written, as on
 *     the thread backends; the partial pages at either end are the
 *     copy-on-write ones, as before.  Should mremap fail, the worker maps a
 *     private copy of the same bytes; should that fail too, it exits with
 *     FG__PROC_VIEW_EXIT before running anything.
 *   - Left out of the forks also means left out of any fork() another
 *     thread of the caller makes in that window: its child does not have
 *     those pages (process.md says so).
 *
 * Ordering.  The region is shared between processes, not threads (see
 * forked.c for the slots).  fail_index and a slot's batch_start form a
 * Dekker pair (seq_cst): a worker that takes a batch past a failure either
 * sees the failure and leaves, or the caller sees its batch and kills it.
 */
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forage.h"

#include "batching.h"
#include "forked.h"
#include "map.h"
#include "process.h"
#include "progress.h"
#include "seam.h"

/* ------------------------------------------------------------ layout */

typedef struct fg__proc_batch {
    size_t start, len;
    uint64_t dispatched_ns;
} fg__proc_batch;

/* One completion, with the counters as joblib's callback saw them. */
typedef struct fg__proc_entry {
    size_t completed_tasks, dispatched_batches, dispatched_tasks;
    size_t size;       /* the new batch size, when verdict != 0 */
    double verdict;    /* fg__autobatch_size's, printed after the line */
    uint64_t at_ns;
    bool input_left;
} fg__proc_entry;

typedef struct fg__proc_shared {
    pthread_mutex_t lock; /* robust and process-shared: guards up to `logged` */
    fg__cutter cutter;
    fg__autobatch autobatch;
    bool auto_size, reports, input_left;
    size_t dispatched_batches, dispatched_tasks, completed_tasks;
    size_t queue_head, queue_len, queue_cap;
    size_t fail_k;        /* lowest task that returned nonzero, SIZE_MAX: none */
    int fail_code;
    size_t logged;
    _Atomic size_t published; /* release: log entries below are written */
    _Atomic size_t fail_index; /* lowest failure known to anyone (Dekker, above) */
    _Atomic int stop;          /* the caller was cancelled: take nothing more */
    _Atomic uint32_t go;       /* start gate: 1 run, 2 leave (a fork failed) */
} fg__proc_shared;

typedef struct fg__proc {
    fg__map *m;
    int n;
    size_t rs;                  /* result bytes per task */
    char *base;
    size_t bytes;               /* the layout's */
    size_t size;                /* the region's: bytes or more when kept */
    fg__proc_shared *s;
    fg__forked_slot *slots;
    fg__proc_batch *queue;
    fg__proc_entry *log;
    char *results;
    char *view;                 /* the caller's results pages the workers see
                                   as `results` ("The results view"); NULL: none */
    size_t view_len;
    fg__forked f;               /* the workers */
    size_t shown;               /* log entries reported */
    size_t dead_k;              /* lowest death (crash or timeout), SIZE_MAX: none */
    int dead_code, term_signal, exit_status;
    size_t deaths;              /* tasks that were running when their worker died */
} fg__proc;

static size_t fg__proc_round(size_t x)
{
    return (x + FG__CACHE_LINE - 1) & ~(size_t)(FG__CACHE_LINE - 1);
}

/* The page size: the region's layout, its rounding and the view all
 * work in whole pages. */
static size_t fg__proc_page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Lay out the region for `queue` batches and `log` entries, the results
 * at an address congruent to the caller's modulo the page size when there
 * is a view (so that whole pages of one are whole pages of the other);
 * false when the size does not fit in a size_t (the caller returns
 * FG_ENOMEM). */
static bool fg__proc_layout(fg__proc *p, size_t queue, size_t log, size_t *offs)
{
    size_t parts[4][2] = { { (size_t)p->n, sizeof(fg__forked_slot) },
                           { queue, sizeof(fg__proc_batch) },
                           { log, sizeof(fg__proc_entry) },
                           { p->m->total, p->rs } };
    size_t page = fg__proc_page();
    size_t at = fg__proc_round(sizeof(fg__proc_shared));
    for (int i = 0; i < 4; i++) {
        size_t len;
        if (i == 3 && p->view != NULL) {
            if (at > SIZE_MAX - 2 * page)
                return false;
            at = ((at + page - 1) & ~(page - 1)) + ((uintptr_t)p->m->results & (page - 1));
        }
        offs[i] = at;
        if (__builtin_mul_overflow(parts[i][0], parts[i][1], &len) ||
            __builtin_add_overflow(at, len, &at) || at > SIZE_MAX - FG__CACHE_LINE)
            return false;
        at = fg__proc_round(at);
    }
    p->bytes = at;
    return true;
}

/* ------------------------------------------------ the kept region */

/* Regions above this are unmapped when their call returns.  Keeping one
 * saves its first touch on the next call (2-3 ms per MiB on a host with
 * shadow paging, docs/design/process.md) but holds that memory,
 * unseen by the caller, until fg_parallel_close, beside the caller's own
 * results array of about the same size.  The cap bounds that: it keeps
 * the region of a map of up to about 16 million 8-byte results (the
 * benchmark's 10^7 take 80 MB), and a larger map pays its first touch as
 * before. */
#define FG__PROC_REGION_CAP ((size_t)128 << 20)

void fg__process_region_init(fg__proc_region *r)
{
    fg__fork_register(); /* so that a forked child sees a new generation */
    *r = (fg__proc_region){ .cap = FG__PROC_REGION_CAP, .generation = fg__fork_generation() };
    pthread_mutex_init(&r->lock, NULL);
}

/* A record inherited across fork() is reset at its first use: its lock
 * may be held by a thread of the parent, and its region is the parent's
 * (this drops this process's mapping of it; the count of maps stays). */
static void fg__proc_region_adopt(fg__proc_region *r)
{
    if (r->generation == fg__fork_generation())
        return;
    size_t cap = r->cap, mapped = r->mapped, views = r->views;
    fg__unmap_shared(r->base, r->bytes);
    fg__process_region_init(r);
    r->cap = cap;
    r->mapped = mapped;
    r->views = views;
}

void fg__process_region_destroy(fg__proc_region *r)
{
    fg__proc_region_adopt(r);
    fg__unmap_shared(r->base, r->bytes);
    pthread_mutex_destroy(&r->lock);
}

/* A region of at least `bytes` for one call (*size: its size): the kept
 * one when it is large enough (else it is unmapped), or a new one; NULL
 * when none could be mapped. */
static char *fg__proc_region_take(fg__proc_region *r, size_t bytes, size_t *size)
{
    fg__proc_region_adopt(r);
    pthread_mutex_lock(&r->lock);
    char *base = r->base;
    size_t have = r->bytes;
    r->base = NULL; /* this call's now */
    pthread_mutex_unlock(&r->lock);
    if (base != NULL && have >= bytes) {
        *size = have;
        return base;
    }
    fg__unmap_shared(base, have); /* too small */
    /* Whole pages, as mmap maps them: a call whose layout is a little
     * larger (a longer queue) still fits. */
    size_t page = fg__proc_page();
    if (bytes <= SIZE_MAX - page)
        bytes = (bytes + page - 1) & ~(page - 1);
    base = fg__map_shared(bytes);
    *size = bytes;
    if (base != NULL) {
        pthread_mutex_lock(&r->lock);
        r->mapped++;
        pthread_mutex_unlock(&r->lock);
    }
    return base;
}

/* After the call: none of its workers writes the region again (each is
 * reaped or said "clean").  Keep it for the next call unless another is
 * kept or it is above the cap. */
static void fg__proc_region_give(fg__proc_region *r, char *base, size_t size)
{
    if (base == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    bool keep = r->base == NULL && size <= r->cap;
    if (keep) {
        r->base = base;
        r->bytes = size;
    }
    pthread_mutex_unlock(&r->lock);
    if (!keep)
        fg__unmap_shared(base, size);
}

/* For the tests' counters: one of par's region counts, read under the
 * region's lock (another thread's map on par may be updating it). */
static size_t fg__proc_region_count(fg_parallel *par, const size_t *count)
{
    fg__proc_region *r = &par->region;
    fg__proc_region_adopt(r);
    pthread_mutex_lock(&r->lock);
    size_t n = *count;
    pthread_mutex_unlock(&r->lock);
    return n;
}

size_t fg__process_regions_mapped(fg_parallel *par)
{
    return fg__proc_region_count(par, &par->region.mapped);
}

void fg__process_region_set_cap(fg_parallel *par, size_t cap)
{
    fg__proc_region *r = &par->region;
    fg__proc_region_adopt(r);
    pthread_mutex_lock(&r->lock);
    r->cap = cap;
    pthread_mutex_unlock(&r->lock);
}

/* ------------------------------------------------ the results view */

/* Maps whose results array spans fewer whole pages keep the plain fork:
 * two madvise calls and a mremap per worker are not worth saving a few
 * faults. */
#define FG__PROC_VIEW_MIN_PAGES 16
/* A worker's exit status when it could not map its view: sysexits.h's
 * EX_OSERR.  The map returns FG_ECRASHED with it (no task ran there). */
#define FG__PROC_VIEW_EXIT 71

/* The whole pages of the caller's results array, when there are enough:
 * the fork leaves them out (MADV_DONTFORK) and each worker maps the same
 * bytes of the region's results there instead (fg__proc_view_map).  See
 * the header, "The results view". */
static void fg__proc_view_plan(fg__proc *p)
{
    size_t page = fg__proc_page(), len;
    uintptr_t start = (uintptr_t)p->m->results, end;
    if (p->rs == 0 || __builtin_mul_overflow(p->m->total, p->rs, &len) ||
        __builtin_add_overflow(start, len, &end) || start > UINTPTR_MAX - page)
        return;
    uintptr_t first = (start + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t last = end & ~(uintptr_t)(page - 1);
    if (last <= first || (last - first) / page < FG__PROC_VIEW_MIN_PAGES)
        return;
    p->view = (char *)first;
    p->view_len = last - first;
}

/* Before the forks: leave the view's pages out of them.  A range madvise
 * refuses (not plain memory) keeps the plain fork. */
static void fg__proc_view_hide(fg__proc *p, fg__proc_region *r)
{
    if (p->view == NULL)
        return;
    if (madvise(p->view, p->view_len, MADV_DONTFORK) != 0) {
        p->view = NULL;
        return;
    }
    pthread_mutex_lock(&r->lock);
    r->views++;
    pthread_mutex_unlock(&r->lock);
}

/* After the forks: the caller's own later fork()s copy the pages again. */
static void fg__proc_view_restore(const fg__proc *p)
{
    if (p->view != NULL)
        (void)madvise(p->view, p->view_len, MADV_DOFORK);
}

/* In a worker, before its first task: the view's pages become a second
 * mapping of the region's results (mremap of a shared mapping with old
 * size 0).  Should that fail, a private copy of them; false when even
 * that cannot be mapped (the worker then leaves without running a task). */
static bool fg__proc_view_map(const fg__proc *p)
{
    char *from = p->results + (p->view - (char *)p->m->results);
    if (mremap(from, 0, p->view_len, MREMAP_MAYMOVE | MREMAP_FIXED, p->view) == p->view)
        return true;
    if (mmap(p->view, p->view_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
             -1, 0) != p->view)
        return false;
    memcpy(p->view, from, p->view_len);
    return true;
}

size_t fg__process_views(fg_parallel *par)
{
    return fg__proc_region_count(par, &par->region.views);
}

/* ------------------------------------------------ the shared state */

static void fg__proc_lock(fg__proc_shared *s)
{
    fg__forked_lock(&s->lock);
}

static void fg__proc_unlock(fg__proc_shared *s)
{
    pthread_mutex_unlock(&s->lock);
}

static bool fg__proc_cut_all(const fg__cutter *c)
{
    return c->pos >= c->total && c->ready_start == c->ready_end;
}

/* Under the lock (or before the fork): joblib's dispatch_one_batch into
 * the queue; false when the source is exhausted. */
static bool fg__proc_dispatch(fg__proc *p, bool from_input, double *verdict, size_t *size)
{
    fg__proc_shared *s = p->s;
    size_t batch = (size_t)p->m->par->batch_size;
    *verdict = 0.0;
    if (s->auto_size)
        *size = batch = fg__autobatch_size(&s->autobatch, verdict);
    size_t start, len;
    if (!fg__cutter_next(&s->cutter, batch, from_input, &start, &len))
        return false;
    s->dispatched_batches++;
    s->dispatched_tasks += len;
    /* queue_len + batches in flight never exceed the prefix: no overflow. */
    p->queue[(s->queue_head + s->queue_len++) % s->queue_cap] =
        (fg__proc_batch){ start, len, fg__clock_ns() };
    return true;
}

/* How many batches the prefix holds, walking copies of the cutter and of
 * the auto size: the queue's capacity. */
static size_t fg__proc_prefix_batches(const fg__map *m)
{
    fg__cutter c = m->cutter;
    fg__autobatch a;
    pthread_mutex_lock(&m->par->batch_lock);
    a = m->par->autobatch;
    pthread_mutex_unlock(&m->par->batch_lock);
    size_t n = 0, start, len;
    for (;;) {
        double verdict;
        size_t batch = m->par->batch_size == FG_BATCH_AUTO ? fg__autobatch_size(&a, &verdict)
                                                           : (size_t)m->par->batch_size;
        if (!fg__cutter_next(&c, batch, false, &start, &len))
            return n;
        n++;
    }
}

/* ---------------------------------------------------------- workers */

static void fg__proc_pause(unsigned *rounds)
{
    if (++*rounds < 64) {
        sched_yield();
        return;
    }
    struct timespec ts = { 0, 50000 };
    nanosleep(&ts, NULL);
}

/* 1: *b is this worker's; 0: none yet (wait); -1: nothing is left for it. */
static int fg__proc_take(fg__proc *p, fg__forked_slot *slot, fg__proc_batch *b)
{
    fg__proc_shared *s = p->s;
    int got;
    fg__proc_lock(s);
    size_t fail = atomic_load_explicit(&s->fail_index, memory_order_relaxed);
    if (atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        got = -1;
    } else if (s->queue_len > 0) {
        *b = p->queue[s->queue_head];
        got = b->start > fail ? -1 : 1; /* batches are in index order */
        if (got == 1) {
            s->queue_head = (s->queue_head + 1) % s->queue_cap;
            s->queue_len--;
            /* seq_cst: the worker's half of the Dekker pair, with the
             * load of fail_index below. */
            atomic_store_explicit(&slot->batch_start, b->start, memory_order_seq_cst);
        }
    } else {
        /* Only a running batch's completion can dispatch more. */
        got = fg__proc_cut_all(&s->cutter) || fail != SIZE_MAX ? -1 : 0;
    }
    fg__proc_unlock(s);
    if (got == 1 && b->start > atomic_load_explicit(&s->fail_index, memory_order_seq_cst)) {
        atomic_store_explicit(&slot->batch_start, SIZE_MAX, memory_order_relaxed);
        got = -1; /* a failure below it came in meanwhile */
    }
    return got;
}

static int fg__proc_task(fg__proc *p, size_t k)
{
    fg__map *m = p->m;
    if (m->calls != NULL)
        return m->calls[k].fn(m->calls[k].arg, NULL); /* results are NULL here */
    return m->d.fn(m->begin + k, m->d.ctx, p->rs != 0 ? p->results + k * p->rs : NULL);
}

static void fg__proc_task_failed(fg__proc *p, size_t k, int code)
{
    fg__proc_shared *s = p->s;
    fg__proc_lock(s);
    if (k < s->fail_k) {
        s->fail_k = k;
        s->fail_code = code;
    }
    fg__proc_unlock(s);
    fg__forked_lower_fail(&s->fail_index, k);
}

/* Tasks of the batch in order; a failure ends it (joblib's BatchedCalls). */
static void fg__proc_run_batch(fg__proc *p, fg__forked_slot *slot, const fg__proc_batch *b)
{
    size_t ran = atomic_load_explicit(&slot->ran, memory_order_relaxed);
    for (size_t k = b->start; k < b->start + b->len; k++) {
        atomic_store_explicit(&slot->current, k, memory_order_relaxed);
        int code = fg__proc_task(p, k);
        atomic_store_explicit(&slot->ran, ++ran, memory_order_relaxed);
        if (code != 0) {
            fg__proc_task_failed(p, k, code);
            break;
        }
    }
    atomic_store_explicit(&slot->current, SIZE_MAX, memory_order_relaxed);
}

/* joblib's BatchCompletionCallBack, run by the worker that completed b. */
static void fg__proc_complete(fg__proc *p, fg__forked_slot *slot, const fg__proc_batch *b)
{
    fg__proc_shared *s = p->s;
    uint64_t now = fg__clock_ns();
    fg__proc_lock(s);
    atomic_store_explicit(&slot->batch_start, SIZE_MAX, memory_order_relaxed);
    s->completed_tasks += b->len;
    if (s->auto_size)
        fg__autobatch_completed(&s->autobatch, b->len, (double)(now - b->dispatched_ns) * 1e-9);
    fg__proc_entry e = { s->completed_tasks, s->dispatched_batches, s->dispatched_tasks,
                         0, 0.0, now, s->input_left };
    if (s->input_left && !fg__proc_dispatch(p, true, &e.verdict, &e.size))
        s->input_left = false;
    if (s->reports) {
        p->log[s->logged++] = e;
        /* release: the entry is written before the caller may read it. */
        atomic_store_explicit(&s->published, s->logged, memory_order_release);
    }
    fg__proc_unlock(s);
}

/* A worker process (forked.c has set it up). */
static void fg__proc_worker(void *arg, int w)
{
    fg__proc *p = arg;
    fg__proc_shared *s = p->s;
    fg__forked_slot *slot = &p->slots[w];
    if (p->view != NULL && !fg__proc_view_map(p))
        _exit(FG__PROC_VIEW_EXIT);
    uint32_t go = fg__forked_gate_wait(&s->go);
    unsigned idle = 0;
    while (go == 1) {
        fg__proc_batch b;
        int got = fg__proc_take(p, slot, &b);
        if (got < 0)
            break;
        if (got == 0) {
            fg__proc_pause(&idle);
            continue;
        }
        idle = 0;
        fg__proc_run_batch(p, slot, &b);
        fg__proc_complete(p, slot, &b);
    }
    fg__forked_exit(slot);
}

/* ----------------------------------------------------------- caller */

/* A failure (death) at task k: remember the lowest, make everyone skip
 * past it, and kill the workers whose batch starts after it. */
static void fg__proc_died(fg__proc *p, size_t k, int code, int sig, int status)
{
    if (k < p->m->total)
        p->deaths++;
    if (k < p->dead_k) {
        p->dead_k = k;
        p->dead_code = code;
        p->term_signal = sig;
        p->exit_status = status;
    }
    fg__forked_lower_fail(&p->s->fail_index, k);
    fg__forked_kill_past(&p->f, k);
}

/* forked.c: worker w was reaped. */
static void fg__proc_ended(void *ctx, int w, int status)
{
    fg__proc *p = ctx;
    /* acquire: pairs with the worker's release of `clean`. */
    if (atomic_load_explicit(&p->slots[w].clean, memory_order_acquire) || p->f.child[w].killed)
        return;
    size_t k = atomic_load_explicit(&p->slots[w].current, memory_order_relaxed);
    fg__proc_died(p, k == SIZE_MAX ? p->m->total : k, FG_ECRASHED,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                  WIFEXITED(status) ? WEXITSTATUS(status) : 0);
}

/* forked.c: worker w ran task k past the timeout and was killed. */
static void fg__proc_timed_out(void *ctx, int w, size_t k)
{
    (void)w;
    fg__proc_died(ctx, k, FG_ETIMEDOUT, SIGKILL, 0);
}

/* Print the completions logged so far, in order. */
static void fg__proc_show(fg__proc *p)
{
    fg__map *m = p->m;
    size_t n = atomic_load_explicit(&p->s->published, memory_order_acquire);
    for (; p->shown < n; p->shown++) {
        const fg__proc_entry *e = &p->log[p->shown];
        m->prog.completed_tasks = e->completed_tasks;
        m->prog.dispatched_batches = e->dispatched_batches;
        m->prog.dispatched_tasks = e->dispatched_tasks;
        m->prog.input_left = e->input_left;
        fg__map_report_at(m, false, (double)e->at_ns * 1e-9);
        fg__map_print_autobatch(m, e->verdict, e->size);
    }
}

/* Milliseconds between looks when nothing ends: -1 (only deaths wake us)
 * unless progress, a timeout, a cancel token or a worker without pidfd
 * needs watching. */
static int fg__proc_poll_ms(const fg__proc *p)
{
    const fg_parallel *par = p->m->par;
    int ms = p->s->reports || par->cancel != NULL ? 10 : -1;
    return fg__forked_poll_ms(&p->f, ms, par->timeout);
}

/* Until every worker is done (or dead): a worker's exit, which tears down
 * its copy of the caller's page tables, is left to the reaper. */
static void fg__proc_wait(fg__proc *p)
{
    while (fg__forked_busy(&p->f) > 0) {
        fg__proc_show(p);
        if (fg_cancel_requested(p->m->par->cancel))
            atomic_store_explicit(&p->s->stop, 1, memory_order_relaxed);
        fg__forked_poll(&p->f, fg__proc_poll_ms(p));
        if (p->m->par->timeout > 0)
            fg__forked_timeouts(&p->f, p->m->par->timeout, fg__now_s());
    }
    fg__proc_show(p);
}

/* After every worker is reaped: the failure, the counts, the results. */
static void fg__proc_finish(fg__proc *p)
{
    fg__map *m = p->m;
    fg__proc_shared *s = p->s;
    size_t k = s->fail_k, ran = p->deaths;
    int code = s->fail_code, sig = 0, status = 0;
    if (p->dead_k < k) {
        k = p->dead_k;
        code = p->dead_code;
        sig = p->term_signal;
        status = p->exit_status;
    }
    if (k != SIZE_MAX) {
        atomic_store_explicit(&m->fail_index, k, memory_order_relaxed);
        m->fail_code = code;
        m->term_signal = sig;
        m->exit_status = status;
    }
    for (int w = 0; w < p->n; w++)
        ran += atomic_load_explicit(&p->slots[w].ran, memory_order_relaxed);
    atomic_store_explicit(&m->tasks_run, ran, memory_order_relaxed);
    if (p->rs != 0)
        memcpy(m->results, p->results, m->total * p->rs);
    pthread_mutex_lock(&m->par->batch_lock);
    m->par->autobatch = s->autobatch; /* learned, as in a joblib block */
    pthread_mutex_unlock(&m->par->batch_lock);
}

static int fg__proc_setup(fg__proc *p)
{
    fg__map *m = p->m;
    fg_parallel *par = m->par;
    size_t prefix = fg__proc_prefix_batches(m);
    bool reports = par->printer.verbose != 0 || par->on_progress != NULL;
    size_t offs[4];
    fg__proc_view_plan(p);
    if (!fg__proc_layout(p, prefix > 0 ? prefix : 1, reports ? m->total : 0, offs))
        return FG_ENOMEM;
    p->base = fg__proc_region_take(&par->region, p->bytes, &p->size);
    if (p->base == NULL)
        return FG_ENOMEM;
    p->s = (fg__proc_shared *)(void *)p->base;
    p->slots = (fg__forked_slot *)(void *)(p->base + offs[0]);
    p->queue = (fg__proc_batch *)(void *)(p->base + offs[1]);
    p->log = (fg__proc_entry *)(void *)(p->base + offs[2]);
    p->results = p->base + offs[3];
    fg__proc_shared *s = p->s;
    /* A kept region holds the last call's state: from zero, as a new one
     * (the last call destroyed its mutex). */
    memset(s, 0, sizeof *s);
    fg__forked_lock_init(&s->lock);
    s->cutter = m->cutter;
    pthread_mutex_lock(&par->batch_lock);
    s->autobatch = par->autobatch;
    pthread_mutex_unlock(&par->batch_lock);
    s->auto_size = par->batch_size == FG_BATCH_AUTO;
    s->reports = reports;
    s->input_left = m->prog.input_left;
    s->queue_cap = prefix > 0 ? prefix : 1;
    s->fail_k = SIZE_MAX;
    atomic_init(&s->fail_index, SIZE_MAX);
    if (p->rs != 0) /* tasks that do not run leave their result as it was */
        memcpy(p->results, m->results, m->total * p->rs);
    double verdict;
    size_t size;
    while (fg__proc_dispatch(p, false, &verdict, &size)) /* the pre-dispatch */
        fg__map_print_autobatch(m, verdict, size);
    return fg__forked_init(&p->f, p->n, p->slots, fg__proc_ended, fg__proc_timed_out, p);
}

int fg__process_run(fg__map *m)
{
    fg__proc p = { .m = m, .n = m->par->n_jobs, .dead_k = SIZE_MAX,
                   .rs = m->calls != NULL ? 0 : m->d.result_size };
    int err = fg__proc_setup(&p);
    if (err == 0) {
        fg__forked_want_done(&p.f);
        fg__reaper_drain_older(&m->par->reaper); /* only the last map's may still exit */
        fg__proc_view_hide(&p, &m->par->region);
        bool started = fg__forked_start(&p.f, fg__proc_worker, &p, &m->par->reaper);
        fg__proc_view_restore(&p);
        if (started && fg_cancel_requested(m->par->cancel))
            atomic_store_explicit(&p.s->stop, 1, memory_order_relaxed);
        fg__forked_gate_open(&p.s->go, started ? 1 : 2);
        fg__proc_wait(&p);
        fg__forked_release(&p.f, &m->par->reaper);
        if (started)
            fg__proc_finish(&p);
        else
            err = FG_EAGAIN; /* fg_last_error_detail says why (fork.c) */
    }
    if (p.base != NULL)
        pthread_mutex_destroy(&p.s->lock);
    fg__forked_free(&p.f);
    fg__proc_region_give(&m->par->region, p.base, p.size);
    return err;
}
