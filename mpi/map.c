/* map.c: fg_mpi_parallel_map, the joblib-style map across MPI ranks.
 * docs/design/mpi.md explains the scheme; this file is the order of the
 * collective steps, which every rank takes in the same sequence:
 *
 *   1. local checks that need no collective (comm NULL, intercomm);
 *   2. MPI_Win_allocate of the root's counter (counter.c);
 *   3. the agreement: one MPI_Allreduce carries each rank's verdict on its
 *      own arguments and the arguments that must match (as min and max),
 *      so a bad argument on any rank gives every rank the same error and
 *      nobody waits in a later collective;
 *   4. the claim loop: claim a chunk (one round trip), queue it on the
 *      rank's pool (rank.c), sleep until the rank runs low, claim again,
 *      until the counter passes the last chunk (or the first failure);
 *   5. MPI_Win_free; one MPI_Allgather of every rank's outcome (failure,
 *      counts), from which every rank computes the same return value;
 *   6. the results, to the root or to everyone (gather.c), when no task
 *      failed.
 * Only the calling thread makes MPI calls.  Between 4 and 5 the root also
 * prints joblib's progress lines from the tasks-finished slot.
 */
#include "forage_mpi.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "counter.h"
#include "gather.h"
#include "progress.h"
#include "rank.h"
#include "schedule.h"
#include "seam.h"

/* ------------------------------------------------------------ agreement */

/* Fields of the agreement vector and how they combine across ranks. */
enum {
    FG__A_ERR,                  /* max of -code: the same error everywhere */
    FG__A_BEGIN, FG__A_BEGIN_X, /* min, and max as min of the complement */
    FG__A_END, FG__A_END_X,
    FG__A_RSIZE, FG__A_RSIZE_X,
    FG__A_BATCH, FG__A_BATCH_X,
    FG__A_ROOT, FG__A_ROOT_X,
    FG__A_EVERY, FG__A_EVERY_X,
    FG__A_REPORTS,              /* max: 1 when the root reports progress */
    FG__A_WORKERS,              /* sum */
    FG__A_WMIN, FG__A_WMIN_X,   /* min and max of the ranks' workers */
    FG__A_FIELDS
};
enum { FG__MIN, FG__MAX, FG__SUM };

static const unsigned char fg__agree_kind[FG__A_FIELDS] = {
    [FG__A_ERR] = FG__MAX, [FG__A_REPORTS] = FG__MAX, [FG__A_WORKERS] = FG__SUM,
    /* all others FG__MIN (0) */
};

static MPI_Datatype fg__agree_type;
static MPI_Op fg__agree_op;
static pthread_once_t fg__agree_once = PTHREAD_ONCE_INIT;

static void fg__agree_combine(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const uint64_t *a = in;
    uint64_t *b = inout;
    for (int e = 0; e < *len; e++, a += FG__A_FIELDS, b += FG__A_FIELDS)
        for (int f = 0; f < FG__A_FIELDS; f++) {
            uint64_t x = a[f], y = b[f];
            b[f] = fg__agree_kind[f] == FG__SUM ? x + y
                   : fg__agree_kind[f] == FG__MAX ? (x > y ? x : y)
                                                  : (x < y ? x : y);
        }
}

/* One element is the whole vector, so MPI never splits a vector between
 * calls of the combine function.  Created once, local calls only. */
static void fg__agree_create(void)
{
    MPI_Type_contiguous(FG__A_FIELDS, MPI_UINT64_T, &fg__agree_type);
    MPI_Type_commit(&fg__agree_type);
    MPI_Op_create(fg__agree_combine, 1, &fg__agree_op);
}

static void fg__agree_pair(uint64_t *v, int field, uint64_t value)
{
    v[field] = value;
    v[field + 1] = ~value;
}

/* ---------------------------------------------------------- the call */

