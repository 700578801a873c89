/* record.c: record the task graph a pool runs, unit by unit, and write it
 * at pool destroy in the format of docs/design/record.md.
 *
 * Each worker tracks the unit it runs (r->now): its record, its own work so
 * far and whether its clock runs.  Every boundary (a spawn, a call, a
 * sync, the start or end of a unit, the start or end of a wait) reads the
 * clock once and charges the time since the last boundary to the running
 * unit, so a unit's work excludes its children and its waits.
 *
 * R1  units live in chunks of the worker that spawned them (a root: of
 *     the worker that ran it), aligned to their size, and never move: the
 *     owner fills them in without a lock or an atomic; a chunk's header
 *     says whose it is, so a unit's address gives its worker and index.
 * R2  a unit's fields are written by its spawner before the unit is
 *     published (deque push or ctx share, release) and afterwards by one
 *     thread at a time: `link` (STOLEN, a label) and `work` by the worker
 *     running it, `sync_at` by its parent's worker (the parent never moves:
 *     forage steals children, not continuations).  Different fields, no
 *     race; the runner's writes reach the parent through the unit's own
 *     completion (latch or group count), and everything reaches the writer
 *     at destroy through pthread_join.
 * R3  memory is bounded by the pool's budget of units (FORAGE_RECORD_UNITS)
 *     which workers reserve a chunk at a time with a relaxed CAS (the only
 *     shared word, touched once per chunk).  A unit that finds no room has
 *     no record (NULL) and is counted; its descendants are dropped at the
 *     write and counted too, and the file is marked PARTIAL.
 * R4  siblings are recorded in spawn order: a parent runs on one worker,
 *     which allocates its children one after another.  The write numbers
 *     units in depth-first preorder from the roots (sorted by start), so a
 *     parent precedes its children and siblings keep their order.
 *
 * field        written by                 read by      order
 * budget       workers (CAS), create      workers      relaxed: a counter
 * w->record    create (before threads)    its worker   pthread_create/join
 * chunks, r    the owner                  the writer   pthread_join
 * a unit       see R2                     the writer   pthread_join
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#  include <sys/mman.h>
#endif

#include "alloc.h"
#include "crc32.h"
#include "env.h"
#include "internal.h"

#define FG__REC_CHUNK_BYTES ((size_t)1 << 17)
#define FG__REC_CHUNK_UNITS ((uint32_t)(FG__REC_CHUNK_BYTES / sizeof(fg__record_unit) - 1))
#define FG__REC_UNITS_DEFAULT ((uint64_t)1 << 22)
#define FG__REC_UNITS_MAX ((uint64_t)1 << 31)
#define FG__REC_NONE UINT32_MAX       /* file: no parent */
#define FG__REC_LOST (UINT32_MAX - 1) /* in memory: the parent has no record */
#define FG__REC_HEADER 64
#define FG__REC_SIZE 32

typedef struct fg__record_chunk {
    struct fg__record_chunk *older;
    uint64_t base;   /* the write: index of units[0] */
    uint32_t worker; /* whose units these are (R1) */
    uint32_t used;   /* units handed out; the current chunk's: r->free */
    uint64_t unused;
    fg__record_unit units[];
} fg__record_chunk;

_Static_assert(sizeof(fg__record_unit) == 32, "units are 32 bytes: kind and flags fit below the link");
_Static_assert(offsetof(fg__record_chunk, units) == 32, "units stay 32-byte aligned in a chunk");

struct fg__record {
    FG__ATOMIC(uint64_t) budget; /* units no worker has reserved yet (R3) */
    uint64_t cap;
    uint64_t tick0, ns0;         /* the clock at create, to convert ticks */
    FILE *file;
    char path[];
};

/* ------------------------------------------------------------ the clock */

/* Read the clock at every boundary while boundaries are FG__REC_SLOW ticks
 * apart or more; closer, read it every FG__REC_SAMPLE boundaries only (a
 * read costs 15-30 ns on the KVMs forage is measured on, fib's units 3-7).
 * See docs/design/record.md, "The clock". */
