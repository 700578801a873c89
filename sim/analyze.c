/* analyze.c: work and span (analyze.h).
 *
 * A unit's span is the time from its start to its end with unlimited
 * workers: its own work, plus the time it waits inside calls and at syncs.
 * Walking its timeline in order, a called child adds its whole span; a
 * spawned child starts where the parent then is (plus the burden, for the
 * burdened span; the bounds also charge the parent `spawn` ns per spawn)
 * and a sync waits for its end.  At one point, spawns come
 * before syncs, as in the simulator.  Children have larger indices than
 * their parents, so one backward pass computes every span; t[] holds a
 * unit's span until its parent's walk replaces it by the child's end,
 * relative to the parent's start. */
#include "analyze.h"

#include <stdlib.h>

static uint64_t sim_unit_span(const sim_graph *g, uint32_t i, uint64_t *t, uint64_t burden,
                              uint64_t spawn)
{
    const sim_unit *u = &g->units[i];
    const uint32_t *kids = g->kids + u->first, *syncs = g->syncs + u->first;
    uint64_t delay = 0; /* time added to the parent's own timeline so far */
    uint32_t k = 0, s = 0;
    while (s < u->nkids) {
        const sim_unit *sync = &g->units[syncs[s]];
        if (k < u->nkids && g->units[kids[k]].spawn_at <= sync->sync_at) {
            uint32_t c = kids[k++];
            if (g->units[c].flags & SIM_FLAG_CALL) {
                delay += t[c];
            } else {
                delay += spawn;
                t[c] += g->units[c].spawn_at + delay + burden; /* now its end */
            }
            continue;
        }
        if (!(sync->flags & SIM_FLAG_CALL) && t[syncs[s]] > sync->sync_at + delay)
            delay = t[syncs[s]] - sync->sync_at;
        s++;
    }
    return u->work + delay;
}

static void sim_spans(const sim_graph *g, uint64_t *t, uint64_t burden, uint64_t spawn,
                      uint64_t *total)
{
    for (uint32_t i = g->n; i-- > 0;)
        t[i] = sim_unit_span(g, i, t, burden, spawn);
    *total = 0;
    for (uint32_t r = 0; r < g->nroots; r++) /* a later root waits for a taker too */
        *total += t[g->roots[r]] + (r > 0 ? burden : 0);
}

int sim_analyze(const sim_graph *g, uint64_t burden, sim_analysis *out)
{
    uint64_t *t = malloc(sizeof *t * (g->n ? g->n : 1));
    uint32_t *nest = malloc(sizeof *nest * (g->n ? g->n : 1));
    if (t == NULL || nest == NULL) {
        free(t);
        free(nest);
        return SIM_ENOMEM;
    }
    *out = (sim_analysis){ .burden = burden };
    for (uint32_t i = g->n; i-- > 0;) {
        const sim_unit *u = &g->units[i];
        out->work += u->work;
        out->spawns += u->parent != SIM_NONE && !(u->flags & SIM_FLAG_CALL);
        nest[i] = 1;
        for (uint32_t k = 0; k < u->nkids; k++)
            if (nest[g->kids[u->first + k]] + 1 > nest[i])
                nest[i] = nest[g->kids[u->first + k]] + 1;
        if (u->parent == SIM_NONE && nest[i] > out->depth)
            out->depth = nest[i];
    }
    sim_spans(g, t, 0, 0, &out->span);
    sim_spans(g, t, burden, 0, &out->burdened);
    free(t);
    free(nest);
    return 0;
}

int sim_burdened_span(const sim_graph *g, uint64_t burden, uint64_t spawn, uint64_t *out)
{
    uint64_t *t = malloc(sizeof *t * (g->n ? g->n : 1));
    if (t == NULL)
        return SIM_ENOMEM;
    sim_spans(g, t, burden, spawn, out);
    free(t);
    return 0;
}

void sim_analysis_print(FILE *f, const sim_graph *g, const sim_analysis *a)
{
    double t1 = (double)a->work, tinf = (double)(a->span ? a->span : 1);
    fprintf(f, "units %u (roots %u, spawned %llu, depth %u), recorded on %u workers in %.3f ms\n",
            g->n, g->nroots, (unsigned long long)a->spawns, a->depth, g->workers,
            (double)g->wall_ns / 1e6);
    fprintf(f, "work T1            %.3f ms\n", t1 / 1e6);
    fprintf(f, "span Tinf          %.3f ms\n", tinf / 1e6);
    fprintf(f, "parallelism T1/Tinf %.2f\n", t1 / tinf);
    fprintf(f, "burdened span      %.3f ms (%llu ns per spawned child)\n",
            (double)a->burdened / 1e6, (unsigned long long)a->burden);
    fprintf(f, "burdened parallelism %.2f\n", t1 / (double)(a->burdened ? a->burdened : 1));
    fprintf(f, "%6s %14s %14s %14s\n", "P", "speedup<=", "greedy>=", "burdened~");
    for (int p = 1; p <= 1024; p *= 2) {
        double hi = t1 / (t1 / p > tinf ? t1 / p : tinf);  /* max(T1/P, Tinf) <= T_P */
        double lo = t1 / (t1 / p + tinf);                   /* T_P <= T1/P + Tinf, greedy */
        double bu = t1 / (t1 / p + (double)a->burdened);    /* with the steal burden */
        fprintf(f, "%6d %14.2f %14.2f %14.2f\n", p, hi, lo, bu);
    }
}