/* Fields of a rank's outcome (fg__mpi_outcome). */
enum { FG__S_ERR, FG__S_FAIL, FG__S_CODE, FG__S_RUN, FG__S_CHUNKS, FG__S_CANCEL, FG__S_FIELDS };


typedef struct fg__mpi_call {
    MPI_Comm comm;
    int ranks, me, root;
    bool everywhere;
    size_t begin, total;
    fg_delayed d;
    char *results;
    fg_parallel_opts po;   /* this rank's façade */
    int workers;           /* this rank's */
    fg_mpi_stats *stats;
    /* after the agreement */
    uint64_t agreed[FG__A_FIELDS];
    fg__mpi_schedule sched;
    fg__mpi_rank rank;
    fg__mpi_counter counter;
    fg__mpi_gather gather;
    int err;               /* this rank's own FG_E* after the agreement */
    uint64_t *outcomes;    /* every rank's outcome (fg__mpi_outcome) */
    int *chunks;           /* every rank's chunk count */
    size_t claims;
    /* the root's progress lines */
    fg__printer printer;
    double start_s;
    size_t last_point;     /* the last joblib print point reported */
} fg__mpi_call;

/* The root prints progress lines or calls on_progress. */
static bool fg__mpi_reports(const fg__mpi_call *c)
{
    return c->me == c->root && (c->po.verbose != 0 || c->po.on_progress != NULL);
}

/* This rank's verdict on its own arguments (0 or a negative FG_E*). */
static int fg__mpi_check(fg__mpi_call *c, fg_parallel *par, fg_error_info *info,
                         const fg_mpi_opts *user)
{
    fg_mpi_opts o;
    if (fg__struct_read(&o, sizeof o, user) < 0 ||
        (info != NULL && fg__struct_check_out(info) < 0) ||
        (o.stats != NULL && fg__struct_check_out(o.stats) < 0))
        return FG_ESIZE;
    c->root = o.root;
    c->everywhere = o.everywhere != 0;
    c->stats = o.stats;
    if (o.root < 0 || o.root >= c->ranks)
        return FG_EINVAL;
    if (par == NULL || c->d.fn == NULL || c->d.result_size > INT_MAX ||
        fg_pool_current() != NULL)
        return FG_EINVAL;
    if (c->results == NULL && c->d.result_size != 0 && (c->everywhere || c->me == c->root))
        return FG_EINVAL;
    c->po = (fg_parallel_opts)FG_PARALLEL_OPTS_INIT();
    int n_jobs = fg_parallel_get_opts(par, &c->po);
    if (n_jobs < 0)
        return n_jobs;
    c->workers = c->po.pool != NULL ? n_jobs : 1;
    return 0;
}

static int fg__mpi_agree(fg__mpi_call *c, int local, size_t end)
{
    uint64_t v[FG__A_FIELDS] = { 0 };
    v[FG__A_ERR] = (uint64_t)-(int64_t)local;
    fg__agree_pair(v, FG__A_BEGIN, c->begin);
    fg__agree_pair(v, FG__A_END, end);
    fg__agree_pair(v, FG__A_RSIZE, c->d.result_size);
    fg__agree_pair(v, FG__A_BATCH, c->po.batch_size > 0 ? (uint64_t)c->po.batch_size : 0);
    fg__agree_pair(v, FG__A_ROOT, (uint64_t)c->root);
    fg__agree_pair(v, FG__A_EVERY, c->everywhere);
    v[FG__A_REPORTS] = local == 0 && fg__mpi_reports(c);
    v[FG__A_WORKERS] = (uint64_t)c->workers;
    fg__agree_pair(v, FG__A_WMIN, (uint64_t)c->workers);
    MPI_Allreduce(MPI_IN_PLACE, v, 1, fg__agree_type, fg__agree_op, c->comm);
    memcpy(c->agreed, v, sizeof v);
    if (v[FG__A_ERR] != 0)
        return -(int)v[FG__A_ERR];
    for (int f = FG__A_BEGIN; f <= FG__A_EVERY; f += 2)
        if (v[f] != ~v[f + 1]) /* min != max: the ranks disagree */
            return FG_EINVAL;
    return 0;
}

