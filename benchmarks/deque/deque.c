/* deque.c: microbenchmarks of forage's Chase-Lev deque (runtime/deque.h),
 * driven directly through the internal fg__deque_* calls (the program
 * links the static library and sees the runtime headers, as the deque
 * stress test does).  No peer: oneTBB and OpenMP keep their deques private.
 *
 *   deque-pushpop  --n pairs of fg__deque_push + fg__deque_take on one
 *                  thread: the owner's fast path, whose seq_cst fence in
 *                  take ([deque-take]) is the price of every unstolen join.
 *                  Twin "seq": the same pairs on a plain array stack.
 *   deque-steal    --n / 4 jobs pushed by an owner thread that keeps at
 *                  most WINDOW queued, stolen one by one by a thief
 *                  thread: steal throughput with the cache line of `top`
 *                  and the slots moving between two cores (threads = 2).
 *                  Twin "seq": the owner alone pushes and takes them back.
 *
 * Checksum: the sum of (id + 1) over every job returned; a job lost or
 * returned twice changes it.  usage: deque [--reps 5] [--n 10000000]
 * [--no-header]; --threads is accepted and ignored (the thread counts are
 * fixed by what is measured). */
#include <pthread.h>
#include <stdatomic.h>

#include "deque.h"
#include "job.h"

#include "../common/bench.h"

#define ITEMS 4096 /* job ids cycle through these; > WINDOW, a power of 2 */
#define WINDOW 256 /* most jobs the owner leaves queued for the thief */

static fg__job items[ITEMS];

static uint64_t id_of(const fg__job *job)
{
    return (uint64_t)(job - items);
}

/* The expected checksum of n jobs numbered i % ITEMS. */
static uint64_t expected_sum(uint64_t n)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += i % ITEMS + 1;
    return s;
}

static double pushpop_forage(fg__deque *dq, uint64_t n, uint64_t *sum)
{
    uint64_t s = 0;
    double t0 = bench_now();
    for (uint64_t i = 0; i < n; i++) {
        if (fg__deque_push(dq, &items[i % ITEMS]) != 0)
            return -1;
        fg__job *job = fg__deque_take(dq);
        if (job == NULL)
            return -1;
        s += id_of(job) + 1;
    }
    double t = bench_now() - t0;
    *sum = s;
    return t;
}

/* The twin: a plain stack; the empty asm keeps each push and pop a real
 * store and load instead of letting the compiler fold the pair away. */
static double pushpop_seq(uint64_t n, uint64_t *sum)
{
    static fg__job *stack[16];
    size_t top = 0;
    uint64_t s = 0;
    double t0 = bench_now();
    for (uint64_t i = 0; i < n; i++) {
        stack[top++] = &items[i % ITEMS];
        __asm__ volatile("" ::: "memory");
        s += id_of(stack[--top]) + 1;
    }
    double t = bench_now() - t0;
    *sum = s;
    return t;
}

typedef struct steal_run {
    fg__deque dq;
    uint64_t n;
    atomic_int go;          /* the owner's start signal */
    atomic_ullong stolen;   /* jobs the thief took so far */
    uint64_t sum;           /* the thief's checksum, read after join */
} steal_run;

static void *thief_main(void *arg)
{
    steal_run *r = arg;
    uint64_t taken = 0, s = 0;
    while (!atomic_load_explicit(&r->go, memory_order_acquire))
        fg__cpu_relax();
    while (taken < r->n) {
        fg__job *job;
        if (fg__deque_steal(&r->dq, &job) != FG__STEAL_SUCCESS) {
            fg__cpu_relax();
            continue;
        }
        s += id_of(job) + 1;
        taken++;
        /* Relaxed: only tells the owner how full the deque may be. */
        atomic_store_explicit(&r->stolen, taken, memory_order_relaxed);
    }
    r->sum = s;
    return NULL;
}

