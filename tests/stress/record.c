/* record.c: recording while every worker spawns, steals and syncs.
 *
 * Each round creates a recording pool of 2..N workers (policy and idle
 * settings drawn from the seed), runs fib through fg_join, fib as typed ctx
 * tasks and a group fan-out whose tasks join, checks every result, destroys
 * the pool and reads the recording back: its CRCs, parents before children,
 * spawn_at <= sync_at <= the parent's work, and the exact unit count of
 * each kind, which stealing must not change.  Under ThreadSanitizer this is
 * the check that thieves' writes to units (work, STOLEN) and owners'
 * (sync_at) never race.
 */
#include "forage.h"

#include "harness.h"
#include "crc32.h"
#include "fib_typed.h"

#define MAX_WORKERS 16
#if STRESS_TSAN
#  define FIB_N 14
#  define FAN 8
#else
#  define FIB_N 20
#  define FAN 32
#endif

enum { ROOT, JOIN_A, JOIN_B, GROUP, CTX, KINDS = 8 };

typedef struct fib_arg {
    fg_pool *pool;
    int n;
    uint64_t r;
} fib_arg;

static uint64_t fib_seq(int n) { return n < 2 ? (uint64_t)n : fib_seq(n - 1) + fib_seq(n - 2); }

static int fib_join(void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        a->r = (uint64_t)a->n;
        return 0;
    }
    fib_arg x = { a->pool, a->n - 1, 0 }, y = { a->pool, a->n - 2, 0 };
    int err = fg_join(a->pool, fib_join, &x, fib_join, &y);
    a->r = x.r + y.r;
    return err;
}

/* FAN group tasks, each one fg_join of two fib(8)s. */
typedef struct fan_item {
    fib_arg x, y;
} fan_item;

typedef struct fan_arg {
    fg_pool *pool;
    fan_item item[FAN];
} fan_arg;

static int fan_task(void *p)
{
    fan_item *it = p;
    return fg_join(it->x.pool, fib_join, &it->x, fib_join, &it->y);
}

static int fan_root(void *p)
{
    fan_arg *f = p;
    fg_group g = FG_GROUP_INIT(f->pool);
    for (int i = 0; i < FAN; i++) {
        f->item[i] = (fan_item){ { f->pool, 8, 0 }, { f->pool, 8, 0 } };
        fg_spawn(&g, fan_task, &f->item[i]);
    }
    return fg_sync(&g);
}

static int nothing(void *p)
{
    (void)p;
    return 0;
}

static uint64_t joins(int n) { return fib_seq(n + 1) - 1; }

static uint32_t get32(const unsigned char *b) { return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24; }
static uint64_t get64(const unsigned char *b) { return get32(b) | (uint64_t)get32(b + 4) << 32; }

/* Read back and check; the counts per kind go to kinds[]. */
static void check_file(const char *path, int workers, uint64_t kinds[KINDS])
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        stress_fail("no recording at %s", path);
        return;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)size + 1);
    size_t got = fread(b, 1, (size_t)size, f);
    fclose(f);
    uint64_t units = size >= 64 ? get64(b + 24) : 0;
    if (got != (size_t)size || size < 64 || memcmp(b, "FGRECORD", 8) != 0 ||
        (uint64_t)size != 64 + 32 * units || get32(b + 20) != (uint32_t)workers ||
        get64(b + 32) != 0 || get32(b + 60) != fg__crc32(0, b, 60) ||
        get32(b + 56) != fg__crc32(0, b + 64, (size_t)size - 64)) {
        stress_fail("workers=%d: bad header or CRC (%ld bytes)", workers, size);
        free(b);
        return;
    }
    for (uint64_t i = 0; i < units; i++) {
        const unsigned char *p = b + 64 + 32 * i;
        uint32_t parent = get32(p);
        uint64_t spawn_at = get64(p + 16), sync_at = get64(p + 24);
        if (p[4] >= KINDS || (parent != UINT32_MAX && parent >= i) || spawn_at > sync_at ||
            (parent != UINT32_MAX && sync_at > get64(b + 64 + 32 * (uint64_t)parent + 8))) {
            stress_fail("workers=%d: record %" PRIu64 " breaks the format", workers, i);
            break;
        }
        kinds[p[4]]++;
    }
    free(b);
}

