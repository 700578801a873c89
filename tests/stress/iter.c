/* iter.c: streaming results (facade/iter.c) under concurrent readers and
 * close.
 *
 * Each round opens an iterator with a configuration drawn from the seed
 * (backend, order, batch size, range, a failing task or a cancelling one)
 * and lets 1-3 readers take results at once, some of them from inside a
 * task on a worker of the pool; in some rounds another thread maps on the
 * same fg_parallel meanwhile.  The round ends either at the iterator's end
 * or when the readers have taken a drawn number of results: then the main
 * thread closes the iterator while readers may be blocked in next (close
 * must wake them).  Since next must not be entered once close has begun,
 * readers pass a gate, and the main thread waits until every reader let in
 * is inside next (fg__iter_inside), closes the gate, then calls close.
 * Checked each round: every task ran at most once, every result read was
 * run, read once, and is right; close's tasks_run equals the runs; each
 * reader saw increasing indices in index order; a round read to its end
 * read exactly the indices before the failure (all of them without one),
 * then the failure's code and index; the maps beside it are exact.
 */
#include <stdbool.h>

#include "forage.h"
#include "iter.h"

#include "harness.h"

#define N_MAX 4000
#define READERS_MAX 3

static fg_pool *pool;
static atomic_ullong rounds, results_read;

typedef struct trip {
    fg_parallel_iter *it;
    int order;
    size_t n, fail_at, cancel_at;
    fg_cancel_token cancel;
    atomic_uint runs[N_MAX];
    atomic_uint reads[N_MAX];
    pthread_mutex_t gate;
    int closed, entered;      /* under gate */
    int closed_early;         /* under gate: closed after close_after reads */
    size_t read, close_after; /* under gate */
    int end_rc;               /* under gate: an end code a reader saw */
    size_t end_index;
    int ended;
} trip;

static int task(size_t i, void *ctx, void *result)
{
    trip *r = ctx;
    atomic_fetch_add_explicit(&r->runs[i], 1, memory_order_relaxed);
    stress_spin((unsigned)(i * 7919) % 64);
    if (i == r->cancel_at)
        fg_cancel(&r->cancel);
    if (i == r->fail_at)
        return 1000 + (int)(i % 7);
    *(uint64_t *)result = (uint64_t)i * 5 + 3;
    return 0;
}

/* One reader: take results through the gate until the end or the close. */
static void reader_loop(trip *r)
{
    size_t prev = 0;
    int any = 0;
    for (;;) {
        pthread_mutex_lock(&r->gate);
        if (r->closed) {
            pthread_mutex_unlock(&r->gate);
            return;
        }
        r->entered++;
        pthread_mutex_unlock(&r->gate);
        size_t i = SIZE_MAX;
        uint64_t v = 0;
        int rc = fg_parallel_iter_next(r->it, &i, &v);
        pthread_mutex_lock(&r->gate);
        r->entered--;
        if (rc == 0) {
            if (i >= r->n || v != (uint64_t)i * 5 + 3)
                stress_fail("result for %zu: %llu", i, (unsigned long long)v);
            else if (atomic_fetch_add(&r->reads[i], 1) != 0)
                stress_fail("index %zu read twice", i);
            if (r->order == FG_ORDER_INDEX && any && i <= prev)
                stress_fail("index order: %zu after %zu", i, prev);
            prev = i;
            any = 1;
            if (++r->read == r->close_after)
                r->closed = r->closed_early = 1;
        } else if (!r->ended) {
            r->end_rc = rc;
            r->end_index = i;
            r->ended = 1;
        }
        pthread_mutex_unlock(&r->gate);
        if (rc != 0)
            return;
    }
}

static int reader_task(void *p)
{
    reader_loop(p);
    return 0;
}

static int nothing(void *p)
{
    (void)p;
    return 0;
}

typedef struct reader { pthread_t t; trip *r; int on_worker; } reader;

