/* machine.c: simulated machines from hwloc (machine.h).
 *
 * Worker i sits on the topology's i-th processing unit (cyclically when
 * there are more workers than PUs, as the runtime places them).  The tier
 * of a pair is read from their lowest common ancestor: a PU or core is
 * SIM_CORE, a cache SIM_CACHE, anything else inside one package
 * SIM_PACKAGE, else SIM_REMOTE.  The near policy gets the runtime's own
 * near orders (fg__near_order_build), with the runtime's closeness: the
 * depth of that ancestor. */
#include "machine.h"

#include <errno.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "graph.h"

/* This machine's measured figures (docs/design/sim.md, "Costs"): a steal
 * between its two PUs, which share a cache, ~97 ns (deque-steal in
 * docs/benchmarks.md); a futex wake-up 60 us and a yield 0.6 us
 * (forage-sim calibrate); the other tiers scaled from the cache tier. */
const sim_costs sim_costs_default = {
    .steal = { 50, 100, 200, 500 },
    .injector = 35,
    .yield = 600,
    .wake = 60000,
};

typedef struct sim_topo {
    hwloc_topology_t topo;
    hwloc_obj_t *pu; /* per worker */
} sim_topo;

static hwloc_obj_t sim_common(const sim_topo *t, int a, int b)
{
    if (t->pu[a] == t->pu[b])
        return t->pu[a];
    return hwloc_get_common_ancestor_obj(t->topo, t->pu[a], t->pu[b]);
}

static int sim_closeness(void *ctx, int a, int b)
{
    return sim_common(ctx, a, b)->depth;
}

static int sim_tier_of(const sim_topo *t, int a, int b)
{
    hwloc_obj_t c = sim_common(t, a, b);
    if (c->type == HWLOC_OBJ_PU || c->type == HWLOC_OBJ_CORE)
        return SIM_CORE;
    if (hwloc_obj_type_is_cache(c->type))
        return SIM_CACHE;
    hwloc_obj_t pa = hwloc_get_ancestor_obj_by_type(t->topo, HWLOC_OBJ_PACKAGE, t->pu[a]);
    hwloc_obj_t pb = hwloc_get_ancestor_obj_by_type(t->topo, HWLOC_OBJ_PACKAGE, t->pu[b]);
    return pa != NULL && pa == pb ? SIM_PACKAGE : SIM_REMOTE;
}

static int sim_topo_load(hwloc_topology_t topo, const char *spec, char *name, size_t nl,
                         char *err, size_t el)
{
    size_t len = strlen(spec);
    int rc = 0;
    if (strcmp(spec, "this") == 0) {
        snprintf(name, nl, "this machine");
    } else if (len > 4 && strcmp(spec + len - 4, ".xml") == 0) {
        snprintf(name, nl, "xml %s", spec);
        rc = hwloc_topology_set_xml(topo, spec);
    } else {
        snprintf(name, nl, "synthetic \"%s\"", spec);
        rc = hwloc_topology_set_synthetic(topo, spec);
    }
    if (rc == 0)
        rc = hwloc_topology_load(topo);
    if (rc != 0)
        snprintf(err, el, "bad topology \"%s\": hwloc cannot load it (%s); give \"this\", an "
                 "hwloc XML file (*.xml) or a synthetic string such as \"pack:2 l3:1 core:8 pu:1\"",
                 spec, strerror(errno));
    return rc == 0 ? 0 : SIM_EINVAL;
}

static int sim_fill(sim_machine *m, sim_topo *t, int workers)
{
    int total = hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_PU);
    m->pus = total;
    if (total <= 0)
        return SIM_EINVAL;
    t->pu = malloc(sizeof *t->pu * (size_t)workers);
    m->tier = malloc((size_t)workers * (size_t)workers);
    m->near = calloc((size_t)workers, sizeof *m->near);
    if (t->pu == NULL || m->tier == NULL || m->near == NULL)
        return SIM_ENOMEM;
    for (int w = 0; w < workers; w++)
        t->pu[w] = hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PU, (unsigned)(w % total));
    for (int a = 0; a < workers; a++) {
        for (int b = 0; b < workers; b++)
            m->tier[(size_t)a * (size_t)workers + (size_t)b] = (uint8_t)sim_tier_of(t, a, b);
        if ((m->near[a] = fg__near_order_build(workers, a, sim_closeness, t)) == NULL)
            return SIM_ENOMEM;
    }
    return 0;
}

