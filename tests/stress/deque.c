/* deque.c: stress a deque directly: the Chase-Lev deque (runtime/deque.h),
 * or, built with STRESS_SPLIT=1 as stress-split-deque, the split deque
 * (runtime/split_deque.h): the same program for both kinds.
 *
 * One owner (the main thread) and K = threads - 1 thieves share one deque;
 * a Chase-Lev deque starts at capacity 2, so it grows all the time; the
 * split deque shares work only when thieves ask, so its request, share,
 * take-back and restart paths run all the time.  Each round
 * uses a fresh deque and ITEMS numbered items (&items[id]); the owner pushes
 * them in random bursts and takes some back, the thieves steal in loops,
 * and at the end the owner drains what is left.  Checked per round:
 *   - every item is returned exactly once (a byte per item, test-and-set:
 *     a second set is a double; an unset byte after the round is a loss);
 *   - the sum of ids and the count taken match;
 *   - the payload the owner wrote into the item before pushing it is intact
 *     in whoever got it (the deque's [deque-publish] must carry it; under
 *     TSan a missing happens-before shows up as a race on it);
 *   - the deque is empty at the end.
 * Random spins and yields (from the seed) perturb both sides.
 */
#include <stdbool.h>

#include "deque.h"
#include "job.h"
#include "split_deque.h"

#include "harness.h"

#define ITEMS (1u << 16)
#define EXPECTED_SUM ((uint64_t)ITEMS * (ITEMS - 1) / 2)

static fg__job items[ITEMS];         /* next: payload (plain data, published by the deque) */
static atomic_uchar taken[ITEMS];    /* 1 once an item was returned */
#if STRESS_SPLIT
static fg__split_deque dq;           /* fresh each round; barrier-separated */
#  define KIND "split"
#  define q_init() fg__split_init(&dq)
#  define q_destroy() fg__split_destroy(&dq)
#  define q_push(job) (fg__split_push(&dq, (job)) < 0 ? -1 : 0)
#  define q_take() fg__split_take(&dq)
#  define q_steal(out) fg__split_steal(&dq, (out))
#  define q_size() fg__split_size(&dq)
#  define q_capacity() ((int64_t)FG__SPLIT_CAPACITY)
#else
static fg__deque dq;                 /* fresh each round; barrier-separated */
#  define KIND "chase-lev"
#  define q_init() fg__deque_init(&dq, 1)
#  define q_destroy() fg__deque_destroy(&dq)
#  define q_push(job) fg__deque_push(&dq, (job))
#  define q_take() fg__deque_take(&dq)
#  define q_steal(out) fg__deque_steal(&dq, (out))
#  define q_size() fg__deque_size(&dq)
#  define q_capacity() fg__deque_capacity(&dq)
#endif
static uint64_t round_no;            /* written by the owner between barriers */
static atomic_int running;           /* 1 while the owner pushes or drains */
static atomic_int stop;              /* no more rounds */
static atomic_ullong thief_sum, thief_count;   /* per round, from thieves */
static atomic_ullong doubled, bad_payload, bad_pointer;
static pthread_barrier_t round_start, round_end;

typedef struct thief {
    pthread_t thread;
    int index;
    stress_rng rng;
    uint64_t steals, aborts, empties; /* read by main after pthread_join */
} thief;

static uint64_t payload_of(uint64_t round, uint64_t id)
{
    return stress_mix64(stress_cfg.seed ^ (round * ITEMS + id));
}

