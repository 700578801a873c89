/* policy.c: a user victim policy in 15 lines (docs/policies.md), run on
 * fib against the built-in ones.
 *
 *   forage-policy-example [--n N] [--workers P] [--k K]
 *
 * busiest_of_k probes K random victims and steals from the one with the
 * most queued jobs (power-of-two-choices generalised).  The program checks
 * every result and prints the time per policy.
 *
 * Built with -DFG_POLICY_LIB it is instead a loadable policy for forage-sim
 * (libforage-policy-busiest.so, symbol busiest_of_3: --policy-lib). */
#include <forage.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the policy: this block is quoted in docs/policies.md ---- */
typedef struct busiest_ctx { int k; } busiest_ctx;

static int busiest_of_k(void *ctx, fg_victim_args *a)
{
    int k = ((const busiest_ctx *)ctx)->k, best = -1, best_len = -1;
    uint64_t r = a->random;
    for (int i = 0; i < k; i++) {
        int v = (int)((r >> 33) % (uint64_t)(a->workers - 1)); /* never the thief: */
        v += v >= a->thief;                                    /* skip over it */
        int len = fg_pool_queue_length(a->pool, v);
        if (len > best_len) {
            best = v;
            best_len = len;
        }
        r = r * 6364136223846793005u + 1442695040888963407u; /* next draw */
    }
    return best;
}
/* ---- end of the quoted block ---- */

#ifdef FG_POLICY_LIB
/* forage-sim --policy-lib .../libforage-policy-busiest.so:busiest_of_3 runs
 * this same function on simulated deques; its ctx there is NULL. */
__attribute__((visibility("default"))) int busiest_of_3(void *ctx, fg_victim_args *a);
int busiest_of_3(void *ctx, fg_victim_args *a)
{
    (void)ctx;
    busiest_ctx k3 = { 3 };
    return busiest_of_k(&k3, a);
}
#else

typedef struct fib_arg { fg_pool *pool; int n; long result; } fib_arg;

static int fib(void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        a->result = a->n;
        return 0;
    }
    fib_arg x = { a->pool, a->n - 1, 0 }, y = { a->pool, a->n - 2, 0 };
    int err = fg_join(a->pool, fib, &x, fib, &y);
    a->result = x.result + y.result;
    return err;
}

static long fib_plain(int n) { return n < 2 ? n : fib_plain(n - 1) + fib_plain(n - 2); }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Median of 5 runs of fib(n) on a pool made from cfg; -1 on a wrong result. */
static double run(const fg_config *cfg, int n, long want)
{
    fg_pool *pool;
    int err = fg_pool_create(&pool, cfg);
    if (err < 0) {
        fprintf(stderr, "policy: fg_pool_create: %s\n", fg_strerror(err));
        return -1;
    }
    double t[5];
    for (int i = 0; i < 5; i++) {
        fib_arg a = { pool, n, 0 };
        double t0 = now();
        err = fib(&a);
        t[i] = now() - t0;
        if (err != 0 || a.result != want) {
            fprintf(stderr, "policy: fib(%d) = %ld (err %d), want %ld\n", n, a.result, err, want);
            fg_pool_destroy(pool);
            return -1;
        }
    }
    fg_pool_destroy(pool);
    for (int i = 1; i < 5; i++) /* insertion sort, then the middle one */
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return t[2];
}

int main(int argc, char **argv)
{
    int n = 27, workers = 2, k = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (strcmp(argv[i], "--n") == 0 && v >= 2 && v <= 45)
            n = v;
        else if (strcmp(argv[i], "--workers") == 0 && v >= 1 && v <= FG_MAX_WORKERS)
            workers = v;
        else if (strcmp(argv[i], "--k") == 0 && v >= 1 && v <= 64)
            k = v;
        else {
            fprintf(stderr, "usage: %s [--n 2..45] [--workers P] [--k 1..64]\n", argv[0]);
            return 2;
        }
    }
    long want = fib_plain(n);
    busiest_ctx ctx = { k };
    struct { const char *name; fg_config cfg; } runs[] = {
        { "random", FG_CONFIG_INIT(.workers = workers, .victim = FG_VICTIM_RANDOM) },
        { "power-of-two", FG_CONFIG_INIT(.workers = workers, .victim = FG_VICTIM_POWER_OF_TWO) },
        { "busiest-of-k (user)", FG_CONFIG_INIT(.workers = workers, .victim_fn = busiest_of_k,
                                                .victim_ctx = &ctx) },
    };
    printf("fib(%d) = %ld on %d workers, median of 5 runs\n", n, want, workers);
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        double s = run(&runs[i].cfg, n, want);
        if (s < 0)
            return 1;
        printf("  %-22s %.4f s\n", runs[i].name, s);
    }
    return 0;
}
#endif