/* The owner pushes n jobs, never more than WINDOW ahead of the thief. */
static double steal_forage(uint64_t n, uint64_t *sum)
{
    static steal_run r;
    pthread_t thief;
    r.n = n;
    atomic_store(&r.go, 0);
    atomic_store(&r.stolen, 0);
    if (fg__deque_init(&r.dq, 10) != 0 || pthread_create(&thief, NULL, thief_main, &r) != 0)
        return -1;
    double t0 = bench_now();
    atomic_store_explicit(&r.go, 1, memory_order_release);
    for (uint64_t i = 0; i < n; i++) {
        while (i - atomic_load_explicit(&r.stolen, memory_order_relaxed) >= WINDOW)
            fg__cpu_relax();
        if (fg__deque_push(&r.dq, &items[i % ITEMS]) != 0)
            return -1;
    }
    pthread_join(thief, NULL);
    double t = bench_now() - t0;
    fg__deque_destroy(&r.dq);
    *sum = r.sum;
    return t;
}

/* The twin: the same jobs through the same deque, WINDOW pushes then
 * WINDOW takes, on one thread. */
static double steal_seq(uint64_t n, uint64_t *sum)
{
    fg__deque dq;
    if (fg__deque_init(&dq, 10) != 0)
        return -1;
    uint64_t s = 0;
    double t0 = bench_now();
    for (uint64_t i = 0; i < n; i += WINDOW) {
        uint64_t end = i + WINDOW < n ? i + WINDOW : n;
        for (uint64_t j = i; j < end; j++)
            if (fg__deque_push(&dq, &items[j % ITEMS]) != 0)
                return -1;
        for (fg__job *job; (job = fg__deque_take(&dq)) != NULL;)
            s += id_of(job) + 1;
    }
    double t = bench_now() - t0;
    fg__deque_destroy(&dq);
    *sum = s;
    return t;
}

/* One rep of both workloads; 0, or 1 on a checksum mismatch. */
static int one_rep(const bench_opts *o, int rep, fg__deque *dq, double t[4])
{
    uint64_t n = (uint64_t)o->param, ns = n / 4, want = expected_sum(n), wants = expected_sum(ns);
    uint64_t sums[4] = { 0, 0, 0, 0 };
    t[0] = pushpop_seq(n, &sums[0]);
    t[1] = pushpop_forage(dq, n, &sums[1]);
    t[2] = steal_seq(ns, &sums[2]);
    t[3] = steal_forage(ns, &sums[3]);
    static const char *const names[4] = { "seq", "forage", "seq", "forage" };
    for (int k = 0; k < 4; k++) {
        int steal = k >= 2;
        if (t[k] < 0 || sums[k] != (steal ? wants : want)) {
            fprintf(stderr, "deque-%s %s: checksum %" PRIu64 " != %" PRIu64 "\n",
                    steal ? "steal" : "pushpop", names[k], sums[k], steal ? wants : want);
            return 1;
        }
        if (rep >= 0)
            bench_row(names[k], steal ? "deque-steal" : "deque-pushpop", (long)(steal ? ns : n),
                      0, k == 3 ? 2 : 1, rep, t[k], sums[k]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 10000000);
    if (rc != 0)
        return rc;
    if (o.param < 4) {
        fprintf(stderr, "deque: --n must be at least 4\n");
        return 2;
    }
    fg__deque dq;
    if (fg__deque_init(&dq, 4) != 0)
        return 1;
    bench_header(&o);
    static double t[4][BENCH_MAX_REPS];
    for (int rep = -1; rep < o.reps; rep++) { /* rep -1: warm-up */
        double one[4];
        if (one_rep(&o, rep, &dq, one) != 0)
            return 1;
        for (int k = 0; rep >= 0 && k < 4; k++)
            t[k][rep] = one[k];
    }
    fg__deque_destroy(&dq);
    double n = (double)o.param;
    fprintf(stderr, "deque: medians of %d reps\n", o.reps);
    fprintf(stderr, "  pushpop: seq %.2f ns/pair, forage %.2f ns/pair\n",
            bench_median(t[0], o.reps) / n * 1e9, bench_median(t[1], o.reps) / n * 1e9);
    fprintf(stderr, "  steal:   seq %.2f ns/job (owner alone), forage %.2f ns/job stolen\n",
            bench_median(t[2], o.reps) / (n / 4) * 1e9, bench_median(t[3], o.reps) / (n / 4) * 1e9);
    return 0;
}