int sim_machine_create(sim_machine *m, const char *topology, int workers, char *err, size_t el)
{
    memset(m, 0, sizeof *m);
    if (workers < 1 || workers > SIM_MAX_WORKERS) {
        snprintf(err, el, "--workers %d: want 1 to %d", workers, SIM_MAX_WORKERS);
        return SIM_EINVAL;
    }
    m->workers = workers;
    sim_topo t = { 0 };
    if (hwloc_topology_init(&t.topo) != 0) {
        snprintf(err, el, "hwloc_topology_init failed");
        return SIM_ENOMEM;
    }
    int rc = sim_topo_load(t.topo, topology, m->name, sizeof m->name, err, el);
    if (rc == 0 && (rc = sim_fill(m, &t, workers)) < 0)
        snprintf(err, el, rc == SIM_ENOMEM ? "out of memory for %d workers"
                                           : "topology has no processing units (%d workers)",
                 workers);
    free(t.pu);
    hwloc_topology_destroy(t.topo);
    if (rc < 0)
        sim_machine_free(m);
    return rc;
}

void sim_machine_free(sim_machine *m)
{
    if (m->near != NULL)
        for (int w = 0; w < m->workers; w++)
            fg__free(m->near[w]);
    free(m->near);
    free(m->tier);
    memset(m, 0, sizeof *m);
}

/* One item "name:ns" of p (up to the next comma or the end) into c;
 * NULL, or what is wrong with it.  *seen marks the names given so far. */
static const char *sim_cost_item(sim_costs *c, const char *p, size_t len, unsigned *seen)
{
    static const char *const names[] = { "core", "cache", "package", "remote", "injector",
                                         "yield", "wake" };
    uint64_t *fields[] = { &c->steal[0], &c->steal[1], &c->steal[2], &c->steal[3],
                           &c->injector, &c->yield, &c->wake };
    if (len == 0)
        return "an empty item";
    size_t n = strcspn(p, ":,");
    int f = -1;
    for (int i = 0; i < 7; i++)
        if (strlen(names[i]) == n && strncmp(p, names[i], n) == 0)
            f = i;
    if (f < 0)
        return "an unknown cost name";
    if (n == len || p[n] != ':')
        return "no \":ns\" after the name";
    if (*seen & (1u << f))
        return "a cost given twice";
    const char *v = p + n + 1, *end = p + len;
    if (v == end || strspn(v, "0123456789") != (size_t)(end - v))
        return "a value that is not a whole number of ns";
    if (strtoull(v, NULL, 10) > SIM_WORK_MAX) /* an overflow gives ULLONG_MAX */
        return "a value above 2^44 ns (17592186044416)";
    uint64_t ns = strtoull(v, NULL, 10);
    if (f == 4 && ns == 0)
        return "injector:0 (a steal round must take time; give 1 ns or more)";
    *fields[f] = ns;
    *seen |= 1u << f;
    return NULL;
}

int sim_costs_parse(sim_costs *c, const char *spec, char *err, size_t el)
{
    sim_costs out = *c;
    unsigned seen = 0;
    const char *p = spec, *why = *spec == '\0' ? "nothing given" : NULL;
    while (why == NULL) {
        size_t len = strcspn(p, ",");
        if ((why = sim_cost_item(&out, p, len, &seen)) != NULL || p[len] == '\0')
            break;
        p += len + 1;
    }
    if (why != NULL) {
        int len = (int)strcspn(p, ",");
        snprintf(err, el, "--costs \"%s\": %s at \"%.*s\"; want name:ns items separated by "
                 "commas, names core, cache, package, remote, injector, yield, wake", spec, why,
                 len, p);
        return SIM_EINVAL;
    }
    *c = out;
    return 0;
}
