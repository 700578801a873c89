/* calibrate.c: this machine's costs for forage-sim (calibrate.h,
 * docs/design/sim.md, "Costs").
 *
 * Measured: (0) a steal: the runtime's own Chase-Lev deque (deque.h), an
 * owner on PU 0 keeping up to 256 jobs queued, a thief on PU 1 stealing
 * them one by one; ns per successful steal, the least of 21 batches;
 * (1) the one-way transfer of a cache line between the first two
 * PUs (two threads bound with hwloc bounce a counter; half the round trip,
 * the least of 101 batches, so that batches where another process took a
 * PU do not count); (2) a futex wake-up, from the wake call to the sleeper
 * running (the runtime's own fg__futex_*, the median and the 10th
 * percentile of 201); (3) one
 * sched_yield() with nothing else to run.  (0) is the attempt cost at the
 * measured pair's tier; (1) is printed as a cross-check (an attempt reads
 * the victim's top and bottom and CASes top: about three transfers).
 * The other tiers cannot be measured on a machine without them; they are
 * scaled from it by fixed ratios (core 1/2, cache 1, package 2, remote 5
 * times the cache tier), typical of x86 servers, and should be replaced by
 * measurements where such a machine is at hand (--costs). */
#include "calibrate.h"

#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "atomics.h"
#include "base.h"
#include "deque.h"
#include "futex.h"
#include "job.h"
#include "machine.h"

enum { BOUNCES = 1000, BATCHES = 101, WAKES = 201, YIELDS = 100000 };
enum { STEALS = 20000, STEAL_BATCHES = 21, WINDOW = 256 };

typedef struct sim_cal {
    hwloc_topology_t topo;
    hwloc_obj_t pu[2];
    FG__ATOMIC(uint32_t) ball;  /* the bounced line */
    FG__ATOMIC(uint32_t) word;  /* the futex word */
    FG__ATOMIC(uint64_t) woke;  /* when the sleeper ran */
    fg__deque dq;               /* the stolen-from deque */
    FG__ATOMIC(int) stop;       /* the owner stops pushing */
} sim_cal;

static int sim_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The value at `percent` of the sorted v. */
static uint64_t sim_percentile(uint64_t *v, int n, int percent)
{
    qsort(v, (size_t)n, sizeof *v, sim_cmp);
    return v[n * percent / 100];
}

/* The partner: answers odd values with the next even one. */
static void *sim_partner(void *arg)
{
    sim_cal *c = arg;
    hwloc_set_cpubind(c->topo, c->pu[1]->cpuset, HWLOC_CPUBIND_THREAD);
    for (uint32_t want = 1; want < 2u * BOUNCES * BATCHES; want += 2) {
        while (fg__atomic_load(&c->ball, FG__ACQUIRE) != want) /* acquire: the bounce's order */
            ;
        fg__atomic_store(&c->ball, want + 1, FG__RELEASE); /* release: hand the line back */
    }
    return NULL;
}

static uint64_t sim_transfer_ns(sim_cal *c)
{
    pthread_t t;
    uint64_t batch[BATCHES];
    if (pthread_create(&t, NULL, sim_partner, c) != 0)
        return 0;
    hwloc_set_cpubind(c->topo, c->pu[0]->cpuset, HWLOC_CPUBIND_THREAD);
    uint32_t v = 0;
    for (int b = 0; b < BATCHES; b++) {
        uint64_t t0 = fg__clock_ns();
        for (int i = 0; i < BOUNCES; i++) {
            fg__atomic_store(&c->ball, ++v, FG__RELEASE); /* release: serve the partner */
            while (fg__atomic_load(&c->ball, FG__ACQUIRE) != v + 1) /* acquire: its answer */
                ;
            v++;
        }
        batch[b] = (fg__clock_ns() - t0) / (2u * BOUNCES); /* one way */
    }
    pthread_join(t, NULL);
    return sim_percentile(batch, BATCHES, 0);
}

/* The owner: keeps up to WINDOW jobs queued until told to stop, then
 * takes back what is left. */
static void *sim_owner(void *arg)
{
    sim_cal *c = arg;
    static fg__job job;
    hwloc_set_cpubind(c->topo, c->pu[0]->cpuset, HWLOC_CPUBIND_THREAD);
    while (!fg__atomic_load(&c->stop, FG__ACQUIRE)) /* acquire: the thief's stop */
        if (fg__deque_size(&c->dq) >= WINDOW || fg__deque_push(&c->dq, &job) < 0)
            sched_yield();
    while (fg__deque_take(&c->dq) != NULL)
        ;
    return NULL;
}

static uint64_t sim_steal_ns(sim_cal *c)
{
    pthread_t t;
    uint64_t batch[STEAL_BATCHES];
    if (fg__deque_init(&c->dq, 10) != 0)
        return 0;
    fg__atomic_store(&c->stop, 0, FG__RELAXED);
    if (pthread_create(&t, NULL, sim_owner, c) != 0) {
        fg__deque_destroy(&c->dq);
        return 0;
    }
    hwloc_set_cpubind(c->topo, c->pu[1]->cpuset, HWLOC_CPUBIND_THREAD);
    for (int b = 0; b < STEAL_BATCHES; b++) {
        uint64_t t0 = fg__clock_ns();
        for (int got = 0; got < STEALS;) {
            fg__job *job;
            got += fg__deque_steal(&c->dq, &job) == FG__STEAL_SUCCESS;
        }
        batch[b] = (fg__clock_ns() - t0) / STEALS;
    }
    fg__atomic_store(&c->stop, 1, FG__RELEASE); /* release: end the owner's loop */
    pthread_join(t, NULL);
    fg__deque_destroy(&c->dq);
    return sim_percentile(batch, STEAL_BATCHES, 0);
}

