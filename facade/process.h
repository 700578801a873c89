/* process.h: the process backend, joblib's loky role.  See process.c. */
#ifndef FG_PROCESS_H
#define FG_PROCESS_H

#include "forked.h"
#include "map.h"

/* Run map m on n_jobs forked worker processes.  Task failures, crashes
 * and timeouts land in m (fail_index, fail_code, term_signal, exit_status,
 * tasks_run); returns 0 or a negative code with nothing run (FG_ENOMEM,
 * FG_EAGAIN). */
int fg__process_run(fg__map *m);

/* The region an fg_parallel keeps between its process maps (process.c,
 * "The kept region"): set up at open, unmapped at close. */
void fg__process_region_init(fg__proc_region *r);
void fg__process_region_destroy(fg__proc_region *r);
/* For tests: how many regions par's maps have mapped so far, and the size
 * above which a region is not kept (FG__PROC_REGION_CAP at open). */
size_t fg__process_regions_mapped(fg_parallel *par);
void fg__process_region_set_cap(fg_parallel *par, size_t cap);
/* For tests: how many of par's maps gave their workers a results view
 * (process.c, "The results view"). */
size_t fg__process_views(fg_parallel *par);

#endif
