/* trace.c: record what each worker does in a ring of events and write it
 * as Chrome trace event JSON at pool destroy.  See docs/design/trace.md.
 *
 * I1  each worker has its own ring (fg__trace_ring), written only by that
 *     worker: no lock, no atomic, no shared cache line on the hot path.
 * I2  a ring holds the last `capacity` events; older ones are overwritten
 *     and counted (next - capacity), so memory is bounded by
 *     workers * capacity * sizeof(fg__trace_event), allocated at create.
 * I3  every event is complete when recorded: a run or a sleep takes its
 *     slot when it ends (start time and duration), so a ring never holds
 *     half an event and overwriting one never unpairs another.  A steal's
 *     flow arrow (victim -> thief) is written from the thief's one event.
 * I4  the rings are read only by fg__trace_finish, after every worker was
 *     joined: pthread_join orders the workers' plain writes before it.
 *
 * field        written by           read by           order
 * w->trace     create (before the   its worker         pthread_create /
 *              threads start)                          pthread_join
 * ring fields  its worker           teardown           pthread_join (I4)
 *
 * Lifetime: the rings and the file are created by fg_pool_create and freed
 * by fg__pool_teardown after the joins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "env.h"
#include "internal.h"

/* The pool's side: the open file, and what the JSON's metadata says. */
struct fg__trace {
    FILE *file;
    uint64_t capacity;
    char path[];
};

/* Slice names by job kind (fg__trace_event.kind). */
enum { FG__KIND_TASK, FG__KIND_JOIN, FG__KIND_EXTERNAL, FG__KIND_SPAWN, FG__KIND_CTX };
static const char *const fg__trace_kind_names[] = {
    [FG__KIND_TASK] = "task",
    [FG__KIND_JOIN] = "join",              /* the stolen b of an fg_join (ctx slot) */
    [FG__KIND_EXTERNAL] = "external join", /* a whole fg_join from a non-worker */
    [FG__KIND_SPAWN] = "spawn",            /* a group task */
    [FG__KIND_CTX] = "ctx task",           /* a stolen fg_ctx_spawn */
};

_Static_assert(sizeof(fg__trace_event) == 24, "the memory bound in trace.md counts 24 B per event");

#define FG__TRACE_EVENTS_DEFAULT ((uint64_t)1 << 16)
#define FG__TRACE_EVENTS_MAX ((uint64_t)1 << 26)

static uint8_t fg__trace_kind_of(fg__job *job)
{
    fg__job_fn fn = job->execute;
    if (fn == fg__ctx_stolen_fn &&
        FG__CONTAINER_OF(job, fg__ctx_meta, job)->slot->fg__fn == fg__join_ctx_fn)
        return FG__KIND_JOIN; /* fg_join's b, carried on the ctx stack (join.c) */
    if (fn == fg__spawn_fn ||
        (fn == fg__ctx_stolen_fn &&
         FG__CONTAINER_OF(job, fg__ctx_meta, job)->slot->fg__fn == fg__group_ctx_fn))
        return FG__KIND_SPAWN; /* a group task: a frame, or a ctx slot (group.c) */
    if (fn == fg__join_external_fn)
        return FG__KIND_EXTERNAL;
    if (fn == fg__ctx_stolen_fn)
        return FG__KIND_CTX;
    return FG__KIND_TASK;
}

static fg__trace_event *fg__trace_slot(fg__trace_ring *r)
{
    return &r->events[r->next++ & r->mask];
}

uint64_t fg__trace_clock_cold(const fg__trace_ring *r)
{
    return fg__clock_ns() - r->epoch_ns;
}

void fg__trace_note_cold(fg__trace_ring *r, enum fg__trace_type type, uint32_t arg)
{
    uint64_t now = fg__trace_clock_cold(r);
    *fg__trace_slot(r) = (fg__trace_event){ .ts_ns = now, .type = (uint8_t)type, .arg = arg };
}

void fg__trace_run_cold(fg__trace_ring *r, fg__job *job, fg__worker *w)
{
    uint8_t kind = fg__trace_kind_of(job); /* job may be gone after */
    uint32_t depth = r->depth++;
    uint64_t start = fg__trace_clock_cold(r);
    fg__job_execute(job, w);
    uint64_t end = fg__trace_clock_cold(r);
    r->depth = depth;
    *fg__trace_slot(r) = (fg__trace_event){ .ts_ns = start, .dur_ns = end - start,
                                            .type = FG__TRACE_RUN, .kind = kind,
                                            .arg = depth };
}

