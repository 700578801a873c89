/* map.h: one call of the joblib-style façade (parallel.c), shared with
 * the backend that runs outside the caller's process (process.c). */
#ifndef FG_MAP_H
#define FG_MAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "forage.h"

#include "batching.h"
#include "progress.h"
#include "reaper.h"

/* The process backend's shared region kept between the calls of one
 * fg_parallel (process.c, "The kept region"). */
typedef struct fg__proc_region {
    pthread_mutex_t lock; /* calls from several threads at once take and give it */
    char *base;           /* the kept region, NULL: none */
    size_t bytes;         /* its size */
    size_t cap;           /* larger regions are not kept */
    size_t mapped;        /* regions this fg_parallel mapped, for tests */
    size_t views;         /* maps that hid a results view from the fork, for tests */
    unsigned generation;  /* fork generation of this record: a copy inherited
                             across fork() is another process's */
} fg__proc_region;

struct fg_parallel {
    fg_pool *pool;
    bool owns_pool;
    int n_jobs;              /* effective */
    long batch_size;         /* > 0 fixed, FG_BATCH_AUTO */
    int backend;
    size_t pre_dispatch;     /* tasks; SIZE_MAX: all */
    fg__printer printer;
    fg__autobatch autobatch; /* learned size persists across calls, as in a
                                joblib `with Parallel(...)` block */
    pthread_mutex_t batch_lock; /* guards autobatch: calls from several
                                   threads at once share it (taken inside a
                                   call's lock, never the other way) */
    void (*on_progress)(const fg_progress *, void *);
    void *progress_ctx;
    const fg_cancel_token *cancel; /* fg_parallel_opts.cancel, may be NULL */
    double timeout;          /* seconds; process backend only; 0: none */
    fg_parallel_opts opts;   /* as given, for fg_parallel_get_opts */
    fg__reaper reaper;       /* process backend: reaps workers after a map */
    fg__proc_region region;  /* process backend: the region kept between maps */
};

typedef struct fg__batch {
    size_t start, len;
    double dispatched_s;
} fg__batch;

typedef struct fg__map {
    fg_parallel *par;
    size_t total;
    fg_delayed d;                 /* map: fn(begin + k) */
    size_t begin;
    char *results;
    const fg_call *calls;         /* calls: calls[k] */
    pthread_mutex_t lock;
    fg__progress_state prog;      /* under lock */
    fg__cutter cutter;            /* under lock */
    size_t *bounds;               /* STEAL fixed: batch k is [bounds[k], bounds[k+1]) */
    size_t nbatches;
    _Atomic size_t fail_index;/* lowest failing task, SIZE_MAX: none */
    int fail_code;                /* under lock */
    _Atomic size_t tasks_run;
    fg__batch *queue;             /* SHARED: FIFO ring, under lock */
    size_t queue_head, queue_len, queue_cap;
    int term_signal, exit_status; /* process backend: how a worker died */
} fg__map;

/* "StealingBackend", ... as the progress lines name an FG_BACKEND_*. */
const char *fg__backend_name(int backend);

/* Under m->lock (or on the only thread using m): joblib's progress line
 * for the counters in m->prog at time now_s (fg__now_s), and on_progress. */
void fg__map_report_at(fg__map *m, bool finished, double now_s);
/* Print joblib's "Batch computation too fast/slow" line for a verdict of
 * fg__autobatch_size. */
void fg__map_print_autobatch(fg__map *m, double verdict, size_t size);

#endif
