/* bound.c: the lower and upper bounds of a simulated makespan (bound.h). */
#include "bound.h"

#include "analyze.h"

/* The largest steal attempt between two workers of m. */
static uint64_t sim_bound_steal(const sim_machine *m, const sim_costs *c)
{
    uint64_t steal = 0;
    for (int a = 0; a < m->workers; a++)
        for (int b = 0; b < m->workers; b++)
            if (a != b && c->steal[sim_machine_tier(m, a, b)] > steal)
                steal = c->steal[sim_machine_tier(m, a, b)];
    return steal;
}

int sim_bounds_of(const sim_graph *g, const sim_machine *m, const sim_costs *c, sim_bounds *out)
{
    sim_analysis a;
    uint64_t P = (uint64_t)m->workers, steal = sim_bound_steal(m, c);
    uint64_t burden = c->wake + (P - 1) * steal + c->injector + c->yield, burdened;
    int rc = sim_analyze(g, 0, &a);
    if (rc == 0)
        rc = sim_burdened_span(g, burden, steal, &burdened);
    if (rc < 0)
        return rc;
    uint64_t share = (a.work + P - 1) / P; /* ceil(T1/P) */
    *out = (sim_bounds){
        .work = a.work, .span = a.span, .steal = steal, .burden = burden, .burdened = burdened,
        .lower = share > a.span ? share : a.span,
        .upper = a.work / P + SIM_BOUND_C * burdened, .workers = m->workers,
    };
    return 0;
}

const char *sim_bounds_verdict(const sim_bounds *b, uint64_t makespan)
{
    if (makespan < b->lower)
        return "below the lower bound (a bug)";
    return makespan > b->upper ? "above the upper bound" : "within both";
}

double sim_bounds_needed_c(const sim_bounds *b, uint64_t makespan)
{
    uint64_t share = b->work / (uint64_t)b->workers;
    if (makespan <= share || b->burdened == 0)
        return 0.0;
    return (double)(makespan - share) / (double)b->burdened;
}

void sim_bounds_print(FILE *f, const sim_bounds *b, uint64_t makespan)
{
    fprintf(f, "bounds    max(T1/P, Tinf) %llu ns <= makespan <= T1/P + %d x burdened span "
            "%llu ns (%llu ns per spawn, %llu ns before a spawned child or later root): %s (needs "
            "c >= %.4f)\n",
            (unsigned long long)b->lower, SIM_BOUND_C, (unsigned long long)b->upper,
            (unsigned long long)b->steal, (unsigned long long)b->burden, sim_bounds_verdict(b, makespan),
            sim_bounds_needed_c(b, makespan));
}
