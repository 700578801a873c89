/* batching.h: how joblib 1.2 cuts an input into batches (fixed batch_size)
 * and adapts batch_size ('auto').  See batching.c. */
#ifndef FG_BATCHING_H
#define FG_BATCHING_H

#include <stdbool.h>
#include <stddef.h>

/* joblib's dispatch_one_batch state for a fixed batch size: a cursor over
 * the input and a FIFO of batches already cut from the current slice. */
typedef struct fg__cutter {
    size_t total;        /* tasks in the call */
    size_t n_jobs;       /* effective workers */
    size_t prefix_end;   /* end of the pre_dispatch prefix */
    size_t pos;          /* next task not yet in a batch */
    size_t ready_start, ready_end, ready_chunk; /* queued batches of the slice */
} fg__cutter;

void fg__cutter_init(fg__cutter *c, size_t total, size_t n_jobs, size_t prefix_end);
/* The next batch [*start, *start + *len) cut with batch size `batch`, from
 * the prefix (from_input false) or from the whole input; false when that
 * source is exhausted (joblib's dispatch_one_batch returning False). */
bool fg__cutter_next(fg__cutter *c, size_t batch, bool from_input, size_t *start, size_t *len);

/* joblib's AutoBatchingMixin with the target in seconds given. */
typedef struct fg__autobatch {
    size_t size;      /* _effective_batch_size */
    double smoothed;  /* _smoothed_batch_duration, 0: no estimate */
    double min_s, max_s;
} fg__autobatch;

void fg__autobatch_init(fg__autobatch *a, double min_s, double max_s);
/* compute_batch_size: the size to cut now.  *verdict is the smoothed
 * duration when joblib would print "too fast" (> 0) or "too slow" (< 0, the
 * duration negated), else 0. */
size_t fg__autobatch_size(fg__autobatch *a, double *verdict);
/* batch_completed: feed the duration of a batch of `size` tasks. */
void fg__autobatch_completed(fg__autobatch *a, size_t size, double duration_s);

#endif