void fg__trace_sleep_cold(fg__trace_ring *r, uint64_t parked_at_ns)
{
    uint64_t end = fg__trace_clock_cold(r);
    *fg__trace_slot(r) = (fg__trace_event){ .ts_ns = parked_at_ns, .dur_ns = end - parked_at_ns,
                                            .type = FG__TRACE_SLEEP };
}

int fg__trace_config(const fg_config *cfg, fg__config *out)
{
    out->trace = cfg->trace;
    out->trace_bad_path_err = FG_EINVAL;
    out->trace_events = FG__TRACE_EVENTS_DEFAULT;
    if (out->trace == NULL) {
        out->trace = fg__env_string("FORAGE_TRACE");
        out->trace_bad_path_err = FG_EENV;
    }
    if (out->trace != NULL && out->trace[0] == '\0')
        out->trace = NULL; /* "" is off, also to override $FORAGE_TRACE */
    if (out->trace == NULL)
        return 0;
    long v;
    int err = fg__env_long("FORAGE_TRACE_EVENTS", 1, (long)FG__TRACE_EVENTS_MAX, 1, &v);
    if (err <= 0)
        return err;
    uint64_t cap = 1;
    while (cap < (uint64_t)v)
        cap *= 2;
    out->trace_events = cap;
    return 0;
}

/* The k-th traced pool of the process (from 0) writes `path` for k = 0,
 * else path with ".k" before its extension, so that pools sharing
 * $FORAGE_TRACE (a program's pool and a façade's own) never write one file
 * at once.  Relaxed: the RMW alone makes each number unique. */
static FG__ATOMIC(unsigned) fg__trace_pools;

void fg__numbered_path(char *out, size_t size, const char *path, unsigned k)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash != NULL ? slash : path, '.');
    if (k == 0)
        snprintf(out, size, "%s", path);
    else if (dot == NULL || dot == path || dot[-1] == '/')
        snprintf(out, size, "%s.%u", path, k);
    else
        snprintf(out, size, "%.*s.%u%s", (int)(dot - path), path, k, dot);
}

int fg__trace_start(fg_pool *p, const char *path, int bad_path_err, uint64_t events)
{
    if (path == NULL)
        return 0;
    size_t size = strlen(path) + 16; /* room for ".4294967295" */
    fg__trace *t = fg__alloc_zeroed(sizeof *t + size);
    if (t == NULL)
        return FG_ENOMEM;
    fg__numbered_path(t->path, size, path, fg__atomic_fetch_add(&fg__trace_pools, 1, FG__RELAXED));
    t->capacity = events;
    p->trace = t;
    uint64_t epoch = fg__clock_ns();
    for (int i = 0; i < p->nworkers; i++) {
        /* Not zeroed: untouched pages of a large ring cost no memory. */
        fg__trace_ring *r = fg__alloc(sizeof *r + events * sizeof(fg__trace_event));
        if (r == NULL)
            return FG_ENOMEM;
        *r = (fg__trace_ring){ .mask = events - 1, .epoch_ns = epoch };
        p->workers[i].trace = r;
    }
    t->file = fopen(t->path, "w");
    return t->file != NULL ? 0 : bad_path_err;
}

/* ts and dur in microseconds with three decimals, exactly from ns. */
#define FG__US_FMT "%llu.%03llu"
#define FG__US(ns) (unsigned long long)((ns) / 1000), (unsigned long long)((ns) % 1000)