/* ------------------------------------------------------------ progress */

static void fg__mpi_progress(fg__mpi_call *c, size_t done, bool finished)
{
    double now = fg__now_s();
    if (c->po.on_progress != NULL) {
        fg_progress p = { done, c->total, c->sched.units, c->total, now - c->start_s,
                          finished };
        c->po.on_progress(&p, c->po.progress_ctx);
    }
    if (c->po.verbose == 0 || finished || done == 0 || done >= c->total)
        return;
    /* joblib's rule once every task is dispatched (print_progress): a line
     * at each index i with (total + 1 - i) % frequency == 0.  The root sees
     * the count only at its round trips, so it prints when one or more
     * such points were passed since its last line. */
    size_t frequency = c->total / (size_t)c->po.verbose + 1;
    size_t m = (c->total + 1 - done + frequency - 1) / frequency;
    size_t point = c->total + 1 - m * frequency;
    if (m * frequency > c->total || point <= c->last_point || point + 1 == c->total)
        return;
    c->last_point = point;
    char elapsed[32], remaining[32];
    fg__format_time(now - c->start_s, elapsed);
    fg__format_time((now - c->start_s) / (double)done * (double)(c->total - done), remaining);
    fg__printer_line(&c->printer, "Done %3zu out of %3zu | elapsed: %s remaining: %s", done,
                     c->total, elapsed, remaining);
}

static void fg__mpi_progress_open(fg__mpi_call *c)
{
    fg__printer_init(&c->printer, c->po.log, c->po.verbose, c->po.n_jobs);
    c->start_s = fg__now_s();
    if (c->po.verbose == 0)
        return;
    uint64_t lo = c->agreed[FG__A_WMIN], hi = ~c->agreed[FG__A_WMIN_X];
    char per[48];
    if (lo == hi)
        snprintf(per, sizeof per, "%llu", (unsigned long long)lo);
    else
        snprintf(per, sizeof per, "%llu..%llu", (unsigned long long)lo, (unsigned long long)hi);
    fg__printer_line(&c->printer, "Using backend MPIBackend with %llu concurrent workers (%d %s x %s).",
                     (unsigned long long)c->agreed[FG__A_WORKERS], c->ranks,
                     c->ranks == 1 ? "rank" : "ranks", per);
}

/* ---------------------------------------------------------- claim loop */

/* The rank's lowest failure, for publishing. */
static uint64_t fg__mpi_own_failure(fg__mpi_rank *r)
{
    pthread_mutex_lock(&r->lock);
    size_t f = r->fail_index;
    pthread_mutex_unlock(&r->lock);
    return f == SIZE_MAX ? UINT64_MAX : (uint64_t)f;
}

static void fg__mpi_claim_loop(fg__mpi_call *c)
{
    fg__mpi_rank *r = &c->rank;
    /* Progress wakes every rank now and then to report its count. */
    uint64_t period = c->agreed[FG__A_REPORTS] != 0 ? 50000000u : 0;
    size_t reported = 0;
    bool exhausted = c->err != 0, fresh = false, due = false;
    for (;;) {
        size_t out = atomic_load_explicit(&r->outstanding, memory_order_relaxed);
        size_t low = fg__mpi_rank_low_water(r);
        bool take = !exhausted && out < low;
        if (exhausted && out == 0)
            return;
        if (take || fresh || due) {
            size_t ran = atomic_load_explicit(&r->tasks_run, memory_order_relaxed);
            fg__mpi_claim cl = { .take = take, .fail = fg__mpi_own_failure(r),
                                 .done = ran - reported };
            reported = ran;
            fg__mpi_counter_claim(&c->counter, &cl);
            c->claims += take;
            if (cl.fail != UINT64_MAX)
                fg__mpi_rank_skip_after(r, (size_t)cl.fail);
            if (fg__mpi_reports(c))
                fg__mpi_progress(c, (size_t)cl.done, false);
            fresh = due = false;
            if (take) {
                if (cl.chunk >= c->sched.nchunks || fg_cancel_requested(c->po.cancel) ||
                    fg__mpi_unit_start(&c->sched, c->sched.chunk_start[cl.chunk]) > cl.fail)
                    exhausted = true; /* later chunks start later still */
                else if (fg__mpi_rank_submit(r, (size_t)cl.chunk) == FG_ENOMEM)
                    c->err = FG_ENOMEM, exhausted = true;
                continue;
            }
        }
        fresh = fg__mpi_rank_wait(r, exhausted ? 1 : low, period);
        due = period != 0;
    }
}

