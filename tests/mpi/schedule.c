/* tests/mpi/schedule.c: mpi/schedule.c's arithmetic, no MPI needed.
 *   - fixed batch sizes: the closed-form batches equal the façade's cut
 *     (facade/batching.c's fg__cutter over the whole input, n_jobs = all
 *     workers), batch by batch, for many sizes;
 *   - 'auto': one task per unit;
 *   - chunks: contiguous, cover every unit once, never grow, the first is
 *     half the work over the ranks, their number stays within factoring's
 *     bound P * (log2(N / 2P) + 3); an exact small table;
 *   - no chunk beyond 2^30 tasks. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "batching.h"
#include "schedule.h"

static int failures;
#define CHECK(cond, ...)                                                            \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                           \
            fputc('\n', stderr);                                                    \
            failures++;                                                             \
        }                                                                           \
    } while (0)

static void against_cutter(size_t total, size_t batch, size_t workers, size_t ranks)
{
    fg__mpi_schedule s;
    CHECK(fg__mpi_schedule_init(&s, total, batch, workers, ranks) == 0, "init");
    fg__cutter c;
    fg__cutter_init(&c, total, workers, 0);
    size_t u = 0, start, len;
    while (fg__cutter_next(&c, batch, true, &start, &len)) {
        CHECK(fg__mpi_unit_start(&s, u) == start && fg__mpi_unit_start(&s, u + 1) == start + len,
              "total %zu batch %zu workers %zu: batch %zu is [%zu, %zu), the cutter says "
              "[%zu, %zu)", total, batch, workers, u, fg__mpi_unit_start(&s, u),
              fg__mpi_unit_start(&s, u + 1), start, start + len);
        u++;
    }
    CHECK(u == s.units, "total %zu batch %zu workers %zu: %zu units, the cutter cut %zu", total,
          batch, workers, s.units, u);
    CHECK(fg__mpi_unit_start(&s, s.units) == total, "end");
    fg__mpi_schedule_free(&s);
}

static void chunks(size_t total, size_t batch, size_t workers, size_t ranks)
{
    fg__mpi_schedule s;
    CHECK(fg__mpi_schedule_init(&s, total, batch, workers, ranks) == 0, "init");
    CHECK(s.chunk_start[0] == 0 && s.chunk_start[s.nchunks] == s.units, "covers");
    size_t prev = SIZE_MAX;
    for (size_t j = 0; j < s.nchunks; j++) {
        size_t size = s.chunk_start[j + 1] - s.chunk_start[j];
        CHECK(size >= 1 && size <= prev, "chunk %zu: %zu units after %zu", j, size, prev);
        CHECK(fg__mpi_unit_start(&s, s.chunk_start[j + 1]) - fg__mpi_unit_start(&s, s.chunk_start[j]) <=
                  FG__MPI_CHUNK_TASKS_MAX, "chunk %zu too long", j);
        prev = size;
    }
    if (s.units > 0) {
        size_t first = (s.units + 2 * ranks - 1) / (2 * ranks);
        size_t cap = FG__MPI_CHUNK_TASKS_MAX / s.batch;
        first = first < cap ? first : cap;
        CHECK(s.chunk_start[1] == first, "first chunk %zu, expected %zu", s.chunk_start[1], first);
        double bound = (double)ranks * (log2((double)s.units / (2.0 * (double)ranks) + 1) + 3);
        if (first < cap)
            CHECK((double)s.nchunks <= bound, "units %zu ranks %zu: %zu chunks > %.0f", s.units,
                  ranks, s.nchunks, bound);
    } else {
        CHECK(s.nchunks == 0, "no units, %zu chunks", s.nchunks);
    }
    fg__mpi_schedule_free(&s);
}

int main(void)
{
    const size_t totals[] = { 0, 1, 2, 3, 7, 100, 1000, 10007, 40000, 123457 };
    const size_t batches[] = { 1, 2, 7, 100, 1000, 5000 };
    const size_t workers[] = { 1, 2, 3, 4, 8, 16, 64 };
    for (size_t t = 0; t < sizeof totals / sizeof *totals; t++)
        for (size_t b = 0; b < sizeof batches / sizeof *batches; b++)
            for (size_t w = 0; w < sizeof workers / sizeof *workers; w++) {
                against_cutter(totals[t], batches[b], workers[w], 1 + workers[w] / 2);
                for (size_t ranks = 1; ranks <= 64; ranks *= 4)
                    chunks(totals[t], batches[b], workers[w], ranks);
            }
    /* 'auto': units are tasks. */
    fg__mpi_schedule s;
    CHECK(fg__mpi_schedule_init(&s, 1000, 0, 4, 2) == 0, "init");
    CHECK(s.units == 1000 && s.batch == 1, "auto: %zu units", s.units);
    for (size_t u = 0; u <= 1000; u++)
        CHECK(fg__mpi_unit_start(&s, u) == u, "auto: unit %zu", u);
    fg__mpi_schedule_free(&s);
    chunks(1000, 0, 4, 3);
    /* The demo's table: 40 batches, 2 ranks. */
    CHECK(fg__mpi_schedule_init(&s, 40000, 1000, 4, 2) == 0, "init");
    const size_t expect[] = { 10, 10, 5, 5, 3, 3, 1, 1, 1, 1 };
    CHECK(s.nchunks == 10, "demo: %zu chunks", s.nchunks);
    for (size_t j = 0; j < 10 && j < s.nchunks; j++)
        CHECK(s.chunk_start[j + 1] - s.chunk_start[j] == expect[j], "demo: chunk %zu", j);
    fg__mpi_schedule_free(&s);
    /* 2^33 tasks of batch 1 on one rank: chunks capped at 2^30 tasks. */
    CHECK(fg__mpi_schedule_init(&s, (size_t)1 << 33, 1, 1, 1) == 0, "init");
    CHECK(s.chunk_start[1] == FG__MPI_CHUNK_TASKS_MAX, "cap: first chunk %zu", s.chunk_start[1]);
    fg__mpi_schedule_free(&s);
    chunks((size_t)1 << 33, 1, 1, 1);
    printf("mpi-schedule: %s (%d failed checks)\n", failures ? "FAILED" : "ok", failures);
    return failures != 0;
}
