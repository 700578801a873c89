/* tests/unit/record.c: recordings (runtime/record.c, docs/design/record.md).
 *
 * Each test records a program whose task graph is known and reads the file
 * back: exact unit counts per kind, the parent tree, spawn/sync order,
 * overflow accounting with a small budget, bad paths, and results that
 * recording must not change.
 */
#include <criterion/criterion.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32.h"
#include "forage.h"
#include "fib_typed.h"

#define NONE UINT32_MAX
enum { ROOT, JOIN_A, JOIN_B, GROUP, CTX, CHUNK, BATCH, OTHER, KINDS };
enum { CALL = 1, STOLEN = 2 };

typedef struct rec_t {
    uint32_t parent;
    uint8_t kind, flags;
    uint64_t work, spawn_at, sync_at;
} rec_t;

typedef struct recording {
    uint32_t workers, flags;
    uint64_t units, lost, wall;
    rec_t *r;
    uint64_t kinds[KINDS];
    uint64_t t1;
} recording;

static uint32_t get32(const unsigned char *b) { return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24; }
static uint64_t get64(const unsigned char *b) { return get32(b) | (uint64_t)get32(b + 4) << 32; }

/* Read and check the file: header fields, CRCs, and the ordering rules. */
static void load(const char *path, recording *out)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "no recording at %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    cr_assert_geq(size, 64);
    unsigned char *b = malloc((size_t)size);
    cr_assert_eq(fread(b, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    cr_assert_eq(memcmp(b, "FGRECORD", 8), 0);
    cr_assert_eq(get32(b + 8), 1);
    cr_assert_eq(get32(b + 12), 64);
    cr_assert_eq(get32(b + 16), 32);
    memset(out, 0, sizeof *out);
    out->workers = get32(b + 20);
    out->units = get64(b + 24);
    out->lost = get64(b + 32);
    out->wall = get64(b + 40);
    out->flags = get32(b + 48);
    cr_assert_eq(get32(b + 52), 0);
    cr_assert_eq((uint64_t)size, 64 + 32 * out->units);
    cr_assert_eq(get32(b + 60), fg__crc32(0, b, 60));
    cr_assert_eq(get32(b + 56), fg__crc32(0, b + 64, (size_t)size - 64));
    cr_assert_eq(out->flags, out->lost > 0 ? 1u : 0u);
    out->r = calloc(out->units + 1, sizeof *out->r);
    for (uint64_t i = 0; i < out->units; i++) {
        const unsigned char *p = b + 64 + 32 * i;
        rec_t *r = &out->r[i];
        *r = (rec_t){ get32(p), p[4], p[5], get64(p + 8), get64(p + 16), get64(p + 24) };
        cr_assert_eq(get32(p + 4) >> 16, 0, "record %llu: reserved bytes", (unsigned long long)i);
        cr_assert_lt(r->kind, KINDS);
        cr_assert(r->parent == NONE || r->parent < i, "record %llu: parent %u", (unsigned long long)i, r->parent);
        cr_assert_leq(r->spawn_at, r->sync_at);
        if (r->parent != NONE)
            cr_assert_leq(r->sync_at, out->r[r->parent].work, "record %llu", (unsigned long long)i);
        out->kinds[r->kind]++;
        out->t1 += r->work;
    }
    free(b);
}

static void unload(recording *rec) { free(rec->r); }

static char path[256];

static void path_setup(void)
{
    snprintf(path, sizeof path, "/tmp/forage-unit-record-%d.rec", (int)getpid());
    unsetenv("FORAGE_RECORD");
    unsetenv("FORAGE_RECORD_UNITS");
}

static void path_teardown(void) { unlink(path); }

TestSuite(record, .init = path_setup, .fini = path_teardown);

/* -------------------------------------------------------------- fg_join */

static fg_pool *pool;

typedef struct fib_arg {
    int n;
    uint64_t r;
} fib_arg;

static int fib_join(void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        a->r = (uint64_t)a->n;
        return 0;
    }
    fib_arg x = { a->n - 1, 0 }, y = { a->n - 2, 0 };
    int err = fg_join(pool, fib_join, &x, fib_join, &y);
    a->r = x.r + y.r;
    return err;
}