/* ------------------------------------------------------------- outcome */

/* Every rank's outcome, combined the same way on every rank. */
static int fg__mpi_outcome(fg__mpi_call *c, fg_error_info *info, int *chunks)
{
    fg__mpi_rank *r = &c->rank;
    uint64_t mine[FG__S_FIELDS] = {
        [FG__S_ERR] = (uint64_t)-(int64_t)c->err,
        [FG__S_FAIL] = r->fail_index == SIZE_MAX ? UINT64_MAX : (uint64_t)r->fail_index,
        [FG__S_CODE] = (uint64_t)(int64_t)r->fail_code,
        [FG__S_RUN] = atomic_load_explicit(&r->tasks_run, memory_order_relaxed),
        [FG__S_CHUNKS] = r->nchunks,
        [FG__S_CANCEL] = (uint64_t)fg_cancel_requested(c->po.cancel),
    };
    uint64_t *all = c->outcomes;
    uint64_t err = 0, fail = UINT64_MAX, run = 0, cancel = 0;
    int code = 0;
    MPI_Allgather(mine, FG__S_FIELDS, MPI_UINT64_T, all, FG__S_FIELDS, MPI_UINT64_T, c->comm);
    for (int p = 0; p < c->ranks; p++) {
        const uint64_t *s = all + (size_t)p * FG__S_FIELDS;
        err = s[FG__S_ERR] > err ? s[FG__S_ERR] : err;
        if (s[FG__S_FAIL] < fail) {
            fail = s[FG__S_FAIL];
            code = (int)(int64_t)s[FG__S_CODE];
        }
        run += s[FG__S_RUN];
        cancel |= s[FG__S_CANCEL];
        chunks[p] = (int)s[FG__S_CHUNKS];
    }
    if (info != NULL) {
        fg_error_info out = FG_ERROR_INFO_INIT(
            .index = err == 0 && fail != UINT64_MAX ? c->begin + (size_t)fail : 0,
            .code = err == 0 && fail != UINT64_MAX ? code : 0, .tasks_run = (size_t)run);
        fg__struct_write(info, &out, sizeof out);
    }
    if (err != 0)
        return -(int)err;
    if (fail != UINT64_MAX)
        return code;
    return cancel ? FG_ECANCELED : 0;
}

static void fg__mpi_stats_out(fg__mpi_call *c)
{
    if (c->stats == NULL)
        return;
    fg_mpi_stats out = FG_MPI_STATS_INIT(
        .tasks_run = atomic_load_explicit(&c->rank.tasks_run, memory_order_relaxed),
        .batches_run = atomic_load_explicit(&c->rank.batches_run, memory_order_relaxed),
        .chunks = c->rank.nchunks, .claims = c->claims, .workers = c->workers);
    fg__struct_write(c->stats, &out, sizeof out);
}

