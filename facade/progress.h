/* progress.h: joblib 1.2's verbose output, byte for byte.  See progress.c. */
#ifndef FG_PROGRESS_H
#define FG_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "forage.h"

#include "seam.h"

typedef struct fg__printer {
    FILE *out;            /* joblib: stderr below verbose 50, stdout from 50 */
    int verbose;
    int n_jobs_requested; /* shown in the prefix as the user passed it */
    pthread_mutex_t lock; /* one line at a time, whole lines */
} fg__printer;

/* joblib's progress counters for one call (Parallel's n_dispatched_* and
 * n_completed_tasks), plus what print_progress needs to choose a line. */
typedef struct fg__progress_state {
    size_t dispatched_batches, dispatched_tasks, completed_tasks, total;
    size_t pre_dispatch;  /* pre_dispatch amount, in tasks */
    bool input_left;      /* joblib's `_original_iterator is not None` */
    double start_s;
} fg__progress_state;

void fg__printer_init(fg__printer *p, FILE *log, int verbose, int n_jobs_requested);
void fg__printer_destroy(fg__printer *p);
/* One line: "[Parallel(n_jobs=N)]: " + the formatted message + "\n". */
void fg__printer_line(fg__printer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* joblib's short_format_time: " %5.1fs", or "%4.1fmin" above 60 s. */
void fg__format_time(double seconds, char out[32]);
/* joblib's _verbosity_filter: true means "do not print". */
bool fg__verbosity_filter(size_t index, int verbose);
/* joblib's print_progress, called after each completed batch. */
void fg__print_progress(fg__printer *p, const fg__progress_state *s, double now_s);

/* The façade's clock, in seconds (base.h's monotonic clock). */
static inline double fg__now_s(void)
{
    return (double)fg__clock_ns() * 1e-9;
}

#endif
