/* topology.c: worker placement and near orders (topology.h): FG_BIND_CPUS
 * binds worker i to the i-th CPU of the process's affinity mask; near-first
 * reads hwloc's topology for its orders and binds by it.  Everything here
 * runs at pool creation, or once per worker at start; the hwloc topology is
 * read-only afterwards. */
#include "topology.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>

#include "alloc.h"
#include "forage.h"

/* Others sorted by closeness (insertion sort: pools are small), cut into
 * tiers of equal closeness; the last tier absorbs any beyond FG__MAX_TIERS. */
fg__near_order *fg__near_order_build(int workers, int self,
                                     int (*closeness)(void *ctx, int a, int b), void *ctx)
{
    int others = workers - 1, close[FG__NEAR_MAX_WORKERS];
    if (workers > FG__NEAR_MAX_WORKERS)
        return NULL;
    fg__near_order *o = fg__alloc_zeroed(sizeof *o + sizeof(int) * (size_t)(others > 0 ? others : 1));
    if (o == NULL)
        return NULL;
    for (int v = 0; v < workers; v++) {
        if (v == self)
            continue;
        int c = closeness(ctx, self, v), i = o->count++;
        while (i > 0 && close[i - 1] < c) {
            close[i] = close[i - 1];
            o->order[i] = o->order[i - 1];
            i--;
        }
        close[i] = c;
        o->order[i] = v;
    }
    for (int i = 0; i < o->count; i++) {
        bool new_tier = i == 0 || close[i] != close[i - 1];
        if (new_tier && o->ntiers < FG__MAX_TIERS)
            o->ntiers++;
        o->tier_end[o->ntiers - 1] = i + 1;
    }
    return o;
}

struct fg__cpu_mask {
    cpu_set_t set;
};

fg__cpu_mask *fg__cpu_mask_create(const fg__cpu_mask *from)
{
    fg__cpu_mask *m = fg__alloc(sizeof *m);
    if (m == NULL)
        return NULL;
    if (from != NULL)
        *m = *from;
    else if (sched_getaffinity(0, sizeof m->set, &m->set) != 0) {
        fg__free(m);
        return NULL;
    }
    return m;
}

int *fg__bind_cpus_create(int workers, const fg__cpu_mask *base)
{
    if (base == NULL || workers < 1 || CPU_COUNT(&base->set) < workers)
        return NULL;
    int *cpu = fg__alloc(sizeof *cpu * (size_t)workers), n = 0;
    for (int c = 0; cpu != NULL && c < CPU_SETSIZE && n < workers; c++)
        if (CPU_ISSET(c, &base->set))
            cpu[n++] = c;
    return cpu;
}

void fg__bind_self_mask(const fg__cpu_mask *m)
{
    (void)pthread_setaffinity_np(pthread_self(), sizeof m->set, &m->set);
}

int fg__attr_set_mask(pthread_attr_t *attr, const fg__cpu_mask *m)
{
    return pthread_attr_setaffinity_np(attr, sizeof m->set, &m->set);
}

void fg__bind_self_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    /* Best effort: a container may forbid it; then the kernel places us. */
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

#if defined(FG_HAVE_HWLOC) && FG_HAVE_HWLOC
#include <hwloc.h>

struct fg__topology {
    hwloc_topology_t topo;
    int workers;
    hwloc_obj_t *pu;             /* per worker */
    fg__near_order **near;       /* per worker */
};

/* Processing units this process may run on, in the machine's order. */
static int fg__allowed_pus(hwloc_topology_t topo, hwloc_obj_t *out, int max)
{
    hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topo);
    int n = 0, total = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    for (int i = 0; i < total && n < max; i++) {
        hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)i);
        if (pu != NULL && hwloc_bitmap_intersects(pu->cpuset, allowed))
            out[n++] = pu;
    }
    return n;
}

/* Depth of the lowest common ancestor: larger is nearer. */
static int fg__closeness(void *ctx, int a, int b)
{
    fg__topology *t = ctx;
    if (t->pu[a] == t->pu[b])
        return t->pu[a]->depth;
    return hwloc_get_common_ancestor_obj(t->topo, t->pu[a], t->pu[b])->depth;
}

int fg__topology_create(fg__topology **out, int workers)
{
    *out = NULL;
    fg__topology *t = fg__alloc_zeroed(sizeof *t);
    if (t == NULL)
        return FG_ENOMEM;
    t->workers = workers;
    if (hwloc_topology_init(&t->topo) != 0) {
        fg__free(t);
        return 0;
    }
    hwloc_obj_t pus[FG_MAX_WORKERS];
    int npu = hwloc_topology_load(t->topo) == 0 ? fg__allowed_pus(t->topo, pus, FG_MAX_WORKERS) : 0;
    if (npu == 0) { /* no usable topology: near-first falls back to random */
        hwloc_topology_destroy(t->topo);
        fg__free(t);
        return 0;
    }
    t->pu = fg__alloc(sizeof *t->pu * (size_t)workers);
    t->near = fg__alloc_zeroed(sizeof *t->near * (size_t)workers);
    int err = t->pu != NULL && t->near != NULL ? 0 : FG_ENOMEM;
    for (int w = 0; err == 0 && w < workers; w++)
        t->pu[w] = pus[w % npu];
    for (int w = 0; err == 0 && w < workers; w++)
        if ((t->near[w] = fg__near_order_build(workers, w, fg__closeness, t)) == NULL)
            err = FG_ENOMEM;
    if (err < 0) {
        fg__topology_destroy(t);
        return err;
    }
    *out = t;
    return 0;
}

void fg__topology_destroy(fg__topology *t)
{
    if (t == NULL)
        return;
    if (t->near != NULL)
        for (int w = 0; w < t->workers; w++)
            fg__free(t->near[w]);
    fg__free(t->near);
    fg__free(t->pu);
    hwloc_topology_destroy(t->topo);
    fg__free(t);
}

fg__near_order *fg__topology_near_order(fg__topology *t, int worker)
{
    return t != NULL ? t->near[worker] : NULL;
}

void fg__topology_bind_self(fg__topology *t, int worker)
{
    /* Best effort: a container may forbid binding; the order still holds. */
    if (t != NULL)
        (void)hwloc_set_cpubind(t->topo, t->pu[worker]->cpuset, HWLOC_CPUBIND_THREAD);
}

int fg__topology_pu(fg__topology *t, int worker)
{
    return t != NULL ? (int)t->pu[worker]->os_index : -1;
}

#else /* no hwloc: no topology, near-first is random */

int fg__topology_create(fg__topology **out, int workers)
{
    (void)workers;
    *out = NULL;
    return 0;
}

void fg__topology_destroy(fg__topology *t) { (void)t; }
fg__near_order *fg__topology_near_order(fg__topology *t, int worker) { (void)t; (void)worker; return NULL; }
void fg__topology_bind_self(fg__topology *t, int worker) { (void)t; (void)worker; }
int fg__topology_pu(fg__topology *t, int worker) { (void)t; (void)worker; return -1; }

#endif