static void *reader_main(void *p)
{
    reader *rd = p;
    if (rd->on_worker)
        fg_join(pool, reader_task, rd->r, nothing, NULL);
    else
        reader_loop(rd->r);
    return NULL;
}

/* Another thread's maps on the same fg_parallel while the iterator runs:
 * the façade's shared state (the learned batch size, the printer) under
 * two callers at once. */
typedef struct mapper { pthread_t t; fg_parallel *par; size_t n; } mapper;

static int square(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = (uint64_t)i * i;
    return 0;
}

static void *mapper_main(void *p)
{
    mapper *m = p;
    uint64_t *out = malloc((m->n > 0 ? m->n : 1) * sizeof *out);
    for (int rep = 0; rep < 3; rep++) {
        int err = fg_parallel_map(m->par, (fg_delayed){ square, NULL, sizeof *out }, 0, m->n,
                                  out, NULL);
        if (err != 0 && err != FG_ECANCELED)
            stress_fail("map beside an iterator: %s", fg_error_name(err));
        for (size_t i = 0; err == 0 && i < m->n; i++)
            if (out[i] != (uint64_t)i * i) {
                stress_fail("map beside an iterator: result %zu", i);
                break;
            }
    }
    free(out);
    return NULL;
}

static void check_round(trip *r, const fg_error_info *info, int read_to_end)
{
    size_t ran = 0;
    for (size_t i = 0; i < r->n; i++) {
        unsigned runs = atomic_load(&r->runs[i]), reads = atomic_load(&r->reads[i]);
        if (runs > 1)
            stress_fail("task %zu ran %u times", i, runs);
        if (reads > 0 && runs != 1)
            stress_fail("index %zu read but ran %u times", i, runs);
        ran += runs;
        if (read_to_end && r->order == FG_ORDER_INDEX) {
            size_t limit = r->fail_at < r->n ? r->fail_at : r->n;
            if (r->end_rc != FG_ECANCELED && (i < limit) != (reads == 1))
                stress_fail("read to the end: index %zu read %u times (limit %zu)", i, reads,
                            limit);
        }
    }
    if (info->tasks_run != ran)
        stress_fail("tasks_run %zu, but %zu tasks ran", info->tasks_run, ran);
    if (!read_to_end)
        return;
    if (r->fail_at < r->n && r->order == FG_ORDER_INDEX && r->end_rc != FG_ECANCELED &&
        (r->end_rc != 1000 + (int)(r->fail_at % 7) || r->end_index != r->fail_at))
        stress_fail("ended with %d at %zu, want the failure at %zu", r->end_rc, r->end_index,
                    r->fail_at);
    if (r->fail_at >= r->n && r->cancel_at >= r->n && r->end_rc != FG_EDONE)
        stress_fail("ended with %d (%s), want FG_EDONE", r->end_rc, fg_error_name(r->end_rc));
    if (r->fail_at >= r->n && r->cancel_at >= r->n && r->read != r->n)
        stress_fail("read %zu of %zu", r->read, r->n);
}