static uint64_t fib(int n) { return n < 2 ? (uint64_t)n : fib(n - 1) + fib(n - 2); }
/* Joins made by fib_join(n): fib(n + 1) - 1, one per internal call. */
static uint64_t joins(int n) { return fib(n + 1) - 1; }

static void record_fib_join(int workers, int n, recording *out)
{
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = workers, .record = path)), 0);
    fib_arg x = { n, 0 }, y = { 0, 0 };
    cr_assert_eq(fg_join(pool, fib_join, &x, fib_join, &y), 0); /* from main: a root */
    fg_pool_destroy(pool);
    cr_assert_eq(x.r, fib(n), "recording changed the result");
    load(path, out);
}

/* One worker, one root, no waits: every tick from the root's start to its
 * end is charged to exactly one unit, whether the clock was read at each
 * boundary or sampled (docs/design/record.md, "The clock": exact in sum).
 * Each unit's ticks become ns rounded down, so T1 may fall short of the
 * wall time by less than 1 ns per unit, never more, and never exceed it. */
static void check_exact_in_sum(const recording *rec)
{
    cr_assert_leq(rec->t1, rec->wall);
    cr_assert_geq(rec->t1 + rec->units, rec->wall, "T1 %llu ns, wall %llu ns, %llu units",
                  (unsigned long long)rec->t1, (unsigned long long)rec->wall,
                  (unsigned long long)rec->units);
}

/* One root; under it fib(n)'s a and fib(0)'s b; two units per join below. */
static void check_fib_join(const recording *rec, int n)
{
    uint64_t j = joins(n);
    cr_assert_eq(rec->units, 3 + 2 * j);
    cr_assert_eq(rec->lost, 0);
    cr_assert_eq(rec->kinds[ROOT], 1);
    cr_assert_eq(rec->kinds[JOIN_A], 1 + j);
    cr_assert_eq(rec->kinds[JOIN_B], 1 + j);
    cr_assert_eq(rec->r[0].parent, NONE);
    cr_assert_eq(rec->r[0].kind, ROOT);
    /* b is spawned, then a called at the same point: every unit has 0 or
     * 2 children, b first (preorder: b's subtree comes between them). */
    uint64_t *kids = calloc(rec->units, sizeof *kids);
    uint64_t *first = calloc(rec->units, sizeof *first);
    for (uint64_t i = 1; i < rec->units; i++) {
        const rec_t *r = &rec->r[i];
        cr_assert_neq(r->parent, NONE, "one root only");
        if (kids[r->parent]++ == 0)
            first[r->parent] = i;
        if (r->kind == JOIN_A) {
            cr_assert_eq(r->flags & CALL, CALL);
            cr_assert_eq(r->spawn_at, r->sync_at, "a call syncs where it starts");
            cr_assert_eq(kids[r->parent], 2, "record %llu: a is the second child", (unsigned long long)i);
            const rec_t *b = &rec->r[first[r->parent]];
            cr_assert_eq(b->kind, JOIN_B, "record %llu", (unsigned long long)i);
            cr_assert_eq(b->spawn_at, r->spawn_at, "b spawned where a is called");
        } else {
            cr_assert_eq(r->kind, JOIN_B);
            cr_assert_eq(r->flags & CALL, 0);
        }
    }
    uint64_t parents = 0;
    for (uint64_t i = 0; i < rec->units; i++) {
        cr_assert(kids[i] == 0 || kids[i] == 2, "unit %llu has %llu children",
                  (unsigned long long)i, (unsigned long long)kids[i]);
        parents += kids[i] == 2;
    }
    cr_assert_eq(parents, 1 + j);
    free(kids);
    free(first);
    cr_assert_gt(rec->t1, 0);
    cr_assert_gt(rec->wall, 0);
}