/* Account for one returned item; a violation is reported and counted. */
static void record(fg__job *job, uint64_t round, uint64_t *sum, uint64_t *count,
                   const char *who)
{
    uintptr_t off = (uintptr_t)job - (uintptr_t)items;
    if ((uintptr_t)job < (uintptr_t)items || off >= sizeof items ||
        off % sizeof(fg__job) != 0) {
        atomic_fetch_add(&bad_pointer, 1);
        stress_fail("round %" PRIu64 ": %s got a pointer %p outside the items",
                    round, who, (void *)job);
        return;
    }
    size_t id = off / sizeof(fg__job);
    uint64_t want = payload_of(round, id);
    uint64_t got = (uint64_t)(uintptr_t)job->next;
    if (got != want) {
        atomic_fetch_add(&bad_payload, 1);
        stress_fail("round %" PRIu64 ": %s got item %zu with payload %#" PRIx64
                    ", expected %#" PRIx64, round, who, id, got, want);
    }
    if (atomic_exchange_explicit(&taken[id], 1, memory_order_relaxed) != 0) {
        atomic_fetch_add(&doubled, 1);
        stress_fail("round %" PRIu64 ": item %zu returned twice (second time to %s)",
                    round, id, who);
    }
    *sum += id;
    *count += 1;
}

static void *thief_main(void *arg)
{
    thief *t = arg;
    char who[32];
    snprintf(who, sizeof who, "thief %d", t->index);
    for (;;) {
        pthread_barrier_wait(&round_start);
        if (atomic_load(&stop))
            return NULL;
        uint64_t round = round_no, sum = 0, count = 0;
        while (atomic_load_explicit(&running, memory_order_relaxed)) {
            fg__job *job = NULL;
            switch (q_steal(&job)) {
            case FG__STEAL_SUCCESS:
                t->steals++;
                record(job, round, &sum, &count, who);
                break;
            case FG__STEAL_ABORT:
                t->aborts++;
                break;
            case FG__STEAL_EMPTY:
                t->empties++;
                stress_cpu_relax();
                break;
            }
            stress_perturb(&t->rng);
        }
        atomic_fetch_add(&thief_sum, sum);
        atomic_fetch_add(&thief_count, count);
        pthread_barrier_wait(&round_end);
    }
}

typedef struct owner_totals {
    uint64_t pushes, takes, take_empty, rounds, max_capacity, lost;
} owner_totals;

/* The owner's part of one round: random push/take bursts, then drain. */
static void owner_round(stress_rng *rng, owner_totals *tot, uint64_t *sum, uint64_t *count)
{
    unsigned push_pct = 35 + stress_rng_below(rng, 60); /* this round's mix */
    uint64_t next = 0;
    while (next < ITEMS) {
        if (stress_rng_below(rng, 100) < push_pct) {
            unsigned n = 1 + stress_rng_below(rng, 32);
            for (unsigned k = 0; k < n && next < ITEMS; k++, next++) {
                items[next].execute = NULL;
                items[next].next = (fg__job *)(uintptr_t)payload_of(round_no, next);
                if (q_push(&items[next]) != 0) {
                    stress_fail("round %" PRIu64 ": push failed (out of memory?)", round_no);
                    return;
                }
                tot->pushes++;
                stress_perturb(rng);
            }
        } else {
            unsigned n = 1 + stress_rng_below(rng, 16);
            for (unsigned k = 0; k < n; k++) {
                fg__job *job = q_take();
                if (job == NULL) {
                    tot->take_empty++;
                    break;
                }
                tot->takes++;
                record(job, round_no, sum, count, "owner");
                stress_perturb(rng);
            }
        }
    }
    for (fg__job *job; (job = q_take()) != NULL;) {
        tot->takes++;
        record(job, round_no, sum, count, "owner");
    }
    int64_t cap = q_capacity();
    if ((uint64_t)cap > tot->max_capacity)
        tot->max_capacity = (uint64_t)cap;
}