#define FG__REC_SAMPLE 32u
#ifndef FG__REC_SLOW /* -DFG__REC_SLOW=...: counting instructions under valgrind */
#  if defined(__x86_64__) || defined(__i386__)
#    define FG__REC_SLOW 512u /* TSC ticks: 150-250 ns at 2-3.5 GHz */
#  else
#    define FG__REC_SLOW 200u /* ns */
#  endif
#endif

/* Read the clock: close the sample (the boundaries since the last read set
 * the step of the next one) and give now, never before `mark` (the steps
 * may have run ahead of the clock; the read that catches up charges the
 * rest, so the charges of a run sum to its time). */
uint64_t fg__record_read(fg__recorder *r)
{
    uint64_t t = fg__record_tick();
    uint64_t mean = (t - r->read) / (r->span - r->left + 1);
    r->span = r->left = mean < FG__REC_SLOW ? FG__REC_SAMPLE : 1;
    r->step = mean;
    r->read = t;
    return t > r->mark ? t : r->mark;
}

/* ------------------------------------------------------------ the units */

static fg__record_chunk *fg__record_chunk_of(const fg__record_unit *u)
{
    return (fg__record_chunk *)((uintptr_t)u & ~(uintptr_t)(FG__REC_CHUNK_BYTES - 1));
}

FG__COLD fg__record_unit *fg__record_alloc_chunk(fg__recorder *r)
{
    if (r->chunks != NULL)
        r->chunks->used = (uint32_t)(r->free - r->chunks->units);
    uint64_t have = fg__atomic_load(&r->shared->budget, FG__RELAXED), take;
    do {
        if (have == 0) {
            r->lost++;
            return NULL;
        }
        take = have < FG__REC_CHUNK_UNITS ? have : FG__REC_CHUNK_UNITS;
        /* Relaxed: the budget only counts; it orders nothing (R3). */
    } while (!fg__atomic_cas(&r->shared->budget, &have, have - take, FG__RELAXED, FG__RELAXED));
    fg__record_chunk *c = fg__alloc_aligned(FG__REC_CHUNK_BYTES, FG__REC_CHUNK_BYTES);
    if (c == NULL) {
        r->lost++;
        return NULL;
    }
#ifdef MADV_POPULATE_WRITE
    /* One call maps the chunk's 32 pages, not 32 page faults spread over
     * the units (15-20 % of fresh memory's cost here); failure is harmless. */
    (void)madvise(c, FG__REC_CHUNK_BYTES, MADV_POPULATE_WRITE);
#endif
    c->older = r->chunks;
    c->base = 0;
    c->worker = (uint32_t)r->index;
    c->used = 0;
    r->chunks = c;
    r->free = c->units;
    r->end = c->units + take;
    return r->free++;
}

bool fg__record_pause(fg__recorder *r)
{
    r->reuse = 0;
    fg__record_charge(r, fg__record_read(r));
    bool was = r->now.running;
    r->now.running = false;
    return was;
}

void fg__record_resume(fg__recorder *r, bool was_running)
{
    r->reuse = 0;
    r->mark = r->read = fg__record_tick(); /* the wait is nobody's work */
    r->span = r->left = 1;
    r->now.running = was_running;
}

/* ------------------------------------------------------------- groups */

static void fg__record_remember(fg__recorder *r, fg__record_unit *u, const void *group)
{
    if (r->npending == r->cap_pending) {
        uint32_t cap = r->cap_pending != 0 ? 2 * r->cap_pending : 64;
        fg__record_pending *grown = fg__alloc(sizeof *grown * cap);
        if (grown == NULL)
            return; /* its sync is then the end of its parent */
        if (r->npending > 0)
            memcpy(grown, r->pending, sizeof *grown * r->npending);
        fg__free(r->pending);
        r->pending = grown;
        r->cap_pending = cap;
    }
    r->pending[r->npending++] = (fg__record_pending){ u, group };
}

fg__record_unit *fg__record_spawn_group(fg__recorder *r, const void *group)
{
    fg__record_unit *u = fg__record_spawn(r, FG__REC_GROUP);
    if (u != NULL)
        fg__record_remember(r, u, group);
    return u;
}