Test(record, fib_join_one_worker)
{
    recording rec;
    record_fib_join(1, 15, &rec);
    cr_assert_eq(rec.workers, 1);
    check_fib_join(&rec, 15);
    check_exact_in_sum(&rec);
    for (uint64_t i = 0; i < rec.units; i++)
        cr_assert_eq(rec.r[i].flags & STOLEN, 0);
    unload(&rec);
}

Test(record, fib_join_two_workers)
{
    recording rec;
    record_fib_join(2, 18, &rec);
    cr_assert_eq(rec.workers, 2);
    check_fib_join(&rec, 18);
    unload(&rec);
}

/* ---------------------------------------------------------- ctx tasks */

static void fib_ctx(fg_ctx *cx, void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        a->r = (uint64_t)a->n;
        return;
    }
    fib_arg x, y = { a->n - 2, 0 };
    FG_CTX_SPAWN(cx, fib_ctx, ((fib_arg){ a->n - 1, 0 }));
    fib_ctx(cx, &y);
    FG_CTX_SYNC(cx, fib_ctx, x);
    a->r = x.r + y.r;
}

/* One root (the fg_ctx_run from main), one ctx unit per spawn; the n - 2
 * call is a plain call, part of its caller's unit. */
static void check_fib_ctx(const recording *rec, int n)
{
    uint64_t j = joins(n);
    cr_assert_eq(rec->units, 1 + j);
    cr_assert_eq(rec->kinds[ROOT], 1);
    cr_assert_eq(rec->kinds[CTX], j);
    for (uint64_t i = 1; i < rec->units; i++)
        cr_assert_eq(rec->r[i].flags & CALL, 0);
}

static void run_ctx_variant(int workers, int n, int typed)
{
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = workers, .record = path)), 0);
    uint64_t r = 0;
    if (typed) {
        cr_assert_eq(fib_typed_run(pool, n, &r), 0);
    } else {
        fib_arg a = { n, 0 };
        cr_assert_eq(fg_ctx_run(pool, fib_ctx, &a), 0);
        r = a.r;
    }
    fg_pool_destroy(pool);
    cr_assert_eq(r, fib(n), "recording changed the result");
    recording rec;
    load(path, &rec);
    check_fib_ctx(&rec, n);
    if (workers == 1)
        check_exact_in_sum(&rec);
    unload(&rec);
}

Test(record, ctx_tasks) { run_ctx_variant(1, 16, 0); }
Test(record, ctx_tasks_two_workers) { run_ctx_variant(2, 20, 0); }
Test(record, typed_tasks) { run_ctx_variant(1, 16, 1); }
Test(record, typed_tasks_two_workers) { run_ctx_variant(2, 20, 1); }

/* --------------------------------------------------------------- groups */

enum { K = 37 };
static int leaf(void *p)
{
    (void)p;
    return 0;
}

static int spawner(void *p)
{
    (void)p;
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 0; i < K; i++)
        cr_assert_eq(fg_spawn(&g, leaf, NULL), 0);
    return fg_sync(&g);
}

static int nothing(void *p)
{
    (void)p;
    return 0;
}

static void check_group(int workers)
{
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = workers, .record = path)), 0);
    cr_assert_eq(fg_join(pool, spawner, NULL, nothing, NULL), 0);
    fg_pool_destroy(pool);
    recording rec;
    load(path, &rec);
    /* root; b (nothing); a (the spawner); K group tasks under a. */
    cr_assert_eq(rec.units, 3 + K);
    cr_assert_eq(rec.kinds[GROUP], K);
    cr_assert_eq(rec.r[1].kind, JOIN_B);
    cr_assert_eq(rec.r[2].kind, JOIN_A);
    for (uint64_t i = 3; i < rec.units; i++) {
        cr_assert_eq(rec.r[i].kind, GROUP);
        cr_assert_eq(rec.r[i].parent, 2);
        cr_assert_eq(rec.r[i].sync_at, rec.r[3].sync_at, "one sync point for the group");
        if (i > 3)
            cr_assert_geq(rec.r[i].spawn_at, rec.r[i - 1].spawn_at, "spawn order");
    }
    unload(&rec);
}

