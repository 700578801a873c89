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

#endif
