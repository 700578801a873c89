/* graph.h: a recording (docs/design/record.md, format version 1) loaded
 * and checked for forage-sim.
 *
 * In memory each unit takes 40 bytes, plus 4 in `kids` and 4 in `syncs`:
 * the simulator's budget is 64 bytes per recorded unit (docs/design/sim.md).
 */
#ifndef SIM_GRAPH_H
#define SIM_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#define SIM_NONE 0xFFFFFFFFu
#define SIM_HEADER_SIZE 64
#define SIM_RECORD_SIZE 32
#define SIM_VERSION 1
#define SIM_KIND_GROUP 3       /* record kind: fg_spawn's group task (a deque push) */
#define SIM_FLAG_CALL 1u      /* record flag: run at once by the parent */
#define SIM_FLAG_STOLEN 2u    /* record flag: stolen in the recorded run */
#define SIM_HEADER_PARTIAL 1u /* header flag: units were lost */
/* Per unit, so that sums of a whole graph stay far below 2^64. */
#define SIM_WORK_MAX (UINT64_C(1) << 44) /* ns, about 4.9 hours */

/* Errors of forage-sim; each comes with a message (byte offsets for files). */
enum sim_error {
    SIM_EIO = -1,      /* cannot read or write a file */
    SIM_EFORMAT = -2,  /* not a valid recording */
    SIM_ENOMEM = -3,
    SIM_EINVAL = -4,   /* bad option: policy, workers, topology, costs */
};

typedef struct sim_unit {
    uint64_t work;     /* own work, ns */
    uint64_t spawn_at; /* in the parent's own work */
    uint64_t sync_at;
    uint32_t parent;   /* SIM_NONE for a root */
    uint32_t first;    /* children: kids[first .. first + nkids), spawn order */
    uint32_t nkids;
    uint8_t kind;
    uint8_t flags;     /* SIM_FLAG_* */
} sim_unit;

typedef struct sim_graph {
    sim_unit *units;
    uint32_t n;
    uint32_t *kids;    /* per parent, in spawn (file) order */
    uint32_t *syncs;   /* per parent, the same children by (sync_at, file order) */
    uint32_t *roots;   /* in file order */
    uint32_t nroots;
    uint32_t workers;  /* of the recorded run */
    uint64_t wall_ns;  /* of the recorded run */
} sim_graph;

/* Check and load `len` bytes of a recording.  0, or a sim_error with a
 * message in err naming the byte offset of the first bad field. */
int sim_graph_parse(sim_graph *g, const uint8_t *buf, size_t len, char *err, size_t errlen);
int sim_graph_load(sim_graph *g, const char *path, char *err, size_t errlen);
void sim_graph_free(sim_graph *g);
/* Bytes the loaded graph holds (the memory figure of `forage-sim bench`). */
size_t sim_graph_bytes(const sim_graph *g);

/* A recording under construction (gen.c, tests): records appended in file
 * order, then encoded with both CRCs. */
typedef struct sim_builder {
    uint8_t *buf;
    size_t len, cap;
    uint32_t n;
    int failed; /* out of memory at some append */
} sim_builder;

void sim_builder_init(sim_builder *b, uint32_t workers, uint64_t wall_ns);
/* Index of the new record; SIM_NONE (and b->failed) when out of memory. */
uint32_t sim_builder_add(sim_builder *b, uint32_t parent, int kind, int flags, uint64_t work,
                         uint64_t spawn_at, uint64_t sync_at);
/* Fill units and both CRCs; 0 or SIM_ENOMEM.  The buffer is b->buf, b->len
 * bytes; free it with sim_builder_free. */
int sim_builder_finish(sim_builder *b);
void sim_builder_free(sim_builder *b);
/* Little-endian stores and loads at p. */
void sim_put32(uint8_t *p, uint32_t v);
void sim_put64(uint8_t *p, uint64_t v);
uint32_t sim_get32(const uint8_t *p);
uint64_t sim_get64(const uint8_t *p);

#endif