Test(record, group_one_worker) { check_group(1); }
Test(record, group_two_workers) { check_group(2); }

/* From outside the pool, each group task is a root of its own. */
Test(record, group_from_outside)
{
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 2, .record = path)), 0);
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 0; i < K; i++)
        cr_assert_eq(fg_spawn(&g, leaf, NULL), 0);
    cr_assert_eq(fg_sync(&g), 0);
    fg_pool_destroy(pool);
    recording rec;
    load(path, &rec);
    cr_assert_eq(rec.units, K);
    cr_assert_eq(rec.kinds[GROUP], K);
    for (uint64_t i = 0; i < rec.units; i++)
        cr_assert_eq(rec.r[i].parent, NONE);
    unload(&rec);
}

/* ---------------------------------------------------------- parallel_for */

static int count_body(size_t b, size_t e, void *ctx)
{
    __atomic_fetch_add((uint64_t *)ctx, e - b, __ATOMIC_RELAXED);
    return 0;
}

/* FG_PARTITION_SIMPLE halves while both halves keep >= grain. */
static uint64_t simple_chunks(size_t len, size_t grain)
{
    return len / 2 < grain ? 1 : simple_chunks(len / 2, grain) + simple_chunks(len - len / 2, grain);
}

Test(record, parallel_for_chunks)
{
    size_t n = 10007, grain = 64;
    for (int workers = 1; workers <= 2; workers++) {
        cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = workers, .record = path)), 0);
        uint64_t done = 0;
        cr_assert_eq(fg_parallel_for(pool, 0, n, FG_FOR_OPTS(.grain = grain,
                                     .partition = FG_PARTITION_SIMPLE), count_body, &done), 0);
        fg_pool_destroy(pool);
        cr_assert_eq(done, n);
        recording rec;
        load(path, &rec);
        cr_assert_eq(rec.kinds[CHUNK], simple_chunks(n, grain));
        cr_assert_eq(rec.kinds[ROOT], 1);
        unload(&rec);
    }
}

/* ---------------------------------------------------------------- façade */

static int square(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = i * i;
    return 0;
}

static size_t batches;
static void on_progress(const fg_progress *p, void *ctx)
{
    (void)ctx;
    if (p->finished)
        batches = p->batches_dispatched;
}

Test(record, facade_batches)
{
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 2, .record = path)), 0);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 100,
                                                         .pool = pool,
                                                         .on_progress = on_progress)), 0);
    enum { N = 1000 };
    static uint64_t out[N];
    cr_assert_eq(fg_parallel_map(par, (fg_delayed){ square, NULL, sizeof(uint64_t) }, 0, N,
                                 out, NULL), 0);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(out[i], i * i);
    recording rec;
    load(path, &rec);
    cr_assert_gt(batches, 0);
    cr_assert_eq(rec.kinds[BATCH], batches, "%llu batch units, %zu batches",
                 (unsigned long long)rec.kinds[BATCH], batches);
    unload(&rec);
}

/* -------------------------------------------------------------- overflow */

Test(record, overflow_counted)
{
    setenv("FORAGE_RECORD_UNITS", "100", 1);
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 1, .record = path)), 0);
    unsetenv("FORAGE_RECORD_UNITS");
    fib_arg x = { 15, 0 }, y = { 0, 0 };
    cr_assert_eq(fg_join(pool, fib_join, &x, fib_join, &y), 0);
    fg_pool_destroy(pool);
    cr_assert_eq(x.r, fib(15), "a full recording must not change results");
    recording rec;
    load(path, &rec);
    /* One worker allocates in spawn order, parents first: the first 100
     * units form a closed tree and all are written. */
    cr_assert_eq(rec.units, 100);
    cr_assert_eq(rec.lost, 3 + 2 * joins(15) - 100);
    cr_assert_eq(rec.flags, 1);
    unload(&rec);
}

