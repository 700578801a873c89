/* engine.c: the discrete-event simulator (engine.h, docs/design/sim.md).
 *
 * Time is virtual (ns).  Each worker has at most one pending event in a
 * binary heap ordered by (time, worker), so equal inputs replay equally.
 * A worker is in one of these states:
 *   RUN     executing its top frame's own work up to the next point: a
 *           spawn (push on its deque, wake a sleeper), a call (a new frame),
 *           a sync (go on, or SEEK if the child is not done), or the end;
 *   SEEK    finding work as forage's worker.c does: own deque newest first,
 *           then rounds of `workers - 1` policy choices (when waiting on a
 *           stolen child, the child's runner first: leapfrogging), each
 *           round ending with a look at the injector; once spin_rounds
 *           failed rounds and spin_ns have passed (sleep.c's ladder: the
 *           rounds past spin_rounds also cost `yield`), then
 *           yield_rounds - 1 rounds that also cost `yield`, then
 *           PARK.  A waiting worker leaves as soon as its child is done;
 *   STEAL   an attempt on one victim, resolved when its cost has elapsed:
 *           the victim's oldest unit, and with steal-half up to half of the
 *           rest onto the thief's deque (each extra costing an attempt);
 *   INJECT  a look at the injector, which holds the next root;
 *   PARKED  no event: woken by the next push (idle or waiting, as
 *           sleep.c does), a waiting one also when its child completes,
 *           `wake` ns later (WAKING).
 * The policy is the runtime's own function, called with the thief's
 * persistent fg_victim_args; its `pool` is a simulated pool whose
 * fg_pool_queue_length answers from these deques (runtime/simulated.h).
 * State per unit: done (1 byte) and the worker that ran it (2 bytes). */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "simulated.h"

#define SIM_INF UINT64_MAX
#define SIM_NOBODY 0xFFFF

enum { W_RUN, W_SEEK, W_STEAL, W_INJECT, W_PARKED, W_WAKING };
enum { NEXT_RUN, NEXT_SEEK, WAIT }; /* what a step leaves to do now */

typedef struct sim_frame {
    uint32_t unit, kid, sync; /* next child to spawn / to sync */
    uint64_t pos;             /* own work done */
} sim_frame;

typedef struct sim_deque {
    uint32_t *buf;
    uint32_t head, tail, mask; /* thieves take at head, the owner at tail */
} sim_deque;

typedef struct sim_worker {
    sim_frame *stack;
    uint32_t depth, cap;
    sim_deque dq;               /* group tasks, and everything under --share always */
    sim_deque cx;               /* the ctx stack: [head, split) shared, [split, tail) private */
    uint32_t split;
    uint8_t splitreq, wake_next; /* ctx_stack.c's request flag and first-spawn share */
    int state, attempt, victim; /* attempt: -1 at a round's start */
    unsigned rounds;            /* failed rounds since work was last found */
    unsigned spun_at;           /* the round the spin step ended at, 0 while spinning */
    uint64_t spin_from;         /* the end of the first failed round */
    uint64_t rng;
    fg_victim_args args;
} sim_worker;

typedef struct sim_engine {
    const sim_graph *g;
    const sim_machine *m;
    const sim_options *o;
    sim_result *r;
    int P;
    uint64_t now;
    sim_worker *w;
    uint8_t *done;
    uint16_t *runner;
    uint64_t *heap_t; /* the heap: (time, worker) */
    int *heap_w, heap_n;
    int *sleepers, nsleepers;
    uint32_t injector, roots_done;
    int finished;
    fg_pool *pool;
} sim_engine;

/* ------------------------------------------------------------------ heap */

static int sim_before(const sim_engine *e, int a, int b)
{
    return e->heap_t[a] < e->heap_t[b] || (e->heap_t[a] == e->heap_t[b] && e->heap_w[a] < e->heap_w[b]);
}

static void sim_swap(sim_engine *e, int a, int b)
{
    uint64_t t = e->heap_t[a];
    int w = e->heap_w[a];
    e->heap_t[a] = e->heap_t[b];
    e->heap_w[a] = e->heap_w[b];
    e->heap_t[b] = t;
    e->heap_w[b] = w;
}

