/* rank.h: one rank's side of fg_mpi_parallel_map: the chunks it claimed,
 * run on its own pool (workers steal inside a chunk as usual) or in the
 * caller.  No MPI here: the caller (map.c) claims, this file runs.  See
 * rank.c. */
#ifndef FG_MPI_RANK_H
#define FG_MPI_RANK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forage.h"

#include "batching.h"
#include "schedule.h"

typedef struct fg__mpi_rank fg__mpi_rank;

/* A claimed chunk: units [unit_first, unit_last) = tasks [first, last)
 * (relative to the call's begin), whose results go to out[0..]. */
typedef struct fg__mpi_chunk {
    fg__mpi_rank *rank;
    size_t index;
    size_t unit_first, unit_last;
    size_t first, last;
    char *out;        /* result of task `first`; NULL when result_size is 0 */
    bool own_out;     /* out was allocated here (a non-receiving rank) */
} fg__mpi_chunk;

struct fg__mpi_rank {
    /* Set by fg__mpi_rank_init, read-only while tasks run. */
    const fg__mpi_schedule *sched;
    fg_delayed d;
    size_t begin;
    char *results;                 /* NULL: results go to per-chunk buffers */
    fg_pool *pool;                 /* NULL: chunks run in the caller */
    const fg_cancel_token *cancel;
    bool autobatch_on;
    int workers;                   /* the rank's effective n_jobs */
    _Atomic size_t low_water;      /* claim more below this many tasks
                                      outstanding (the caller writes it) */
    fg_group group;
    /* The caller's, never touched by workers. */
    fg__mpi_chunk **chunks;
    size_t nchunks, chunks_cap;
    /* Shared with the workers. */
    pthread_mutex_t lock;
    pthread_cond_t wake;           /* the caller waits here */
    fg__autobatch autobatch;       /* under lock */
    size_t fail_index;             /* own lowest failing task, under lock */
    int fail_code;                 /* under lock */
    bool fail_new;                 /* a failure the caller has not seen, under lock */
    _Atomic size_t skip_after;     /* batches starting later are skipped */
    _Atomic size_t outstanding;    /* tasks claimed and not yet finished */
    _Atomic size_t tasks_run, batches_run;
};

/* 0, or FG_EINVAL for a pool that went away (r is then usable, with no
 * pool).  results: where this rank writes (every result in
 * place), or NULL for per-chunk buffers. */
int fg__mpi_rank_init(fg__mpi_rank *r, const fg__mpi_schedule *sched, fg_delayed d,
                      size_t begin, char *results, fg_pool *pool, int workers,
                      const fg_cancel_token *cancel, bool autobatch_on);
/* Take chunk `index` of the schedule: queue it on the pool, or run it here.
 * 0, FG_ENOMEM (nothing queued), or FG_ESHUTDOWN (run here instead). */
int fg__mpi_rank_submit(fg__mpi_rank *r, size_t index);
/* The current low-water mark, in tasks. */
size_t fg__mpi_rank_low_water(fg__mpi_rank *r);
/* Block until fewer than `below` tasks are outstanding, a failure is new,
 * or timeout_ns passed (0: no limit).  Returns true when a failure is new
 * (and marks it seen). */
bool fg__mpi_rank_wait(fg__mpi_rank *r, size_t below, uint64_t timeout_ns);
/* Lower the index after which batches are skipped (a failure elsewhere). */
void fg__mpi_rank_skip_after(fg__mpi_rank *r, size_t index);
/* Wait for every queued chunk; then no worker touches r. */
int fg__mpi_rank_finish(fg__mpi_rank *r);
void fg__mpi_rank_destroy(fg__mpi_rank *r);

#endif