Test(record, overflow_two_workers_adds_up)
{
    setenv("FORAGE_RECORD_UNITS", "5000", 1);
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 2, .record = path)), 0);
    fib_arg x = { 18, 0 }, y = { 0, 0 };
    cr_assert_eq(fg_join(pool, fib_join, &x, fib_join, &y), 0);
    fg_pool_destroy(pool);
    recording rec;
    load(path, &rec);
    cr_assert_leq(rec.units, 5000);
    cr_assert_eq(rec.units + rec.lost, 3 + 2 * joins(18));
    cr_assert_eq(rec.flags, 1);
    unload(&rec);
}

/* ------------------------------------------------------- switching it on */

Test(record, env_and_empty_field)
{
    setenv("FORAGE_RECORD", path, 1);
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 1, .record = "")), 0);
    fg_pool_destroy(pool);
    cr_assert_eq(access(path, F_OK), -1, "\"\" turns recording off");
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 1)), 0);
    fib_arg x = { 10, 0 }, y = { 0, 0 };
    cr_assert_eq(fg_join(pool, fib_join, &x, fib_join, &y), 0);
    fg_pool_destroy(pool);
    unsetenv("FORAGE_RECORD");
    recording rec;
    load(path, &rec);
    cr_assert_eq(rec.units, 3 + 2 * joins(10));
    unload(&rec);
}

Test(record, bad_paths)
{
    fg_pool *p = NULL;
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1, .record = "/nonexistent-forage-dir/x.rec")),
                 FG_EINVAL);
    cr_assert_null(p);
    cr_assert_not_null(strstr(fg_last_error_detail(), "/nonexistent-forage-dir/x.rec"),
                       "detail: %s", fg_last_error_detail());
    cr_assert_not_null(strstr(fg_last_error_detail(), "cannot open the recording"));
    setenv("FORAGE_RECORD", "/nonexistent-forage-dir/y.rec", 1);
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1)), FG_EENV);
    cr_assert_not_null(strstr(fg_last_error_detail(), "FORAGE_RECORD="));
    setenv("FORAGE_RECORD", path, 1);
    setenv("FORAGE_RECORD_UNITS", "0", 1);
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1)), FG_EENV);
    cr_assert_not_null(strstr(fg_last_error_detail(), "FORAGE_RECORD_UNITS"));
    setenv("FORAGE_RECORD_UNITS", "12x", 1);
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1)), FG_EENV);
    cr_assert_eq(access(path, F_OK), -1, "a failed create leaves no file");
}

/* Numbering: the second recording pool of a process writes path.1.ext. */
Test(record, second_pool_numbered)
{
    char second[300];
    snprintf(second, sizeof second, "/tmp/forage-unit-record-%d.1.rec", (int)getpid());
    fg_pool *a, *b;
    cr_assert_eq(fg_pool_create(&a, FG_CONFIG(.workers = 1, .record = path)), 0);
    cr_assert_eq(fg_pool_create(&b, FG_CONFIG(.workers = 1, .record = path)), 0);
    fg_pool_destroy(b);
    fg_pool_destroy(a);
    recording rec;
    load(second, &rec);
    cr_assert_eq(rec.units, 0);
    unload(&rec);
    unlink(second);
}

/* A program built before the field existed passes a smaller fg_config:
 * the library must not read `record` past its size. */
Test(record, older_config_never_reads_record)
{
    fg_config cfg = FG_CONFIG_INIT(.workers = 1, .record = path);
    cfg.size = offsetof(fg_config, record);
    cr_assert_eq(fg_pool_create(&pool, &cfg), 0);
    fg_pool_destroy(pool);
    cr_assert_eq(access(path, F_OK), -1);
}