void fg__record_sync_group(fg__recorder *r, const void *group)
{
    fg__record_charge(r, fg__record_now(r));
    uint32_t keep = r->now.pending;
    for (uint32_t i = r->now.pending; i < r->npending; i++) {
        if (r->pending[i].group == group)
            r->pending[i].unit->sync_at = r->now.work;
        else
            r->pending[keep++] = r->pending[i];
    }
    r->npending = keep;
}

/* ------------------------------------------------------- running a job */

/* The unit a job carries, or (*root) none: a call from outside. */
static fg__record_unit *fg__record_carried(fg__job *job, bool *root, int *kind)
{
    fg__job_fn fn = job->execute;
    *root = false;
    if (fn == fg__ctx_stolen_fn)
        return FG__CONTAINER_OF(job, fg__ctx_meta, job)->unit;
    if (fn == fg__spawn_fn) {
        *kind = FG__REC_GROUP;
        return fg__spawn_unit(job, root);
    }
    *root = true;
    *kind = fn == fg__join_external_fn || fn == fg__ctx_root_fn ? FG__REC_ROOT : FG__REC_OTHER;
    return NULL;
}

void fg__record_run(fg__worker *w, fg__job *job)
{
    fg__recorder *r = w->record;
    r->reuse = 0;
    uint64_t now = fg__record_read(r);
    bool root;
    int kind = FG__REC_OTHER;
    fg__record_unit *u = fg__record_carried(job, &root, &kind);
    if (root) {
        if ((u = fg__record_alloc(r)) != NULL)
            *u = (fg__record_unit){ (uintptr_t)kind, 0, now, 0 };
        if (r->first_root == 0 || now < r->first_root)
            r->first_root = now;
    } else if (u != NULL && fg__record_chunk_of(u)->worker != (uint32_t)w->index) {
        u->link |= (uintptr_t)FG__REC_STOLEN << 3;
    }
    fg__record_frame saved;
    fg__record_enter_at(r, u, &saved, now);
    fg__trace_execute(w->trace, job, w); /* job may be gone after */
    r->reuse = 0;
    fg__record_leave_at(r, &saved, fg__record_read(r));
    if (root)
        r->last_root = r->mark;
}

/* facade/seam.h: the running unit is a parallel_for chunk or a batch. */
void fg__record_label(int kind)
{
    fg__worker *w = fg__tls_worker;
    if (FG__LIKELY(w == NULL || w->record == NULL))
        return;
    fg__recorder *r = w->record;
    fg__record_unit *u = r->now.cur;
    if (u != NULL)
        u->link = (u->link & ~(uintptr_t)7) | (uintptr_t)(kind & 7);
    /* Chunks and batches are the user's code, often long: read the clock
     * here and at the unit's next boundary, so that a sample taken while
     * boundaries came fast does not charge this unit's time to whichever
     * unit runs at the next read (the seed workload's batches went to
     * join halves that way, and its recorded span tripled). */
    r->reuse = 0;
    fg__record_charge(r, fg__record_read(r));
    r->span = r->left = 1;
}

/* ------------------------------------------------------ configuration */

int fg__record_config(const fg_config *cfg, fg__config *out)
{
    out->record = cfg->record;
    out->record_bad_path_err = FG_EINVAL;
    out->record_units = FG__REC_UNITS_DEFAULT;
    if (out->record == NULL) {
        out->record = fg__env_string("FORAGE_RECORD");
        out->record_bad_path_err = FG_EENV;
    }
    if (out->record != NULL && out->record[0] == '\0')
        out->record = NULL; /* "" is off, also to override $FORAGE_RECORD */
    if (out->record == NULL)
        return 0;
    long v;
    int err = fg__env_long("FORAGE_RECORD_UNITS", 1, (long)FG__REC_UNITS_MAX, 1, &v);
    if (err > 0)
        out->record_units = (uint64_t)v;
    return err < 0 ? err : 0;
}

/* The k-th recording pool of the process writes path, then path.k.ext (as
 * traces do).  Relaxed: the RMW alone makes each number unique. */
static FG__ATOMIC(unsigned) fg__record_pools;