/* The k-th recording pool of the process writes base.rec, then base.k.rec. */
static void round_once(int workers, stress_rng *rng, const char *base, uint64_t *units)
{
    static unsigned pools;
    char given[160], path[160];
    snprintf(given, sizeof given, "%s.rec", base);
    if (pools == 0)
        snprintf(path, sizeof path, "%s.rec", base);
    else
        snprintf(path, sizeof path, "%s.%u.rec", base, pools);
    pools++;
    fg_config cfg = stress_pool_config(rng, workers);
    cfg.record = given;
    fg_pool *pool;
    int err = fg_pool_create(&pool, &cfg);
    if (err != 0) {
        stress_fail("fg_pool_create(workers=%d): %s", workers, fg_strerror(err));
        return;
    }
    fib_arg x = { pool, FIB_N, 0 }, y = { pool, 0, 0 };
    err = fg_join(pool, fib_join, &x, fib_join, &y);
    uint64_t typed = 0;
    err |= fib_typed_run(pool, FIB_N, &typed);
    static fan_arg fan;
    fan.pool = pool;
    err |= fg_join(pool, fan_root, &fan, nothing, NULL);
    fg_pool_destroy(pool);
    if (err != 0 || x.r != fib_seq(FIB_N) || typed != fib_seq(FIB_N))
        stress_fail("workers=%d: results changed while recording (err %d)", workers, err);
    for (int i = 0; i < FAN; i++)
        if (fan.item[i].x.r != fib_seq(8) || fan.item[i].y.r != fib_seq(8))
            stress_fail("workers=%d: fan task %d: wrong result", workers, i);
    uint64_t kinds[KINDS] = { 0 };
    check_file(path, workers, kinds);
    /* Roots: the join, the typed run, the fan.  join a/b: fib's root pair
     * and two per join; the fan's pair and FAN pairs of fib(8)s. */
    uint64_t want_a = 1 + joins(FIB_N) + 1 + FAN * (1 + 2 * joins(8));
    if (kinds[ROOT] != 3 || kinds[CTX] != joins(FIB_N) || kinds[GROUP] != FAN ||
        kinds[JOIN_A] != want_a || kinds[JOIN_B] != want_a)
        stress_fail("workers=%d: counts root %" PRIu64 " ctx %" PRIu64 " group %" PRIu64
                    " join_a %" PRIu64 " join_b %" PRIu64 ", want 3 %" PRIu64 " %d %" PRIu64
                    " %" PRIu64, workers, kinds[ROOT], kinds[CTX], kinds[GROUP],
                    kinds[JOIN_A], kinds[JOIN_B], joins(FIB_N), FAN, want_a, want_a);
    for (int k = 0; k < KINDS; k++)
        *units += kinds[k];
    unlink(path);
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 4, 2, MAX_WORKERS, 2.0,
                 "largest pool; pools of 2..N workers are swept (default 4)");
    printf("record: workers=2..%d seconds=%g fib=%d fan=%d%s\n", stress_cfg.threads,
           stress_cfg.seconds, FIB_N, FAN, STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start(stress_cfg.seconds * 3 + 180);
    char path[128];
    snprintf(path, sizeof path, "/tmp/forage-stress-record-%d", (int)getpid());
    stress_rng rng = stress_rng_make(stress_cfg.seed, 0);
    uint64_t start = stress_now_ns(), rounds = 0, units = 0;
    do {
        for (int w = 2; w <= stress_cfg.threads && stress_failure_count() == 0; w++, rounds++)
            round_once(w, &rng, path, &units);
    } while (stress_seconds_since(start) < stress_cfg.seconds && stress_failure_count() == 0);
    printf("record: rounds=%" PRIu64 " units=%" PRIu64 "\n", rounds, units);
    stress_total("recorded units", units);
    return stress_finish();
}
