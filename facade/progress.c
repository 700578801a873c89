/* progress.c: joblib 1.2's verbose lines (parallel.py print_progress and
 * _verbosity_filter, logger.py short_format_time), reproduced exactly so
 * that the SHARED backend prints what joblib prints.  See
 * docs/design/facade.md and docs/reference/joblib.md.
 * Callers serialise calls with their own lock; lines are written whole
 * under the printer's lock. */
#include "progress.h"

#include <math.h>
#include <stdarg.h>

void fg__printer_init(fg__printer *p, FILE *log, int verbose, int n_jobs_requested)
{
    p->out = log != NULL ? log : verbose >= 50 ? stdout : stderr;
    p->verbose = verbose;
    p->n_jobs_requested = n_jobs_requested;
    pthread_mutex_init(&p->lock, NULL);
}

void fg__printer_destroy(fg__printer *p)
{
    pthread_mutex_destroy(&p->lock);
}

void fg__printer_line(fg__printer *p, const char *fmt, ...)
{
    char line[512];
    int n = snprintf(line, sizeof line, "[Parallel(n_jobs=%d)]: ", p->n_jobs_requested);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    pthread_mutex_lock(&p->lock);
    fwrite(line, 1, (size_t)n, p->out);
    fflush(p->out);
    pthread_mutex_unlock(&p->lock);
}

void fg__format_time(double seconds, char out[32])
{
    if (seconds > 60)
        snprintf(out, 32, "%4.1fmin", seconds / 60);
    else
        snprintf(out, 32, " %5.1fs", seconds);
}

bool fg__verbosity_filter(size_t index, int verbose)
{
    if (verbose == 0)
        return true;
    if (verbose > 10 || index == 0)
        return false;
    double c = .5 * (11 - verbose) * (11 - verbose);
    return (long)sqrt((double)(index + 1) / c) == (long)sqrt((double)index / c);
}

void fg__print_progress(fg__printer *p, const fg__progress_state *s, double now_s)
{
    if (p->verbose == 0)
        return;
    char elapsed[32];
    fg__format_time(now_s - s->start_s, elapsed);
    if (s->input_left) { /* phase A: the input is not exhausted */
        if (fg__verbosity_filter(s->dispatched_batches, p->verbose))
            return;
        fg__printer_line(p, "Done %3zu tasks      | elapsed: %s", s->completed_tasks, elapsed);
        return;
    }
    /* phase B: cursor/frequency rule on the dispatched total */
    size_t index = s->completed_tasks, total = s->dispatched_tasks;
    if (index != 0) {
        long long cursor = (long long)total - (long long)index + 1 - (long long)s->pre_dispatch;
        long long frequency = (long long)(total / (size_t)p->verbose) + 1;
        if (index + 1 == total || cursor % frequency != 0)
            return;
    }
    double t = now_s - s->start_s;
    char remaining[32];
    fg__format_time(index != 0 ? t / (double)index * (double)(total - index) : 0.0, remaining);
    fg__printer_line(p, "Done %3zu out of %3zu | elapsed: %s remaining: %s", index, total,
                     elapsed, remaining);
}
