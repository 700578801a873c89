/* tests/unit/reaper.c: the process backend's reaper (facade/reaper.c):
 * which workers a map waits for before it forks, that everything handed
 * over is reaped (no zombie) by the close, and that no other child of the
 * application is ever waited for, and that a worker is reaped as soon as
 * it ends, while an older one of the same hand-over still runs.
 *
 * The "workers" here are children that block reading a pipe until the test
 * closes its end, so the test decides when each group ends.  A check that
 * a drain has not returned yet sleeps 50 ms first: a drain that is right
 * can never fail it. */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "reaper.h"

#define GROUPS 3
#define PER 2

static int gate_fd[GROUPS]; /* the test's end of each group's pipe, -1: closed */

/* A group of PER children that end when gate_fd[g] is closed. */
static void fork_group(int g, pid_t pids[PER])
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    gate_fd[g] = fds[1];
    for (int i = 0; i < PER; i++) {
        pids[i] = fork();
        cr_assert_geq(pids[i], 0);
        if (pids[i] == 0) {
            for (int k = 0; k <= g; k++) /* else no end-of-file for the others */
                if (gate_fd[k] >= 0)
                    close(gate_fd[k]);
            char c;
            while (read(fds[0], &c, 1) < 0 && errno == EINTR) {}
            _exit(0);
        }
    }
    close(fds[0]);
}

static void end_group(int g)
{
    close(gate_fd[g]);
    gate_fd[g] = -1;
}

/* Is pid still a child of ours (running or a zombie)? */
static bool is_child(pid_t pid)
{
    siginfo_t info = { 0 };
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/* Is pid gone from /proc (reaped: not even a zombie)? */
static bool gone(pid_t pid)
{
    char path[32];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    return access(path, F_OK) != 0;
}

/* Its state letter in /proc/PID/stat ('Z': a zombie), or 0 if gone. */
static char proc_state(pid_t pid)
{
    char path[32], comm[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int id;
    char state = 0;
    int got = fscanf(f, "%d %63s %c", &id, comm, &state);
    fclose(f);
    return got == 3 ? state : 0;
}

static void nap(void)
{
    struct timespec ms50 = { 0, 50000000 };
    nanosleep(&ms50, NULL);
}

typedef struct {
    fg__reaper *r;
    atomic_bool returned;
} drainer;

static void *drain_older(void *arg)
{
    drainer *d = arg;
    fg__reaper_drain_older(d->r);
    atomic_store(&d->returned, true);
    return NULL;
}

/* A reaper that has taken GROUPS groups of PER children, one hand-over
 * each, all still running. */
static void take_groups(fg__reaper *r, pid_t pids[GROUPS][PER])
{
    fg__reaper_init(r);
    for (int g = 0; g < GROUPS; g++) {
        fork_group(g, pids[g]);
        cr_assert(fg__reaper_take(r, pids[g], PER));
    }
}

Test(reaper, a_map_waits_for_all_but_the_last_maps_workers)
{
    fg__reaper r;
    pid_t pids[GROUPS][PER];
    take_groups(&r, pids);
    drainer d = { &r, false };
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, drain_older, &d), 0);
    nap();
    cr_assert(!atomic_load(&d.returned), "returned while groups 0 and 1 run");
    end_group(0);
    nap();
    cr_assert(!atomic_load(&d.returned), "returned while group 1 runs");
    end_group(1);
    pthread_join(t, NULL);
    for (int g = 0; g < GROUPS; g++)
        for (int i = 0; i < PER; i++)
            cr_assert_eq(is_child(pids[g][i]), g == 2, "group %d, child %d", g, i);
    end_group(2);
    fg__reaper_drain(&r);
    for (int i = 0; i < PER; i++)
        cr_assert(!is_child(pids[2][i]), "child %d of the last group left", i);
    fg__reaper_destroy(&r);
}

Test(reaper, the_close_reaps_everything)
{
    fg__reaper r;
    pid_t pids[GROUPS][PER];
    take_groups(&r, pids);
    for (int g = 0; g < GROUPS; g++)
        end_group(g);
    fg__reaper_destroy(&r);
    for (int g = 0; g < GROUPS; g++)
        for (int i = 0; i < PER; i++)
            cr_assert(!is_child(pids[g][i]), "group %d, child %d left", g, i);
}

/* Another child of the application ends before and after ours: the
 * reaper leaves it (and its status) to the application. */
Test(reaper, other_children_are_not_touched)
{
    pid_t before = fork();
    cr_assert_geq(before, 0);
    if (before == 0)
        _exit(7);
    fg__reaper r;
    fg__reaper_init(&r);
    pid_t pids[PER];
    fork_group(0, pids);
    cr_assert(fg__reaper_take(&r, pids, PER));
    pid_t after = fork();
    cr_assert_geq(after, 0);
    if (after == 0)
        _exit(9);
    end_group(0);
    fg__reaper_destroy(&r);
    int status;
    cr_assert_eq(waitpid(before, &status, 0), before);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7);
    cr_assert_eq(waitpid(after, &status, 0), after);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 9);
}

/* One map's hand-over whose oldest workers (group 0) are held while the
 * newer ones (group 1) end: those are reaped at once, not after group 0. */
Test(reaper, a_worker_that_ended_is_reaped_while_an_older_one_runs)
{
    fg__reaper r;
    fg__reaper_init(&r);
    pid_t held[PER], ended[PER];
    fork_group(0, held);
    fork_group(1, ended);
    pid_t handover[2 * PER] = { held[0], ended[0], held[1], ended[1] };
    cr_assert(fg__reaper_take(&r, handover, 2 * PER));
    end_group(1);
    for (int tries = 0; tries < 200 && !(gone(ended[0]) && gone(ended[1])); tries++)
        nap(); /* at most 10 s; done within a few ms when right */
    for (int i = 0; i < PER; i++) {
        cr_assert(gone(ended[i]), "ended child %d not reaped while the held ones run", i);
        cr_assert(!is_child(ended[i]), "ended child %d is still our child", i);
        cr_assert(is_child(held[i]), "held child %d was waited for", i);
        char state = proc_state(held[i]);
        cr_assert(state != 0 && state != 'Z', "held child %d: state %c", i, state);
    }
    pthread_mutex_lock(&r.lock);
    size_t listed = r.n;
    pthread_mutex_unlock(&r.lock);
    cr_assert_eq(listed, PER, "listed %zu, want the %d held children", listed, PER);
    end_group(0);
    fg__reaper_destroy(&r);
    for (int i = 0; i < PER; i++)
        cr_assert(gone(held[i]) && !is_child(held[i]), "held child %d left", i);
}