int fg__record_start(fg_pool *p, const char *path, int bad_path_err, uint64_t units)
{
    if (path == NULL)
        return 0;
    size_t size = strlen(path) + 16; /* room for ".4294967295" */
    fg__record *rec = fg__alloc_zeroed(sizeof *rec + size);
    if (rec == NULL)
        return FG_ENOMEM;
    fg__numbered_path(rec->path, size, path, fg__atomic_fetch_add(&fg__record_pools, 1, FG__RELAXED));
    rec->cap = units;
    fg__atomic_init(&rec->budget, units);
    p->record = rec;
    for (int i = 0; i < p->nworkers; i++) {
        /* Lines of its own: each boundary writes it, and workers' recorders
         * allocated one after another would share lines. */
        size_t bytes = (sizeof(fg__recorder) + FG__CACHE_LINE - 1) & ~(size_t)(FG__CACHE_LINE - 1);
        fg__recorder *r = fg__alloc_aligned(FG__CACHE_LINE, bytes);
        if (r == NULL)
            return FG_ENOMEM;
        memset(r, 0, sizeof *r);
        r->shared = rec;
        r->index = i;
        r->span = r->left = 1;
        p->workers[i].record = r;
        fg__ctx_divert(&p->workers[i].ctx_stack);
    }
    rec->file = fopen(rec->path, "wb");
    if (rec->file == NULL) {
        fg__detail_set("%s\"%.128s\": cannot open the recording for writing: %.64s",
                       bad_path_err == FG_EENV ? "FORAGE_RECORD=" : "fg_config.record = ",
                       rec->path, strerror(errno));
        return bad_path_err;
    }
    rec->tick0 = fg__record_tick();
    rec->ns0 = fg__clock_ns();
    return 0;
}

/* ------------------------------------------------------------ the write */

typedef struct fg__record_graph {
    uint64_t n;              /* units in memory */
    fg__record_unit **unit;  /* by index: workers in order, chunks oldest first */
    uint32_t *parent;        /* index, FG__REC_NONE or FG__REC_LOST */
    uint32_t *first, *kids;  /* i's children: kids[first[i] .. first[i + 1]) */
    uint32_t *pos;           /* index -> position in the file, or FG__REC_NONE */
    uint32_t *order;         /* position -> index, [0, written) */
    uint64_t written;
    double ns_per_tick;
} fg__record_graph;

static void fg__record_graph_free(fg__record_graph *g)
{
    fg__free(g->unit);
    fg__free(g->parent);
    fg__free(g->first);
    fg__free(g->kids);
    fg__free(g->pos);
    fg__free(g->order);
}

/* Number the units in memory (R1): g->unit and each chunk's base. */
static int fg__record_index(fg_pool *p, fg__record_graph *g)
{
    g->n = 0;
    for (int w = 0; w < p->nworkers; w++) {
        fg__recorder *r = p->workers[w].record;
        if (r->chunks != NULL)
            r->chunks->used = (uint32_t)(r->free - r->chunks->units);
        for (fg__record_chunk *c = r->chunks; c != NULL; c = c->older)
            g->n += c->used;
    }
    size_t n = (size_t)g->n + 1;
    g->unit = fg__alloc(sizeof *g->unit * n);
    g->parent = fg__alloc(sizeof *g->parent * n);
    g->first = fg__alloc_zeroed(sizeof *g->first * (n + 1));
    g->kids = fg__alloc(sizeof *g->kids * n);
    g->pos = fg__alloc(sizeof *g->pos * n);
    g->order = fg__alloc(sizeof *g->order * n);
    if (!g->unit || !g->parent || !g->first || !g->kids || !g->pos || !g->order)
        return -1;
    uint64_t base = 0;
    for (int w = 0; w < p->nworkers; w++) {
        fg__record_chunk *c = p->workers[w].record->chunks, *newer = NULL;
        while (c != NULL) { /* reverse to oldest first, in place */
            fg__record_chunk *older = c->older;
            c->older = newer;
            newer = c;
            c = older;
        }
        p->workers[w].record->chunks = newer;
        for (c = newer; c != NULL; c = c->older) {
            c->base = base;
            for (uint32_t k = 0; k < c->used; k++)
                g->unit[base++] = &c->units[k];
        }
    }
    return 0;
}

