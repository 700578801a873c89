/* fork.h: forage across fork() (pthread_atfork handlers), and the three
 * system resources the façade's process backend acquires, fork, a shared
 * mapping and its reaper thread, behind the fault-injection hooks like
 * every allocation.
 * See fork.c and docs/design/process.md. */
#ifndef FG_FORK_H
#define FG_FORK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Register the atfork handlers (once per process; idempotent). */
void fg__fork_register(void);
/* How many fork()s separate this process from its first ancestor that
 * used forage: a pool remembers the generation it was created in. */
unsigned fg__fork_generation(void);

/* fork() for the process backend: -1 with errno set and
 * fg_last_error_detail saying why on failure (the hooked test build can
 * make it fail as EAGAIN), else as fork(). */
pid_t fg__fork(void);
/* An anonymous MAP_SHARED mapping of `size` bytes, zero-filled, that
 * forked children share with the caller; NULL on failure (errno). */
void *fg__map_shared(size_t size);
void fg__unmap_shared(void *p, size_t size);
/* pthread_create for a thread of the façade's own (the process backend's
 * reaper), with every signal blocked in it: signals for the process stay
 * with the application's threads.  0 or an error number. */
int fg__thread_create(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
