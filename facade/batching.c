/* batching.c: joblib 1.2's batch cutting and auto batch size, for one
 * thread at a time (callers hold their dispatch lock).
 *
 * Cutting (parallel.py dispatch_one_batch, l.838-902): when no batch is
 * queued, slice big = batch * n_jobs tasks from the source; at the real end
 * of the input (fewer than big left) cut the slice into pieces of
 * max(1, len / (10 * n_jobs)), else max(1, len / n_jobs); queue them and
 * hand out the first.  The pre_dispatch prefix is a different source whose
 * end is never "the real end", which is why joblib's first batches hold 2
 * tasks with the default pre_dispatch = 2 * n_jobs.
 *
 * Auto size (_parallel_backends.py AutoBatchingMixin, l.263-367): start at
 * 1; an exponential moving average (0.8 old + 0.2 new) of the durations of
 * batches of the current size; below min_s grow toward min_s (at most
 * doubling), above max_s shrink; every change resets the average.  joblib's
 * targets are 0.2 s and 2 s for Python; forage uses FG_BATCH_AUTO_MIN_S /
 * _MAX_S (0.2 ms and 2 ms), where its per-batch cost is well under 1%.
 */
#include "batching.h"

void fg__cutter_init(fg__cutter *c, size_t total, size_t n_jobs, size_t prefix_end)
{
    *c = (fg__cutter){ .total = total, .n_jobs = n_jobs,
                       .prefix_end = prefix_end < total ? prefix_end : total };
}

bool fg__cutter_next(fg__cutter *c, size_t batch, bool from_input, size_t *start, size_t *len)
{
    if (c->ready_start == c->ready_end) {
        size_t big = batch * c->n_jobs;
        size_t end = from_input ? c->total : c->prefix_end;
        size_t take = end > c->pos ? end - c->pos : 0;
        if (take > big)
            take = big;
        if (take == 0)
            return false;
        size_t chunk = from_input && take < big ? take / (10 * c->n_jobs) : take / c->n_jobs;
        c->ready_start = c->pos;
        c->ready_end = c->pos + take;
        c->ready_chunk = chunk > 0 ? chunk : 1;
        c->pos += take;
    }
    *start = c->ready_start;
    *len = c->ready_end - c->ready_start < c->ready_chunk ? c->ready_end - c->ready_start
                                                          : c->ready_chunk;
    c->ready_start += *len;
    return true;
}

void fg__autobatch_init(fg__autobatch *a, double min_s, double max_s)
{
    *a = (fg__autobatch){ .size = 1, .smoothed = 0.0, .min_s = min_s, .max_s = max_s };
}

size_t fg__autobatch_size(fg__autobatch *a, double *verdict)
{
    size_t old = a->size, size = old;
    double d = a->smoothed;
    *verdict = 0.0;
    if (d > 0 && d < a->min_s) {
        size_t ideal = (size_t)((double)old * a->min_s / d) * 2;
        size = ideal < 2 * old ? ideal : 2 * old;
        if (size < 1)
            size = 1;
        *verdict = d;
    } else if (d > a->max_s && old >= 2) {
        size = 2 * (size_t)((double)old * a->min_s / d);
        if (size < 1)
            size = 1;
        *verdict = -d;
    }
    if (size != old) {
        a->size = size;
        a->smoothed = 0.0;
    }
    return size;
}

void fg__autobatch_completed(fg__autobatch *a, size_t size, double duration_s)
{
    if (size != a->size)
        return;
    a->smoothed = a->smoothed == 0.0 ? duration_s : 0.8 * a->smoothed + 0.2 * duration_s;
}