static uint32_t fg__record_parent_index(const fg__record_unit *u)
{
    uintptr_t link = u->link & ~(uintptr_t)31;
    if (link == 0)
        return FG__REC_NONE;
    if (link == FG__REC_LOST_PARENT)
        return FG__REC_LOST;
    const fg__record_unit *parent = (const fg__record_unit *)link;
    const fg__record_chunk *c = fg__record_chunk_of(parent);
    return (uint32_t)(c->base + (uint64_t)(parent - c->units));
}

typedef struct fg__record_root {
    uint64_t start; /* tick */
    uint32_t index;
} fg__record_root;

static int fg__record_root_cmp(const void *a, const void *b)
{
    const fg__record_root *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Parents, children in spawn order, then depth-first preorder (R4). */
static void fg__record_link(fg__record_graph *g)
{
    uint32_t n = (uint32_t)g->n, nroots = 0;
    for (uint32_t i = 0; i < n; i++) {
        g->parent[i] = fg__record_parent_index(g->unit[i]);
        if (g->parent[i] < FG__REC_LOST)
            g->first[g->parent[i] + 1]++;
        else if (g->parent[i] == FG__REC_NONE)
            nroots++;
    }
    for (uint32_t i = 0; i < n; i++)
        g->first[i + 1] += g->first[i];
    fg__record_root *roots = fg__alloc(sizeof *roots * (nroots + 1));
    g->written = 0;
    if (roots == NULL)
        return; /* nothing written: every unit counts as lost */
    nroots = 0;
    for (uint32_t i = 0; i < n; i++) /* pos as a fill cursor for now */
        g->pos[i] = g->first[i];
    for (uint32_t i = 0; i < n; i++) {
        if (g->parent[i] < FG__REC_LOST)
            g->kids[g->pos[g->parent[i]]++] = i;
        else if (g->parent[i] == FG__REC_NONE)
            roots[nroots++] = (fg__record_root){ g->unit[i]->spawn_at, i };
    }
    qsort(roots, nroots, sizeof *roots, fg__record_root_cmp);
    for (uint32_t i = 0; i < n; i++)
        g->pos[i] = FG__REC_NONE;
    /* The DFS stack grows down from the end of `order`: a unit is pushed
     * once, so written + stacked <= n and it never meets the prefix. */
    uint32_t *stack = g->order + n;
    for (uint32_t k = 0; k < nroots; k++) {
        *--stack = roots[k].index;
        while (stack < g->order + n) {
            uint32_t i = *stack++;
            g->pos[i] = (uint32_t)g->written;
            g->order[g->written++] = i;
            for (uint32_t c = g->first[i + 1]; c > g->first[i]; c--)
                *--stack = g->kids[c - 1];
        }
    }
    fg__free(roots);
}

static uint64_t fg__record_ns(const fg__record_graph *g, uint64_t ticks)
{
    return (uint64_t)((double)ticks * g->ns_per_tick);
}

static void fg__put32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void fg__put64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

/* Record k of the file (docs/design/record.md, "A record"). */
static void fg__record_encode(const fg__record_graph *g, uint64_t k, unsigned char *b)
{
    uint32_t i = g->order[k], parent = g->parent[i];
    const fg__record_unit *u = g->unit[i];
    uint64_t work = fg__record_ns(g, u->work), spawn_at = 0, sync_at = 0;
    if (parent != FG__REC_NONE) {
        uint64_t parent_work = fg__record_ns(g, g->unit[parent]->work);
        sync_at = u->sync_at == FG__REC_UNSYNCED ? parent_work : fg__record_ns(g, u->sync_at);
        sync_at = sync_at < parent_work ? sync_at : parent_work;
        spawn_at = fg__record_ns(g, u->spawn_at);
        spawn_at = spawn_at < sync_at ? spawn_at : sync_at;
    }
    memset(b, 0, FG__REC_SIZE);
    fg__put32(b, parent == FG__REC_NONE ? FG__REC_NONE : g->pos[parent]);
    b[4] = (unsigned char)(u->link & 7);
    b[5] = (unsigned char)((u->link >> 3) & 3);
    fg__put64(b + 8, work);
    fg__put64(b + 16, spawn_at);
    fg__put64(b + 24, sync_at);
}

/* Encode the records in batches: for their CRC (out NULL), then to out. */
static uint32_t fg__record_emit(const fg__record_graph *g, FILE *out)
{
    unsigned char buf[256 * FG__REC_SIZE];
    uint32_t crc = 0;
    for (uint64_t k = 0; k < g->written;) {
        size_t m = 0;
        for (; m < 256 && k < g->written; m++, k++)
            fg__record_encode(g, k, buf + m * FG__REC_SIZE);
        if (out != NULL)
            fwrite(buf, FG__REC_SIZE, m, out);
        else
            crc = fg__crc32(crc, buf, m * FG__REC_SIZE);
    }
    return crc;
}

/* Ticks per ns from the pool's life, at least 2 ms of it (x86: the TSC). */
static double fg__record_ns_per_tick(const fg__record *rec)
{
#if defined(__x86_64__) || defined(__i386__)
    uint64_t tick, ns;
    do {
        tick = fg__record_tick();
        ns = fg__clock_ns();
    } while (ns - rec->ns0 < 2000000);
    return (double)(ns - rec->ns0) / (double)(tick - rec->tick0);
#else
    (void)rec;
    return 1.0;
#endif
}

static int fg__record_write(fg_pool *p, fg__record *rec)
{
    fg__record_graph g = { .ns_per_tick = fg__record_ns_per_tick(rec) };
    if (fg__record_index(p, &g) < 0) {
        fg__record_graph_free(&g);
        errno = ENOMEM;
        return -1;
    }
    fg__record_link(&g);
    uint64_t lost = g.n - g.written, first = 0, last = 0;
    for (int w = 0; w < p->nworkers; w++) {
        const fg__recorder *r = p->workers[w].record;
        lost += r->lost;
        if (r->first_root != 0 && (first == 0 || r->first_root < first))
            first = r->first_root;
        last = r->last_root > last ? r->last_root : last;
    }
    unsigned char h[FG__REC_HEADER] = "FGRECORD";
    fg__put32(h + 8, 1);
    fg__put32(h + 12, FG__REC_HEADER);
    fg__put32(h + 16, FG__REC_SIZE);
    fg__put32(h + 20, (uint32_t)p->nworkers);
    fg__put64(h + 24, g.written);
    fg__put64(h + 32, lost);
    fg__put64(h + 40, last > first ? fg__record_ns(&g, last - first) : 0);
    fg__put32(h + 48, lost > 0 ? 1 : 0); /* PARTIAL */
    fg__put32(h + 56, fg__record_emit(&g, NULL));
    fg__put32(h + 60, fg__crc32(0, h, 60));
    fwrite(h, 1, sizeof h, rec->file);
    fg__record_emit(&g, rec->file);
    fg__record_graph_free(&g);
    if (lost > 0)
        fprintf(stderr, "forage: the recording %s lost %llu units (FORAGE_RECORD_UNITS=%llu): "
                        "it is marked partial\n",
                rec->path, (unsigned long long)lost, (unsigned long long)rec->cap);
    return ferror(rec->file) ? -1 : 0;
}

void fg__record_finish(fg_pool *p, int write)
{
    fg__record *rec = p->record;
    if (rec == NULL)
        return;
    if (rec->file != NULL) {
        int bad = write ? fg__record_write(p, rec) : 0;
        if (fclose(rec->file) != 0 || bad)
            fprintf(stderr, "forage: could not write the recording %s: %s\n", rec->path,
                    strerror(errno));
        if (!write)
            remove(rec->path); /* the pool was never created: no recording */
    }
    for (int i = 0; i < p->nworkers; i++) {
        fg__recorder *r = p->workers[i].record;
        if (r == NULL)
            continue; /* the start failed before this worker */
        for (fg__record_chunk *c = r->chunks, *older; c != NULL; c = older) {
            older = c->older;
            fg__free(c);
        }
        fg__free(r->pending);
        fg__free(r);
        p->workers[i].record = NULL;
    }
    fg__free(rec);
    p->record = NULL;
}