static void one_round(stress_rng *g)
{
    static const int backends[] = { FG_BACKEND_STEAL, FG_BACKEND_SHARED, FG_BACKEND_SEQUENTIAL };
    trip *r = calloc(1, sizeof *r);
    pthread_mutex_init(&r->gate, NULL);
    r->n = stress_rng_below(g, N_MAX + 1);
    r->order = stress_rng_below(g, 2) ? FG_ORDER_INDEX : FG_ORDER_COMPLETION;
    r->fail_at = stress_rng_below(g, 4) == 0 && r->n > 0 ? stress_rng_below(g, (uint32_t)r->n) : SIZE_MAX;
    r->cancel_at = stress_rng_below(g, 6) == 0 && r->n > 0 ? stress_rng_below(g, (uint32_t)r->n) : SIZE_MAX;
    r->close_after = stress_rng_below(g, 3) == 0 ? stress_rng_below(g, (uint32_t)r->n + 1) : SIZE_MAX;
    long batch = stress_rng_below(g, 5) == 0 ? FG_BATCH_AUTO : 1 + (long)stress_rng_below(g, 20);
    fg_parallel *par;
    int err = fg_parallel_open(&par, FG_PARALLEL_OPTS(
        .n_jobs = 1 + (int)stress_rng_below(g, 4), .pool = pool,
        .backend = backends[stress_rng_below(g, 3)], .batch_size = batch,
        .pre_dispatch = (long)stress_rng_below(g, 12), .cancel = &r->cancel));
    if (err != 0) {
        stress_fail("fg_parallel_open: %s", fg_error_name(err));
        free(r);
        return;
    }
    err = fg_parallel_iter_open(par, (fg_delayed){ task, r, sizeof(uint64_t) }, 0, r->n,
                                r->order, &r->it);
    if (err != 0) {
        stress_fail("fg_parallel_iter_open: %s", fg_error_name(err));
        fg_parallel_close(par);
        free(r);
        return;
    }
    mapper m = { .par = par, .n = stress_rng_below(g, 3000) };
    bool mapping = stress_rng_below(g, 4) == 0;
    if (mapping)
        pthread_create(&m.t, NULL, mapper_main, &m);
    int nreaders = 1 + (int)stress_rng_below(g, READERS_MAX);
    reader rd[READERS_MAX];
    for (int k = 0; k < nreaders; k++) {
        rd[k] = (reader){ .r = r, .on_worker = stress_rng_below(g, 3) == 0 };
        pthread_create(&rd[k].t, NULL, reader_main, &rd[k]);
    }
    /* Close once the readers ended or asked for it, with every reader that
     * passed the gate inside next. */
    fg_error_info info = FG_ERROR_INFO_INIT();
    int read_to_end = 0;
    for (;;) {
        pthread_mutex_lock(&r->gate);
        bool ready = (r->closed || r->ended) && r->entered == fg__iter_inside(r->it);
        if (ready) {
            r->closed = 1; /* nobody passes the gate any more */
            read_to_end = r->ended && !r->closed_early;
        }
        pthread_mutex_unlock(&r->gate);
        if (ready)
            break;
        sched_yield();
    }
    /* Not under the gate: a reader on a worker may wait for it, and close
     * needs the workers. */
    if (fg_parallel_iter_close(r->it, &info) != 0)
        stress_fail("fg_parallel_iter_close failed");
    for (int k = 0; k < nreaders; k++)
        pthread_join(rd[k].t, NULL);
    if (mapping)
        pthread_join(m.t, NULL);
    check_round(r, &info, read_to_end);
    atomic_fetch_add(&results_read, r->read);
    atomic_fetch_add(&rounds, 1);
    fg_parallel_close(par);
    pthread_mutex_destroy(&r->gate);
    free(r);
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 4, 1, 64, 2.0, "pool workers (default 4)");
    printf("iter: workers=%d seconds=%g%s\n", stress_cfg.threads, stress_cfg.seconds,
           STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start(stress_cfg.seconds * 3 + 120);
    stress_rng rng = stress_rng_make(stress_cfg.seed, 0);
    fg_config cfg = stress_pool_config(&rng, stress_cfg.threads);
    if (fg_pool_create(&pool, &cfg) != 0) {
        stress_fail("fg_pool_create");
        return stress_finish();
    }
    uint64_t start = stress_now_ns();
    while (stress_seconds_since(start) < stress_cfg.seconds && stress_failure_count() == 0)
        one_round(&rng);
    fg_pool_destroy(pool);
    printf("iter: rounds=%llu results=%llu\n", (unsigned long long)atomic_load(&rounds),
           (unsigned long long)atomic_load(&results_read));
    stress_total("rounds", atomic_load(&rounds));
    return stress_finish();
}