static void fg__trace_write_event(FILE *f, int pid, int tid, uint64_t seq,
                                  const fg__trace_event *e)
{
    switch (e->type) {
    case FG__TRACE_RUN:
        fprintf(f, ",\n{\"name\":\"%s\",\"cat\":\"run\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,"
                   "\"ts\":" FG__US_FMT ",\"dur\":" FG__US_FMT ",\"args\":{\"depth\":%u}}",
                fg__trace_kind_names[e->kind], pid, tid, FG__US(e->ts_ns), FG__US(e->dur_ns),
                (unsigned)e->arg);
        break;
    case FG__TRACE_STEAL: {
        /* Flow ids are unique per pool: the thief and its event number. */
        unsigned long long id = ((unsigned long long)tid << 40) | (seq & ((1ull << 40) - 1));
        fprintf(f, ",\n{\"name\":\"steal\",\"cat\":\"steal\",\"ph\":\"i\",\"s\":\"t\","
                   "\"pid\":%d,\"tid\":%d,\"ts\":" FG__US_FMT ",\"args\":{\"victim\":%u}}",
                pid, tid, FG__US(e->ts_ns), (unsigned)e->arg);
        fprintf(f, ",\n{\"name\":\"steal\",\"cat\":\"flow\",\"ph\":\"s\",\"id\":%llu,"
                   "\"pid\":%d,\"tid\":%u,\"ts\":" FG__US_FMT "}",
                id, pid, (unsigned)e->arg, FG__US(e->ts_ns));
        fprintf(f, ",\n{\"name\":\"steal\",\"cat\":\"flow\",\"ph\":\"f\",\"id\":%llu,"
                   "\"pid\":%d,\"tid\":%d,\"ts\":" FG__US_FMT "}",
                id, pid, tid, FG__US(e->ts_ns));
        break;
    }
    case FG__TRACE_INJECT:
        fprintf(f, ",\n{\"name\":\"injector\",\"cat\":\"steal\",\"ph\":\"i\",\"s\":\"t\","
                   "\"pid\":%d,\"tid\":%d,\"ts\":" FG__US_FMT "}",
                pid, tid, FG__US(e->ts_ns));
        break;
    case FG__TRACE_SLEEP:
        fprintf(f, ",\n{\"name\":\"sleep\",\"cat\":\"idle\",\"ph\":\"i\",\"s\":\"t\","
                   "\"pid\":%d,\"tid\":%d,\"ts\":" FG__US_FMT ",\"args\":{\"parked_us\":"
                   FG__US_FMT "}}",
                pid, tid, FG__US(e->ts_ns), FG__US(e->dur_ns));
        break;
    case FG__TRACE_WAKE:
        fprintf(f, ",\n{\"name\":\"wake\",\"cat\":\"idle\",\"ph\":\"i\",\"s\":\"t\","
                   "\"pid\":%d,\"tid\":%d,\"ts\":" FG__US_FMT ",\"args\":{\"worker\":%u}}",
                pid, tid, FG__US(e->ts_ns), (unsigned)e->arg);
        break;
    }
}

static void fg__trace_write_worker(FILE *f, int pid, int tid, const fg__trace_ring *r)
{
    uint64_t cap = r->mask + 1;
    uint64_t first = r->next > cap ? r->next - cap : 0;
    fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"ts\":0,"
               "\"args\":{\"name\":\"worker %d\"}}",
            pid, tid, tid);
    fprintf(f, ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"ts\":0,"
               "\"args\":{\"sort_index\":%d}}",
            pid, tid, tid);
    fprintf(f, ",\n{\"name\":\"forage_ring\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"ts\":0,"
               "\"args\":{\"capacity\":%llu,\"recorded\":%llu,\"dropped\":%llu}}",
            pid, tid, (unsigned long long)cap, (unsigned long long)r->next,
            (unsigned long long)first);
    for (uint64_t seq = first; seq < r->next; seq++)
        fg__trace_write_event(f, pid, tid, seq, &r->events[seq & r->mask]);
}

static int fg__trace_write(fg_pool *p, FILE *f)
{
    int pid = (int)getpid();
    uint64_t recorded = 0, dropped = 0;
    fprintf(f, "{\"traceEvents\":[\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,"
               "\"tid\":0,\"ts\":0,\"args\":{\"name\":\"forage pool (%d workers)\"}}",
            pid, p->nworkers);
    for (int i = 0; i < p->nworkers; i++) {
        const fg__trace_ring *r = p->workers[i].trace;
        fg__trace_write_worker(f, pid, i, r);
        recorded += r->next;
        dropped += r->next > r->mask + 1 ? r->next - (r->mask + 1) : 0;
    }
    fprintf(f, "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"forage_version\":\"%s\","
               "\"workers\":%d,\"events_per_worker\":%llu,\"recorded_events\":%llu,"
               "\"dropped_events\":%llu}}\n",
            fg_version_string(), p->nworkers, (unsigned long long)p->trace->capacity,
            (unsigned long long)recorded, (unsigned long long)dropped);
    return ferror(f) ? -1 : 0;
}

void fg__trace_finish(fg_pool *p, int write)
{
    fg__trace *t = p->trace;
    if (t == NULL)
        return;
    if (t->file != NULL) {
        int bad = write ? fg__trace_write(p, t->file) : 0;
        if (fclose(t->file) != 0 || bad)
            fprintf(stderr, "forage: could not write the trace %s: %s\n", t->path,
                    strerror(errno));
        if (!write)
            remove(t->path); /* the pool was never created: no trace */
    }
    for (int i = 0; i < p->nworkers; i++) {
        fg__free(p->workers[i].trace); /* NULL where the start failed */
        p->workers[i].trace = NULL;
    }
    fg__free(t);
    p->trace = NULL;
}