/* After the end barrier: every item exactly once, sums right, deque empty. */
static void check_round(owner_totals *tot, uint64_t sum, uint64_t count)
{
    sum += atomic_exchange(&thief_sum, 0);
    count += atomic_exchange(&thief_count, 0);
    uint64_t lost = 0;
    for (size_t i = 0; i < ITEMS; i++)
        if (atomic_load_explicit(&taken[i], memory_order_relaxed) == 0) {
            if (lost++ < 5)
                stress_fail("round %" PRIu64 ": item %zu never returned", round_no, i);
        }
    tot->lost += lost;
    if (count != ITEMS || sum != EXPECTED_SUM)
        stress_fail("round %" PRIu64 ": %" PRIu64 " items returned (want %u), id sum %"
                    PRIu64 " (want %" PRIu64 ")", round_no, count, ITEMS, sum, EXPECTED_SUM);
    if (q_size() != 0)
        stress_fail("round %" PRIu64 ": deque size %" PRId64 " after drain", round_no,
                    q_size());
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 4, 1, 1024, 2.0,
                 "owner + thieves (thieves = N - 1; default 4)");
    int nthieves = stress_cfg.threads - 1;
    printf("deque: kind=%s threads=%d (1 owner + %d thieves) seconds=%g items/round=%u%s\n",
           KIND, stress_cfg.threads, nthieves, stress_cfg.seconds, ITEMS,
           STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start(stress_cfg.seconds * 3 + 120);

    pthread_barrier_init(&round_start, NULL, (unsigned)stress_cfg.threads);
    pthread_barrier_init(&round_end, NULL, (unsigned)stress_cfg.threads);
    thief *thieves = calloc((size_t)(nthieves > 0 ? nthieves : 1), sizeof *thieves);
    if (thieves == NULL)
        return 2;
    for (int i = 0; i < nthieves; i++) {
        thieves[i].index = i;
        thieves[i].rng = stress_rng_make(stress_cfg.seed, (uint64_t)i + 1);
        if (pthread_create(&thieves[i].thread, NULL, thief_main, &thieves[i]) != 0) {
            fprintf(stderr, "deque: pthread_create failed\n");
            return 2;
        }
    }

    stress_rng rng = stress_rng_make(stress_cfg.seed, 0);
    owner_totals tot = { 0 };
    uint64_t start = stress_now_ns();
    for (;;) {
        if (tot.rounds > 0 && stress_seconds_since(start) >= stress_cfg.seconds)
            break;
        if (q_init() != 0) {
            stress_fail("deque init failed");
            break;
        }
        for (size_t i = 0; i < ITEMS; i++)
            atomic_store_explicit(&taken[i], 0, memory_order_relaxed);
        round_no = tot.rounds;
        atomic_store(&running, 1);
        pthread_barrier_wait(&round_start);
        uint64_t sum = 0, count = 0;
        owner_round(&rng, &tot, &sum, &count);
        atomic_store(&running, 0);
        pthread_barrier_wait(&round_end);
        check_round(&tot, sum, count);
        q_destroy();
        tot.rounds++;
        if (stress_failure_count() > 0)
            break;
    }
    double elapsed = stress_seconds_since(start);
    atomic_store(&stop, 1);
    pthread_barrier_wait(&round_start);

    uint64_t steals = 0, aborts = 0, empties = 0;
    for (int i = 0; i < nthieves; i++) {
        pthread_join(thieves[i].thread, NULL);
        steals += thieves[i].steals;
        aborts += thieves[i].aborts;
        empties += thieves[i].empties;
    }
    free(thieves);
    uint64_t total = tot.rounds * ITEMS;
    printf("deque: rounds=%" PRIu64 " items=%" PRIu64 " items/s=%.0f owner_takes=%" PRIu64
           " take_empty=%" PRIu64 " steals=%" PRIu64 " aborts=%" PRIu64 " empties=%" PRIu64
           " max_capacity=%" PRIu64 "\n",
           tot.rounds, total, (double)total / elapsed, tot.takes, tot.take_empty, steals,
           aborts, empties, tot.max_capacity);
    printf("deque: lost=%" PRIu64 " doubled=%llu bad_payload=%llu bad_pointer=%llu\n",
           tot.lost, atomic_load(&doubled), atomic_load(&bad_payload),
           atomic_load(&bad_pointer));
    if (tot.pushes != total && stress_failure_count() == 0)
        stress_fail("pushed %" PRIu64 " items, expected %" PRIu64, tot.pushes, total);
    pthread_barrier_destroy(&round_start);
    pthread_barrier_destroy(&round_end);
    stress_total("items", total);
    return stress_finish();
}