static void *sim_sleeper(void *arg)
{
    sim_cal *c = arg;
    hwloc_set_cpubind(c->topo, c->pu[1]->cpuset, HWLOC_CPUBIND_THREAD);
    for (int i = 0; i < WAKES; i++) {
        while (fg__atomic_load(&c->word, FG__ACQUIRE) == 0) /* acquire: the waker's store */
            fg__futex_wait(&c->word, 0);
        fg__atomic_store(&c->woke, fg__clock_ns(), FG__RELAXED);
        fg__atomic_store(&c->word, 0, FG__RELEASE); /* release: ready for the next */
    }
    return NULL;
}

static uint64_t sim_wake_ns(sim_cal *c, uint64_t *p10)
{
    pthread_t t;
    uint64_t lat[WAKES];
    if (pthread_create(&t, NULL, sim_sleeper, c) != 0)
        return 0;
    for (int i = 0; i < WAKES; i++) {
        struct timespec pause = { 0, 2000000 }; /* let it fall asleep */
        nanosleep(&pause, NULL);
        fg__atomic_store(&c->woke, 0, FG__RELAXED);
        uint64_t t0 = fg__clock_ns();
        fg__atomic_store(&c->word, 1, FG__RELEASE); /* release: publish before the wake */
        fg__futex_wake(&c->word, 1);
        while (fg__atomic_load(&c->word, FG__ACQUIRE) != 0) /* acquire: it has run */
            ;
        lat[i] = fg__atomic_load(&c->woke, FG__RELAXED) - t0;
    }
    pthread_join(t, NULL);
    *p10 = sim_percentile(lat, WAKES, 10);
    return sim_percentile(lat, WAKES, 50);
}

static uint64_t sim_yield_ns(void)
{
    uint64_t t0 = fg__clock_ns();
    for (int i = 0; i < YIELDS; i++)
        sched_yield();
    return (fg__clock_ns() - t0) / YIELDS;
}

int sim_calibrate(FILE *out)
{
    static sim_cal c;
    hwloc_topology_init(&c.topo);
    hwloc_topology_load(c.topo);
    int n = hwloc_get_nbobjs_by_type(c.topo, HWLOC_OBJ_PU);
    if (n < 2) {
        fprintf(out, "calibrate: this machine has %d PU; two are needed\n", n);
        hwloc_topology_destroy(c.topo);
        return 1;
    }
    c.pu[0] = hwloc_get_obj_by_type(c.topo, HWLOC_OBJ_PU, 0);
    c.pu[1] = hwloc_get_obj_by_type(c.topo, HWLOC_OBJ_PU, 1);
    sim_machine m;
    char err[256];
    int tier = sim_machine_create(&m, "this", 2, err, sizeof err) == 0 ? sim_machine_tier(&m, 0, 1)
                                                                       : SIM_CACHE;
    sim_machine_free(&m);
    static const char *const names[] = { "core", "cache", "package", "remote" };
    static const double ratio[] = { 0.5, 1, 2, 5 };
    uint64_t steal = sim_steal_ns(&c), transfer = sim_transfer_ns(&c);
    uint64_t p10 = 0, wake = sim_wake_ns(&c, &p10), yield = sim_yield_ns();
    double cache = (double)steal / ratio[tier];
    fprintf(out, "PU 0 and PU 1 share a %s: a steal from the runtime's deque %llu ns (least of "
            "%d batches of %d)\n", names[tier], (unsigned long long)steal, STEAL_BATCHES, STEALS);
    fprintf(out, "PU 0 and PU 1 share a %s: cache-line transfer %llu ns one way (least of %d "
            "batches of %d round trips)\n", names[tier], (unsigned long long)transfer, BATCHES,
            BOUNCES);
    fprintf(out, "futex wake-up to running: %llu ns median, %llu ns 10th percentile (of %d)\n",
            (unsigned long long)wake, (unsigned long long)p10, WAKES);
    fprintf(out, "sched_yield with nothing else to run: %llu ns (mean of %d)\n",
            (unsigned long long)yield, YIELDS);
    fprintf(out, "steal attempt = %llu ns at the %s tier (3 transfers would be %llu ns); other "
            "tiers scaled by 0.5 : 1 : 2 : 5 (core : cache : package : remote)\n",
            (unsigned long long)steal, names[tier], (unsigned long long)(3 * transfer));
    fprintf(out, "--costs core:%.0f,cache:%.0f,package:%.0f,remote:%.0f,injector:%llu,yield:%llu,"
            "wake:%llu\n", cache * ratio[0], cache * ratio[1], cache * ratio[2], cache * ratio[3],
            (unsigned long long)transfer, (unsigned long long)yield, (unsigned long long)wake);
    hwloc_topology_destroy(c.topo);
    return 0;
}