/* Steps 4 to 6, once every rank agreed. */
static int fg__mpi_run(fg__mpi_call *c, fg_error_info *info)
{
    uint64_t batch = c->agreed[FG__A_BATCH];
    c->err = fg__mpi_schedule_init(&c->sched, c->total, (size_t)batch,
                                   (size_t)c->agreed[FG__A_WORKERS], (size_t)c->ranks);
    bool receive = c->everywhere || c->me == c->root;
    /* After a failure here the rank claims nothing but still takes every
     * collective step, and the outcome tells every rank. */
    int err = fg__mpi_rank_init(&c->rank, &c->sched, c->d, c->begin,
                                receive ? c->results : NULL, c->po.pool, c->workers,
                                c->po.cancel, batch == 0);
    if (c->err == 0)
        c->err = err;
    if (c->err == 0)
        c->err = fg__mpi_gather_prepare(&c->gather, c->ranks, c->me, c->root, c->everywhere,
                                        c->sched.nchunks);
    if (fg__mpi_reports(c))
        fg__mpi_progress_open(c);
    fg__mpi_counter_start(&c->counter);
    fg__mpi_claim_loop(c);
    fg__mpi_rank_finish(&c->rank);
    fg__mpi_counter_close(&c->counter, true);

    int rc = fg__mpi_outcome(c, info, c->chunks);
    if (rc == 0 && c->d.result_size != 0 && c->total > 0)
        fg__mpi_gather_run(&c->gather, c->comm, &c->rank, c->chunks, c->results);
    if (fg__mpi_reports(c)) {
        if (rc == 0 && c->po.verbose != 0) {
            char elapsed[32];
            fg__format_time(fg__now_s() - c->start_s, elapsed);
            fg__printer_line(&c->printer, "Done %3zu out of %3zu | elapsed: %s finished",
                             c->total, c->total, elapsed);
        }
        if (rc == 0)
            fg__mpi_progress(c, c->total, true);
        fg__printer_destroy(&c->printer);
    }
    fg__mpi_stats_out(c);
    fg__mpi_gather_free(&c->gather);
    fg__mpi_rank_destroy(&c->rank);
    fg__mpi_schedule_free(&c->sched);
    return rc;
}

int fg_mpi_parallel_map_opts(MPI_Comm comm, fg_parallel *par, fg_delayed d, size_t begin,
                             size_t end, void *results, fg_error_info *info,
                             const fg_mpi_opts *opts)
{
    int ready = 0, done = 1, inter = 1;
    if (comm == MPI_COMM_NULL || MPI_Initialized(&ready) != MPI_SUCCESS || !ready ||
        MPI_Finalized(&done) != MPI_SUCCESS || done ||
        MPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || inter)
        return FG_EINVAL;
    pthread_once(&fg__agree_once, fg__agree_create);
    fg__mpi_call c = { .comm = comm, .begin = begin, .total = end >= begin ? end - begin : 0,
                       .d = d, .results = results };
    MPI_Comm_size(comm, &c.ranks);
    MPI_Comm_rank(comm, &c.me);
    int local = fg__mpi_check(&c, par, info, opts);
    if (local == 0 && begin > end)
        local = FG_EINVAL;
    /* Allocated before the agreement, so that running out is agreed on. */
    c.outcomes = malloc((size_t)c.ranks * FG__S_FIELDS * sizeof *c.outcomes);
    c.chunks = malloc((size_t)c.ranks * sizeof *c.chunks);
    if (local == 0 && (c.outcomes == NULL || c.chunks == NULL))
        local = FG_ENOMEM;
    /* A root every rank can name even when its own options are bad: the
     * window is freed again if the ranks disagree. */
    int root = local == 0 ? c.root : 0;
    fg__mpi_counter_open(&c.counter, comm, root, c.me == root);
    int err = fg__mpi_agree(&c, local, end);
    if (err != 0)
        fg__mpi_counter_close(&c.counter, false);
    else
        err = fg__mpi_run(&c, info);
    free(c.outcomes);
    free(c.chunks);
    return err;
}

int fg_mpi_parallel_map(MPI_Comm comm, fg_parallel *par, fg_delayed d, size_t begin,
                        size_t end, void *results, fg_error_info *info)
{
    return fg_mpi_parallel_map_opts(comm, par, d, begin, end, results, info, NULL);
}
