/* seam.h: the façade's one window into the runtime's own headers.
 *
 * The façade (this folder: fg_parallel_for/reduce and the joblib-style
 * fg_parallel_*) is a client of forage.h: it schedules only through
 * fg_join, fg_spawn/fg_sync and the pool queries, and the build gives this
 * folder include/ alone (facade/meson.build;
 * tests/packaging/check_layering.py checks that no other file here reaches
 * into runtime/).  Two things it takes from the runtime are not API and
 * never will be:
 *   - the allocator (runtime/alloc.h): every allocation of the library goes
 *     through one place, so that the fault-injection build fails the
 *     façade's allocations too and names them by function;
 *   - the base utilities (runtime/base.h): the clock and the rule for
 *     structs that carry their size, which hold no runtime state;
 *   - fork and the shared mapping of the process backend (runtime/fork.h):
 *     like allocations, they go through the runtime so that the
 *     fault-injection build can fail them, and fork() through the place
 *     that makes forage fork-safe (its atfork handlers);
 *   - one recording hook (runtime/record.c): fg__record_label names the unit
 *     the calling worker runs, a parallel_for chunk or a façade batch, in
 *     a recording (docs/design/record.md).  Not recording, it costs a
 *     thread-local load and a branch per chunk or batch.
 */
#ifndef FG_FACADE_SEAM_H
#define FG_FACADE_SEAM_H

#include "../runtime/alloc.h"
#include "../runtime/base.h"
#include "../runtime/fork.h"

/* Unit kinds of the recording format (docs/design/record.md). */
#define FG__RECORD_CHUNK 5
#define FG__RECORD_BATCH 6
void fg__record_label(int kind);

#endif