static void sim_schedule(sim_engine *e, int w, uint64_t at)
{
    int i = e->heap_n++;
    e->heap_t[i] = at;
    e->heap_w[i] = w;
    while (i > 0 && sim_before(e, i, (i - 1) / 2)) {
        sim_swap(e, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static int sim_pop(sim_engine *e)
{
    int w = e->heap_w[0];
    e->now = e->heap_t[0];
    e->heap_n--;
    e->heap_t[0] = e->heap_t[e->heap_n];
    e->heap_w[0] = e->heap_w[e->heap_n];
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < e->heap_n && sim_before(e, l, m))
            m = l;
        if (r < e->heap_n && sim_before(e, r, m))
            m = r;
        if (m == i)
            break;
        sim_swap(e, i, m);
        i = m;
    }
    return w;
}

/* ----------------------------------------------------------------- deques */

static uint32_t sim_size(const sim_deque *d) { return d->tail - d->head; }

static int sim_push(sim_deque *d, uint32_t unit)
{
    if (sim_size(d) == d->mask + 1 || d->buf == NULL) {
        uint32_t cap = d->buf == NULL ? 16 : 2 * (d->mask + 1), n = sim_size(d);
        uint32_t *buf = malloc(sizeof *buf * cap);
        if (buf == NULL)
            return SIM_ENOMEM;
        for (uint32_t i = 0; i < n; i++)
            buf[i] = d->buf[(d->head + i) & d->mask];
        free(d->buf);
        *d = (sim_deque){ buf, 0, n, cap - 1 };
    }
    d->buf[d->tail++ & d->mask] = unit;
    return 0;
}

/* The ctx stack's shared and private parts. */
static uint32_t sim_shared(const sim_worker *w) { return w->split - w->cx.head; }
static uint32_t sim_private(const sim_worker *w) { return w->cx.tail - w->split; }

static int sim_push_cx(sim_worker *w, uint32_t unit)
{
    uint32_t shared = sim_shared(w);
    int rc = sim_push(&w->cx, unit); /* may move head to 0 */
    w->split = w->cx.head + shared;
    return rc;
}

/* Owner: take `unit` off its ctx stack to run it at its sync (the top, for
 * LIFO syncs; anywhere, for recorded sync orders that are not); false if
 * it is not there (stolen). */
static int sim_take_back(sim_worker *w, uint32_t unit)
{
    sim_deque *d = &w->cx;
    for (uint32_t i = d->tail; i-- != d->head;) {
        if (d->buf[i & d->mask] != unit)
            continue;
        for (uint32_t j = i; j + 1 != d->tail; j++)
            d->buf[j & d->mask] = d->buf[(j + 1) & d->mask];
        d->tail--;
        if (i - d->head < w->split - d->head) /* it was shared */
            w->split--;
        return 1;
    }
    return 0;
}

/* What a thief can take from worker v now: its deque and shared ctx tasks. */
static uint32_t sim_visible(const sim_worker *v) { return sim_size(&v->dq) + sim_shared(v); }

static int sim_queue_length(void *ctx, int worker)
{
    const sim_engine *e = ctx;
    return (int)sim_visible(&e->w[worker]);
}

/* ----------------------------------------------------------------- frames */

static int sim_enter(sim_engine *e, int wi, uint32_t unit)
{
    sim_worker *w = &e->w[wi];
    if (w->depth == w->cap) {
        uint32_t cap = w->cap ? 2 * w->cap : 16;
        sim_frame *s = realloc(w->stack, sizeof *s * cap);
        if (s == NULL)
            return SIM_ENOMEM;
        w->stack = s;
        w->cap = cap;
    }
    w->stack[w->depth++] = (sim_frame){ unit, 0, 0, 0 };
    e->runner[unit] = (uint16_t)wi;
    e->r->worker[wi].tasks++;
    w->state = W_RUN;
    return 0;
}

/* The child worker wi's top frame waits for, or SIM_NONE. */
static uint32_t sim_awaited(const sim_engine *e, int wi)
{
    const sim_worker *w = &e->w[wi];
    if (w->depth == 0)
        return SIM_NONE;
    const sim_frame *f = &w->stack[w->depth - 1];
    const sim_unit *u = &e->g->units[f->unit];
    return f->sync < u->nkids ? e->g->syncs[u->first + f->sync] : SIM_NONE;
}

static void sim_wake(sim_engine *e, int wi)
{
    e->w[wi].state = W_WAKING;
    e->r->wakes++;
    sim_schedule(e, wi, e->now + e->o->costs.wake);
}

/* A parked waiter woken by its child leaves the sleepers' list (which so
 * holds each parked worker once and never outgrows P).  O(P), once per
 * such wake-up. */
static void sim_unlist_sleeper(sim_engine *e, int wi)
{
    for (int i = e->nsleepers; i-- > 0;) {
        if (e->sleepers[i] == wi) {
            memmove(&e->sleepers[i], &e->sleepers[i + 1],
                    sizeof *e->sleepers * (size_t)(e->nsleepers - i - 1));
            e->nsleepers--;
            return;
        }
    }
}

/* Work became visible: wake the latest sleeper, as a push notifies
 * (sleep.c wakes any parked worker, idle or waiting at a sync). */
static void sim_notify(sim_engine *e)
{
    if (e->nsleepers > 0)
        sim_wake(e, e->sleepers[--e->nsleepers]);
}

/* Does this spawned unit go on the ctx stack (fg_join's b, ctx tasks,
 * chunks, batches) rather than the deque (group tasks)? */
static int sim_on_ctx(const sim_engine *e, uint32_t unit)
{
    return e->o->share == SIM_SHARE_REQUEST && e->g->units[unit].kind != SIM_KIND_GROUP;
}

/* ctx_stack.c's share: the older half of the private part (at least one)
 * goes public, the request is answered and a sleeper is woken.  With
 * nothing private the request stays for the next spawn. */
static void sim_share(sim_engine *e, sim_worker *w)
{
    uint32_t priv = sim_private(w);
    if (priv == 0)
        return;
    w->split += (priv + 1) / 2;
    w->wake_next = 0;
    w->splitreq = 0;
    sim_notify(e);
}

static void sim_complete(sim_engine *e, int wi, uint32_t unit)
{
    e->done[unit] = 1;
    uint32_t parent = e->g->units[unit].parent;
    if (parent == SIM_NONE) {
        if (++e->roots_done == e->g->nroots) {
            e->finished = 1;
            e->r->makespan = e->now;
        } else {
            e->injector = e->g->roots[e->roots_done];
            sim_notify(e);
        }
        return;
    }
    int r = e->runner[parent];
    if (r != wi && e->w[r].state == W_PARKED && sim_awaited(e, r) == unit) {
        sim_unlist_sleeper(e, r);
        sim_wake(e, r);
    }
}

/* RUN: handle every point at the top frame's position; schedule the next. */
static int sim_run_step(sim_engine *e, int wi)
{
    sim_worker *w = &e->w[wi];
    const sim_graph *g = e->g;
    while (w->depth > 0) {
        sim_frame *f = &w->stack[w->depth - 1];
        const sim_unit *u = &g->units[f->unit];
        uint64_t spawn = f->kid < u->nkids ? g->units[g->kids[u->first + f->kid]].spawn_at : SIM_INF;
        uint64_t sync = f->sync < u->nkids ? g->units[g->syncs[u->first + f->sync]].sync_at : SIM_INF;
        uint64_t point = spawn <= sync ? spawn : sync;
        if (point > u->work)
            point = u->work;
        if (point > f->pos) {
            e->r->worker[wi].busy_ns += point - f->pos;
            sim_schedule(e, wi, e->now + (point - f->pos));
            f->pos = point;
            return WAIT;
        }
        if (spawn == point && spawn <= sync) {
            uint32_t c = g->kids[u->first + f->kid++];
            if (g->units[c].flags & SIM_FLAG_CALL) {
                if (sim_enter(e, wi, c) < 0)
                    return SIM_ENOMEM;
            } else if (sim_on_ctx(e, c)) { /* private unless asked or first */
                if (sim_push_cx(w, c) < 0)
                    return SIM_ENOMEM;
                if (w->wake_next || w->splitreq)
                    sim_share(e, w);
            } else {
                if (sim_push(&w->dq, c) < 0)
                    return SIM_ENOMEM;
                sim_notify(e);
            }
        } else if (sync == point) {
            uint32_t c = g->syncs[u->first + f->sync];
            int spawned = !(g->units[c].flags & SIM_FLAG_CALL);
            if (spawned && !e->done[c]) {
                if (sim_on_ctx(e, c) && e->runner[c] == SIM_NOBODY && sim_take_back(w, c)) {
                    if (sim_enter(e, wi, c) < 0) /* run it here, then sync it */
                        return SIM_ENOMEM;
                    continue;
                }
                break; /* wait: find work meanwhile */
            }
            if (spawned && sim_on_ctx(e, c) && e->runner[c] != wi)
                w->wake_next = 1; /* a stolen slot synced: share the next spawn */
            f->sync++;
        } else {
            uint32_t unit = f->unit;
            w->depth--;
            sim_complete(e, wi, unit);
            if (e->finished)
                return WAIT;
        }
    }
    w->state = W_SEEK;
    w->attempt = -1;
    w->rounds = 0;
    return NEXT_SEEK;
}

static int sim_begin_steal(sim_engine *e, int wi, int victim)
{
    sim_worker *w = &e->w[wi];
    w->state = W_STEAL;
    w->victim = victim;
    e->r->worker[wi].attempts++;
    sim_schedule(e, wi, e->now + e->o->costs.steal[sim_machine_tier(e->m, wi, victim)]);
    return WAIT;
}

/* The policy's next choice, or -1 for a bad one (counted, skipped). */
static int sim_choose(sim_engine *e, int wi, int attempt)
{
    sim_worker *w = &e->w[wi];
    w->args.random = fg__rng_next(&w->rng);
    w->args.attempt = attempt;
    int v = e->o->victim_fn(e->o->victim_ctx, &w->args);
    if (v < 0 || v >= e->P || v == wi) {
        e->r->worker[wi].bad_choices++;
        return -1;
    }
    return v;
}

/* SEEK: own deque, leapfrog, the round's choices, the injector. */
static int sim_seek_step(sim_engine *e, int wi)
{
    sim_worker *w = &e->w[wi];
    for (;;) {
        uint32_t awaited = sim_awaited(e, wi);
        if (awaited != SIM_NONE && e->done[awaited]) {
            w->state = W_RUN;
            return NEXT_RUN;
        }
        if (w->attempt == -1) {
            w->attempt = 0;
            if (w->splitreq) /* find_work answers a request first */
                sim_share(e, w);
            if (sim_size(&w->dq) > 0) /* newest first */
                return sim_enter(e, wi, w->dq.buf[--w->dq.tail & w->dq.mask]) < 0 ? SIM_ENOMEM
                                                                                  : NEXT_RUN;
            int r = awaited != SIM_NONE ? e->runner[awaited] : SIM_NOBODY;
            if (r != SIM_NOBODY && r != wi)
                return sim_begin_steal(e, wi, r);
        }
        if (w->attempt < e->P - 1) {
            int v = sim_choose(e, wi, w->attempt++);
            if (v >= 0)
                return sim_begin_steal(e, wi, v);
            continue;
        }
        w->state = W_INJECT;
        sim_schedule(e, wi, e->now + e->o->costs.injector);
        return WAIT;
    }
}

/* A thief's take from v: its deque first, then its shared ctx tasks. */
static uint32_t sim_take_oldest(sim_worker *v)
{
    if (sim_size(&v->dq) > 0)
        return v->dq.buf[v->dq.head++ & v->dq.mask];
    return v->cx.buf[v->cx.head++ & v->cx.mask];
}

/* STEAL resolved: the victim's oldest unit (and with steal-half more). */
static int sim_steal_step(sim_engine *e, int wi)
{
    sim_worker *w = &e->w[wi], *v = &e->w[w->victim];
    sim_worker_stats *st = &e->r->worker[wi];
    int tier = sim_machine_tier(e->m, wi, w->victim);
    if (sim_visible(v) == 0) {
        if (w->args.last_victim == w->victim)
            w->args.last_victim = -1;
        if (e->o->share == SIM_SHARE_REQUEST)
            v->splitreq = 1; /* ask the owner to share */
        w->state = W_SEEK;
        return NEXT_SEEK;
    }
    uint32_t unit = sim_take_oldest(v);
    st->steals++;
    st->remote_steals += tier == SIM_REMOTE;
    e->r->steals_by_tier[tier]++;
    w->args.last_victim = w->victim;
    uint64_t extra = 0;
    if (e->o->steal == FG_STEAL_HALF) {
        for (uint32_t more = sim_visible(v) / 2; more > 0; more--) {
            st->attempts++;
            st->steals++;
            st->remote_steals += tier == SIM_REMOTE;
            e->r->steals_by_tier[tier]++;
            extra += e->o->costs.steal[tier];
            if (sim_push(&w->dq, sim_take_oldest(v)) < 0) /* on the thief's deque */
                return SIM_ENOMEM;
        }
        if (extra > 0)
            sim_notify(e);
    }
    w->rounds = 0;
    if (sim_enter(e, wi, unit) < 0)
        return SIM_ENOMEM;
    if (extra == 0)
        return NEXT_RUN;
    sim_schedule(e, wi, e->now + extra); /* the extra steals' time */
    return WAIT;
}

/* Before parking (sleep.c): ask every other worker to share its ctx
 * stack, so that its next spawn is public and wakes a sleeper.  O(P), once
 * per park.  (sleep.c's re-scan of every deque before blocking is not
 * modelled: with a policy that never visits the worker holding the work,
 * as same-victim, it keeps thieves spinning for the whole run.) */
static void sim_ask_for_work(sim_engine *e, int wi)
{
    for (int i = 0; e->o->share == SIM_SHARE_REQUEST && i < e->P; i++)
        if (i != wi)
            e->w[i].splitreq = 1;
}

/* Has w's spin step ended by its latest failed round?  As sleep.c: once
 * it has lasted spin_rounds rounds and spin_ns (wait_ns if that is longer
 * and w waits at a sync) from the end of the first. */
static int sim_spun(const sim_engine *e, int wi)
{
    sim_worker *w = &e->w[wi];
    const sim_options *o = e->o;
    uint64_t least = sim_awaited(e, wi) != SIM_NONE && o->wait_ns > o->spin_ns ? o->wait_ns
                                                                                : o->spin_ns;
    if (w->rounds == 1) {
        w->spin_from = e->now;
        w->spun_at = 0;
    }
    if (w->spun_at != 0)
        return 1;
    if (w->rounds < o->spin_rounds || e->now - w->spin_from < least)
        return 0;
    w->spun_at = w->rounds;
    return 1;
}

/* INJECT resolved: the next root, or the end of a failed round. */
static int sim_inject_step(sim_engine *e, int wi)
{
    sim_worker *w = &e->w[wi];
    if (e->injector != SIM_NONE) {
        uint32_t root = e->injector;
        e->injector = SIM_NONE;
        e->r->worker[wi].injector_takes++;
        w->rounds = 0;
        return sim_enter(e, wi, root) < 0 ? SIM_ENOMEM : NEXT_RUN;
    }
    w->state = W_SEEK;
    w->attempt = -1;
    w->rounds++;
    if (e->o->spin_rounds == FG_SPIN_FOREVER)
        return NEXT_SEEK;
    if (!sim_spun(e, wi)) {
        if (w->rounds < e->o->spin_rounds)
            return NEXT_SEEK;
        sim_schedule(e, wi, e->now + e->o->costs.yield); /* the timed part yields (sleep.c) */
        return WAIT;
    }
    if (w->rounds < w->spun_at + e->o->yield_rounds) {
        if (w->rounds == w->spun_at) /* the spin's last round pauses, the rest yield */
            return NEXT_SEEK;
        sim_schedule(e, wi, e->now + e->o->costs.yield);
        return WAIT;
    }
    uint32_t awaited = sim_awaited(e, wi);
    if (awaited != SIM_NONE && e->done[awaited]) {
        w->state = W_RUN;
        return NEXT_RUN;
    }
    sim_ask_for_work(e, wi);
    w->state = W_PARKED;
    e->r->worker[wi].sleeps++;
    e->sleepers[e->nsleepers++] = wi; /* a push wakes waiters too */
    return WAIT;
}

/* One event of worker wi, then whatever it leads to at the same time. */
static int sim_event(sim_engine *e, int wi)
{
    sim_worker *w = &e->w[wi];
    int next;
    switch (w->state) {
    case W_STEAL:  next = sim_steal_step(e, wi); break;
    case W_INJECT: next = sim_inject_step(e, wi); break;
    case W_WAKING:
        w->state = W_SEEK;
        w->attempt = -1;
        w->rounds = 0;
        next = NEXT_SEEK;
        break;
    case W_SEEK:   next = NEXT_SEEK; break;
    default:       next = NEXT_RUN; break;
    }
    while (next == NEXT_RUN || next == NEXT_SEEK)
        next = next == NEXT_RUN ? sim_run_step(e, wi) : sim_seek_step(e, wi);
    return next < 0 ? next : 0;
}

/* ------------------------------------------------------------------ setup */

static int sim_setup(sim_engine *e)
{
    int P = e->P;
    e->w = calloc((size_t)P, sizeof *e->w);
    e->done = calloc(e->g->n, 1);
    e->runner = malloc(sizeof *e->runner * e->g->n);
    e->heap_t = malloc(sizeof *e->heap_t * (size_t)P);
    e->heap_w = malloc(sizeof *e->heap_w * (size_t)P);
    e->sleepers = malloc(sizeof *e->sleepers * (size_t)P);
    e->r->worker = calloc((size_t)P, sizeof *e->r->worker);
    e->pool = fg__pool_simulated(P, sim_queue_length, e);
    if (!e->w || !e->done || !e->runner || !e->heap_t || !e->heap_w || !e->sleepers ||
        !e->r->worker || !e->pool)
        return SIM_ENOMEM;
    memset(e->runner, 0xFF, sizeof *e->runner * e->g->n);
    for (int i = 0; i < P; i++) {
        sim_worker *w = &e->w[i];
        w->rng = fg__rng_seed(e->o->seed, i);
        w->args = (fg_victim_args){ .thief = i, .workers = P, .last_victim = -1,
                                    .state = e->o->near ? e->m->near[i] : NULL, .pool = e->pool };
        w->state = W_SEEK;
        w->attempt = -1;
        w->wake_next = 1; /* a fresh ctx stack shares its first spawn */
    }
    return 0;
}

static void sim_teardown(sim_engine *e)
{
    size_t bytes = (size_t)e->g->n * 3 + (size_t)e->P * (sizeof *e->w + 2 * sizeof(uint64_t) +
                                                       sizeof(int) + sizeof *e->r->worker);
    for (int i = 0; e->w != NULL && i < e->P; i++) {
        bytes += e->w[i].cap * sizeof(sim_frame) + (e->w[i].dq.buf ? e->w[i].dq.mask + 1u : 0) * 4u +
                 (e->w[i].cx.buf ? e->w[i].cx.mask + 1u : 0) * 4u;
        free(e->w[i].stack);
        free(e->w[i].dq.buf);
        free(e->w[i].cx.buf);
    }
    e->r->bytes = bytes;
    free(e->w);
    free(e->done);
    free(e->runner);
    free(e->heap_t);
    free(e->heap_w);
    free(e->sleepers);
    fg__pool_simulated_free(e->pool);
}

static void sim_totals(sim_result *r)
{
    memset(&r->total, 0, sizeof r->total);
    for (int i = 0; i < r->workers; i++) {
        sim_worker_stats *s = &r->worker[i];
        s->idle_ns = r->makespan - s->busy_ns;
        r->total.busy_ns += s->busy_ns;
        r->total.idle_ns += s->idle_ns;
        r->total.tasks += s->tasks;
        r->total.attempts += s->attempts;
        r->total.steals += s->steals;
        r->total.remote_steals += s->remote_steals;
        r->total.injector_takes += s->injector_takes;
        r->total.sleeps += s->sleeps;
        r->total.bad_choices += s->bad_choices;
    }
}

int sim_run(const sim_graph *g, const sim_machine *m, const sim_options *o, sim_result *r,
            char *err, size_t el)
{
    memset(r, 0, sizeof *r);
    if (g->nroots == 0 || o->victim_fn == NULL || m->workers < 1) {
        snprintf(err, el, "nothing to run (no root, no policy or no workers)");
        return SIM_EINVAL;
    }
    if (o->costs.injector == 0) { /* else an idle round takes no time: no end */
        snprintf(err, el, "--costs injector:0: a steal round must take time; give 1 ns or more");
        return SIM_EINVAL;
    }
    sim_engine e = { .g = g, .m = m, .o = o, .r = r, .P = m->workers, .injector = SIM_NONE };
    r->workers = m->workers;
    int rc = sim_setup(&e);
    if (rc == 0) { /* worker 0 takes the first root at time 0; the rest seek */
        r->worker[0].injector_takes++;
        rc = sim_enter(&e, 0, g->roots[0]);
        for (int i = 0; rc == 0 && i < e.P; i++)
            sim_schedule(&e, i, 0);
    }
    while (rc == 0 && !e.finished) {
        if (e.heap_n == 0) {
            snprintf(err, el, "simulation stalled at %llu ns: every worker parked (a bug)",
                     (unsigned long long)e.now);
            rc = SIM_EINVAL;
            break;
        }
        r->events++;
        rc = sim_event(&e, sim_pop(&e));
    }
    if (rc == SIM_ENOMEM)
        snprintf(err, el, "out of memory simulating %d workers", e.P);
    sim_teardown(&e);
    if (rc < 0) {
        sim_result_free(r);
        return rc;
    }
    sim_totals(r);
    return 0;
}

void sim_result_free(sim_result *r)
{
    free(r->worker);
    r->worker = NULL;
}

void sim_result_print(FILE *f, const sim_graph *g, const sim_machine *m, const sim_options *o,
                      const sim_result *r, uint64_t work, uint64_t span, int per_worker)
{
    const sim_costs *c = &o->costs;
    const sim_worker_stats *t = &r->total;
    double ms = (double)r->makespan;
    fprintf(f, "machine   %s, %d workers on %d PUs\n", m->name, m->workers, m->pus);
    char spin[80];
    if (o->spin_rounds == FG_SPIN_FOREVER)
        snprintf(spin, sizeof spin, "forever");
    else if (o->spin_ns != 0)
        snprintf(spin, sizeof spin, "%u,spin:%lluus,wait:%lluus", o->spin_rounds,
                 (unsigned long long)(o->spin_ns / 1000), (unsigned long long)(o->wait_ns / 1000));
    else
        snprintf(spin, sizeof spin, "%u,wait:%lluus", o->spin_rounds,
                 (unsigned long long)(o->wait_ns / 1000));
    fprintf(f, "policy    %s, steal %s, idle spin:%s,yield:%u, seed %llu, share %s\n",
            o->policy_name, o->steal == FG_STEAL_HALF ? "half" : "one", spin, o->yield_rounds,
            (unsigned long long)o->seed, o->share == SIM_SHARE_ALWAYS ? "always" : "request");
    fprintf(f, "costs     core:%llu,cache:%llu,package:%llu,remote:%llu,injector:%llu,yield:%llu,"
            "wake:%llu ns\n", (unsigned long long)c->steal[0], (unsigned long long)c->steal[1],
            (unsigned long long)c->steal[2], (unsigned long long)c->steal[3],
            (unsigned long long)c->injector, (unsigned long long)c->yield,
            (unsigned long long)c->wake);
    fprintf(f, "graph     %u units, work T1 %llu ns, span Tinf %llu ns\n", g->n,
            (unsigned long long)work, (unsigned long long)span);
    fprintf(f, "makespan  %llu ns\n", (unsigned long long)r->makespan);
    fprintf(f, "speedup   %.3f (bound %.3f)\n", (double)work / (ms > 0 ? ms : 1),
            (double)work / (double)(work / (uint64_t)m->workers > span ? work / (uint64_t)m->workers
                                                                       : (span ? span : 1)));
    fprintf(f, "steals    %llu of %llu attempts (success %.4f), bad choices %llu\n",
            (unsigned long long)t->steals, (unsigned long long)t->attempts,
            t->attempts ? (double)t->steals / (double)t->attempts : 0.0,
            (unsigned long long)t->bad_choices);
    fprintf(f, "distance  core %llu, cache %llu, package %llu, remote %llu (remote fraction %.4f)\n",
            (unsigned long long)r->steals_by_tier[0], (unsigned long long)r->steals_by_tier[1],
            (unsigned long long)r->steals_by_tier[2], (unsigned long long)r->steals_by_tier[3],
            t->steals ? (double)t->remote_steals / (double)t->steals : 0.0);
    fprintf(f, "idle      %.4f of worker time, %llu sleeps, %llu wakes, %llu injector takes\n",
            ms > 0 ? (double)t->idle_ns / (ms * m->workers) : 0.0, (unsigned long long)t->sleeps,
            (unsigned long long)r->wakes, (unsigned long long)t->injector_takes);
    if (per_worker)
        sim_result_print_workers(f, r);
}

void sim_result_print_workers(FILE *f, const sim_result *r)
{
    fprintf(f, "%6s %12s %12s %10s %10s %10s %8s\n", "worker", "busy_ns", "idle_ns", "tasks",
            "attempts", "steals", "sleeps");
    for (int i = 0; i < r->workers; i++) {
        const sim_worker_stats *s = &r->worker[i];
        fprintf(f, "%6d %12llu %12llu %10llu %10llu %10llu %8llu\n", i,
                (unsigned long long)s->busy_ns, (unsigned long long)s->idle_ns,
                (unsigned long long)s->tasks, (unsigned long long)s->attempts,
                (unsigned long long)s->steals, (unsigned long long)s->sleeps);
    }
}
