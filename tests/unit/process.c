/* tests/unit/process.c: the process backend (facade/process.c,
 * docs/design/process.md) and forage across fork() (runtime/fork.c).
 *
 * Tasks run in forked workers, so they cannot count into this process's
 * memory: they write results (which come back by value) or, where a test
 * needs workers to talk to each other, use a MAP_SHARED page the test maps
 * itself.  Every check runs in the caller after the call returned.
 *
 * Under AddressSanitizer the crash rows need the kernel's own verdict on
 * SIGSEGV and SIGBUS rather than ASan's report: this binary asks ASan not
 * to handle them (__asan_default_options below). */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forage.h"
#include "iter.h"
#include "process.h"
#include "../../examples/seed_task.h"

#ifndef FG_GOLDEN_DIR
#error "FG_GOLDEN_DIR must name tests/golden/joblib (see tests/unit/meson.build)"
#endif

#if defined(__SANITIZE_ADDRESS__)
#  define UNDER_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define UNDER_ASAN 1
#  endif
#endif
#ifdef UNDER_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "handle_segv=0:handle_sigbus=0"; }
#endif

/* Tasks crash on purpose here: no core files. */
static void no_cores(void)
{
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
}

TestSuite(process, .init = no_cores, .timeout = 120);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static fg_parallel *proc_open(int n_jobs, long batch, double timeout)
{
    fg_parallel *p = NULL;
    int err = fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = n_jobs, .batch_size = batch,
                                                    .backend = FG_BACKEND_PROCESS,
                                                    .timeout = timeout));
    cr_assert_eq(err, 0, "fg_parallel_open: %s", fg_strerror(err));
    return p;
}

static uint64_t f_of(size_t i)
{
    uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29) ^ 0x5bd1e995u;
}

static int task_f(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = f_of(i);
    return 0;
}

/* A page shared with the workers, for tests whose tasks talk. */
static void *shared_page(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(p, MAP_FAILED);
    return p;
}

/* ------------------------------------------- results in index order */

Test(process, million_results_in_order)
{
    const size_t n = 1000000, begin = 17;
    static const long batches[] = { 1, 7, 1000, FG_BATCH_AUTO };
    uint64_t *res = malloc(n * sizeof *res);
    cr_assert_not_null(res);
    for (size_t b = 0; b < NELEM(batches); b++) {
        memset(res, 0, n * sizeof *res);
        fg_parallel *p = proc_open(2, batches[b], 0);
        fg_error_info info = FG_ERROR_INFO_INIT();
        int rc = fg_parallel_map(p, (fg_delayed){ task_f, NULL, sizeof(uint64_t) }, begin,
                                 begin + n, res, &info);
        fg_parallel_close(p);
        cr_assert_eq(rc, 0, "batch %ld: %s", batches[b], fg_strerror(rc));
        cr_assert_eq(info.tasks_run, n, "batch %ld: tasks_run %zu", batches[b], info.tasks_run);
        for (size_t k = 0; k < n; k++)
            if (res[k] != f_of(begin + k))
                cr_assert_fail("batch %ld: result %zu is %llu, want %llu", batches[b], k,
                               (unsigned long long)res[k], (unsigned long long)f_of(begin + k));
    }
    free(res);
}

/* The caller's memory as it was at the call, through ctx; the task's
 * writes to it stay in the worker. */
typedef struct cow_ctx {
    uint64_t base;
    uint64_t scribble;
} cow_ctx;

static int task_cow(size_t i, void *ctx, void *result)
{
    cow_ctx *c = ctx;
    c->scribble += 1; /* the worker's copy */
    *(uint64_t *)result = c->base + i;
    return 0;
}

Test(process, sees_memory_at_the_call_and_writes_stay_there)
{
    cow_ctx c = { 1000, 0 };
    uint64_t res[64];
    fg_parallel *p = proc_open(2, 4, 0);
    for (int call = 0; call < 3; call++) {
        c.base = 1000u * (unsigned)(call + 1);
        cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_cow, &c, 8 }, 0, 64, res, NULL), 0);
        for (size_t i = 0; i < 64; i++)
            cr_assert_eq(res[i], c.base + i);
        cr_assert_eq(c.scribble, 0, "a task's write reached the caller");
    }
    fg_parallel_close(p);
}

/* Each worker process runs on one CPU of the caller's mask when there are
 * enough, a different one per worker (forked.c, fg__forked_bind). */
static int task_cpus(size_t i, void *ctx, void *result)
{
    (void)i;
    (void)ctx;
    cpu_set_t set;
    int *r = result;
    r[0] = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
    r[1] = fg_worker_index();
    r[2] = -1;
    for (int c = 0; c < CPU_SETSIZE && r[2] < 0; c++)
        if (CPU_ISSET(c, &set))
            r[2] = c;
    return 0;
}

Test(process, each_worker_process_runs_on_its_own_cpu)
{
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    int count = CPU_COUNT(&set), n_jobs = count >= 2 ? 2 : 1, cpu[2] = { -1, -1 };
    for (int c = 0, k = 0; c < CPU_SETSIZE && k < 2; c++)
        if (CPU_ISSET(c, &set))
            cpu[k++] = c;
    fg_parallel *p = proc_open(n_jobs, 1, 0);
    int r[64][3];
    cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_cpus, NULL, sizeof r[0] }, 0, 64, r, NULL), 0);
    for (size_t i = 0; i < 64; i++) {
        cr_assert_eq(r[i][0], 1, "task %zu: %d CPUs", i, r[i][0]);
        cr_assert(r[i][1] >= 0 && r[i][1] < n_jobs);
        cr_assert_eq(r[i][2], cpu[r[i][1]], "task %zu on worker %d ran on CPU %d", i, r[i][1], r[i][2]);
    }
    setenv("FORAGE_BIND", "none", 1);
    cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_cpus, NULL, sizeof r[0] }, 0, 64, r, NULL), 0);
    unsetenv("FORAGE_BIND");
    for (size_t i = 0; i < 64; i++)
        cr_assert_eq(r[i][0], count);
    fg_parallel_close(p);
}

/* prefer picks the backend when none is named; the worker index is the
 * worker's. */
static int task_index(size_t i, void *ctx, void *result)
{
    (void)i;
    (void)ctx;
    *(int *)result = fg_worker_index();
    return 0;
}

Test(process, prefer_and_worker_index)
{
    fg_parallel *p = NULL;
    fg_parallel_opts o = FG_PARALLEL_OPTS_INIT();
    cr_assert_eq(fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = 3,
                                                       .prefer = FG_PREFER_PROCESSES)), 0);
    cr_assert_eq(fg_parallel_get_opts(p, &o), 3);
    cr_assert_eq(o.backend, FG_BACKEND_PROCESS);
    cr_assert_null(o.pool);
    int idx[300];
    cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_index, NULL, sizeof(int) }, 0, 300, idx,
                                 NULL), 0);
    for (size_t i = 0; i < 300; i++)
        cr_assert(idx[i] >= 0 && idx[i] < 3, "task %zu saw worker index %d", i, idx[i]);
    fg_parallel_close(p);
    cr_assert_eq(fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = 2,
                                                       .prefer = FG_PREFER_THREADS)), 0);
    cr_assert_eq(fg_parallel_get_opts(p, &o), 2);
    cr_assert_eq(o.backend, FG_BACKEND_STEAL);
    fg_parallel_close(p);
}

/* fg_parallel_calls runs on processes when results are not asked for. */
static int call_fail_at_5(void *arg, void *result)
{
    (void)result;
    return (int)(intptr_t)arg == 5 ? 77 : 0;
}

Test(process, calls_without_results)
{
    fg_call calls[12];
    for (int i = 0; i < 12; i++)
        calls[i] = (fg_call){ call_fail_at_5, (void *)(intptr_t)i, NULL };
    fg_parallel *p = proc_open(2, 1, 0);
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_calls(p, calls, 12, &info), 77);
    cr_assert_eq(info.index, 5);
    cr_assert_eq(info.code, 77);
    cr_assert_eq(info.term_signal, 0);
    int sink;
    calls[3].result = &sink;
    cr_assert_eq(fg_parallel_calls(p, calls, 12, NULL), FG_EINVAL);
    fg_parallel_close(p);
}

/* ------------------------------------------------------ crash table */

enum { FAIL_AT = 101, CRASH_N = 400 };

typedef enum death { SEGV, BUS, ABORT, EXIT3, KILLED, ENDLESS, RETURN9 } death;

typedef struct crash_ctx {
    death how;
    _Atomic pid_t *victim; /* KILLED: task FAIL_AT publishes its pid here */
    atomic_int *killed;
} crash_ctx;

static void die(crash_ctx *c)
{
    switch (c->how) {
    case SEGV: {
        volatile char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        page[0] = 1;
        break;
    }
    case BUS: { /* past the end of a file that has no such page */
        FILE *f = tmpfile();
        volatile char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fileno(f), 0);
        page[0] = 1;
        break;
    }
    case ABORT:
        abort();
    case EXIT3:
        _exit(3);
    case KILLED:
        atomic_store(c->victim, getpid());
        for (;;)
            pause();
    case ENDLESS:
        for (volatile unsigned long x = 0;; x++) {}
    case RETURN9:
        break;
    }
}

static int task_crash(size_t i, void *ctx, void *result)
{
    crash_ctx *c = ctx;
    if (i == FAIL_AT) {
        die(c);
        return 9; /* RETURN9, the thread backends' kind of failure */
    }
    if (c->how == KILLED && i > FAIL_AT && atomic_exchange(c->killed, 1) == 0) {
        pid_t victim;
        while ((victim = atomic_load(c->victim)) == 0)
            sched_yield();
        kill(victim, SIGKILL); /* a sibling kills the worker running FAIL_AT */
    }
    *(uint64_t *)result = f_of(i);
    return 0;
}

Test(process, crash_table)
{
    static const struct {
        const char *what;
        death how;
        double timeout;
        int code, sig, status;
    } rows[] = {
        { "segfault", SEGV, 0, FG_ECRASHED, SIGSEGV, 0 },
        { "bus error", BUS, 0, FG_ECRASHED, SIGBUS, 0 },
        { "abort()", ABORT, 0, FG_ECRASHED, SIGABRT, 0 },
        { "_exit(3)", EXIT3, 0, FG_ECRASHED, 0, 3 },
        { "SIGKILL from a sibling", KILLED, 0, FG_ECRASHED, SIGKILL, 0 },
        { "endless loop, timeout 0.3 s", ENDLESS, 0.3, FG_ETIMEDOUT, SIGKILL, 0 },
        { "return 9 (not a death)", RETURN9, 0, 9, 0, 0 },
    };
    _Atomic pid_t *victim = shared_page();
    atomic_int *killed = (atomic_int *)(victim + 16);
    uint64_t res[CRASH_N];
    for (size_t r = 0; r < NELEM(rows); r++) {
        atomic_store(victim, 0);
        atomic_store(killed, 0);
        memset(res, 0xAB, sizeof res);
        fg_parallel *p = proc_open(2, 1, rows[r].timeout);
        crash_ctx c = { rows[r].how, victim, killed };
        fg_error_info info = FG_ERROR_INFO_INIT();
        int rc = fg_parallel_map(p, (fg_delayed){ task_crash, &c, 8 }, 0, CRASH_N, res, &info);
        cr_log_info("crash table: %-28s -> %s index %zu signal %d status %d tasks_run %zu",
                    rows[r].what, fg_error_name(rc), info.index, info.term_signal,
                    info.exit_status, info.tasks_run);
        cr_assert_eq(rc, rows[r].code, "%s: returned %s", rows[r].what, fg_error_name(rc));
        cr_assert_eq(info.code, rows[r].code, "%s: info.code %s", rows[r].what,
                     fg_error_name(info.code));
        cr_assert_eq(info.index, FAIL_AT, "%s: index %zu", rows[r].what, info.index);
        cr_assert_eq(info.term_signal, rows[r].sig, "%s: signal %d", rows[r].what,
                     info.term_signal);
        cr_assert_eq(info.exit_status, rows[r].status, "%s: status %d", rows[r].what,
                     info.exit_status);
        cr_assert_geq(info.tasks_run, FAIL_AT + 1u, "%s: tasks_run %zu", rows[r].what,
                      info.tasks_run);
        for (size_t i = 0; i < FAIL_AT; i++)
            cr_assert_eq(res[i], f_of(i), "%s: result %zu below the failure", rows[r].what, i);
        uint64_t untouched;
        memset(&untouched, 0xAB, sizeof untouched);
        cr_assert_eq(res[FAIL_AT], untouched, "%s: the failed task has a result", rows[r].what);
        /* The next call on the same façade works. */
        cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, CRASH_N, res, NULL),
                     0, "%s: the next call", rows[r].what);
        for (size_t i = 0; i < CRASH_N; i++)
            cr_assert_eq(res[i], f_of(i));
        fg_parallel_close(p);
    }
    munmap((void *)victim, 4096);
}

/* Workers holding batches past the failure are stopped: a task after it
 * that would run for a minute does not delay the call. */
static int task_slow_after(size_t i, void *ctx, void *result)
{
    (void)ctx;
    if (i == 10)
        abort();
    if (i > 10)
        sleep(60);
    *(uint64_t *)result = i;
    return 0;
}

Test(process, batches_past_a_death_are_killed)
{
    uint64_t res[64];
    fg_parallel *p = proc_open(2, 1, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_slow_after, NULL, 8 }, 0, 64, res, &info),
                 FG_ECRASHED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_eq(info.index, 10);
    cr_assert_eq(info.term_signal, SIGABRT);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    cr_assert_lt(s, 30.0, "the call waited %.1f s for work past the failure", s);
    fg_parallel_close(p);
}

/* --------------------------------------------------------- goldens */

typedef struct lines {
    char *v[256];
    size_t n;
} lines;

/* Lines of text with every " elapsed: <time>" and "remaining: <time>"
 * replaced by "<T>" (a joblib time: " %5.1fs" or "%4.1fmin", 7 chars). */
static void lines_of(char *text, lines *l)
{
    l->n = 0;
    for (char *s = strtok(text, "\n"); s != NULL && l->n < NELEM(l->v); s = strtok(NULL, "\n")) {
        static const char *const keys[] = { "elapsed: ", "remaining: " };
        for (size_t k = 0; k < 2; k++) {
            char *at = strstr(s, keys[k]);
            if (at != NULL && strncmp(at + strlen(keys[k]), "<T>", 3) != 0) {
                char *t = at + strlen(keys[k]);
                cr_assert(strlen(t) >= 7, "bad time in [%s]", s);
                cr_assert(t[6] == 's' || strncmp(t + 4, "min", 3) == 0, "bad time in [%s]", s);
                memmove(t + 3, t + 7, strlen(t + 7) + 1);
                memcpy(t, "<T>", 3);
            }
        }
        l->v[l->n++] = s;
    }
}

static char *golden_text(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", FG_GOLDEN_DIR, name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    char *text = NULL;
    size_t cap = 0;
    FILE *out = open_memstream(&text, &cap);
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        cr_assert(strncmp(line, "E| ", 3) == 0, "%s: not a stderr line: %s", path, line);
        char *at = strstr(line, "LokyBackend");
        if (at != NULL) {
            fwrite(line + 3, 1, (size_t)(at - line - 3), out);
            fputs("ProcessBackend", out);
            fputs(at + strlen("LokyBackend"), out);
        } else {
            fputs(line + 3, out);
        }
    }
    fclose(f);
    fclose(out);
    return text;
}

typedef struct rec {
    size_t done[256];
    size_t n;
} rec;

static void on_progress(const fg_progress *p, void *ctx)
{
    rec *r = ctx;
    if (r->n < NELEM(r->done))
        r->done[r->n++] = p->tasks_done;
}

/* As tests/unit/parallel.c's SHARED comparison: the lines are a function
 * of the order of completed batch sizes; the goldens' deterministic part
 * assumes the prefix's 2-task batches complete first and then 1000-task
 * batches up to the cut-off.  A run whose order differs (a worker
 * preempted) is retried. */
static void process_vs_golden(int n_jobs, int verbose, const char *golden, size_t cutoff)
{
    const size_t n = 40000;
    char *want_text = golden_text(golden);
    lines want;
    lines_of(want_text, &want);
    uint64_t *res = calloc(n, sizeof *res);
    int attempt;
    for (attempt = 1; attempt <= 6; attempt++) {
        char *text = NULL;
        size_t len = 0;
        FILE *log = open_memstream(&text, &len);
        rec r = { .n = 0 };
        fg_parallel *p = NULL;
        cr_assert_eq(fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = n_jobs, .batch_size = 1000,
                                                           .verbose = verbose, .log = log,
                                                           .backend = FG_BACKEND_PROCESS,
                                                           .on_progress = on_progress,
                                                           .progress_ctx = &r)), 0);
        int rc = fg_parallel_map(p, (fg_delayed){ my_task_delayed, NULL, 8 }, 0, n, res, NULL);
        fg_parallel_close(p);
        fclose(log);
        cr_assert_eq(rc, 0);
        cr_assert_eq(seed_checksum(res, n), seed_reference_checksum(n), "checksum");
        bool canonical = true;
        for (size_t c = 0, done = 0; c < r.n && r.done[c] <= cutoff; c++) {
            size_t size = r.done[c] - done;
            done = r.done[c];
            canonical &= size == (c < (size_t)n_jobs ? 2u : 1000u);
        }
        lines got;
        lines_of(text, &got);
        if (canonical) {
            size_t i = 0;
            for (; i < want.n && i < got.n; i++) {
                const char *d = strstr(want.v[i], "]: Done ");
                size_t wn;
                char word[16];
                if (i > 0 && (d == NULL || sscanf(d + 8, "%zu %15s", &wn, word) != 2 ||
                              strcmp(word, "tasks") != 0 || wn > cutoff))
                    break;
                cr_assert_str_eq(got.v[i], want.v[i], "%s line %zu", golden, i + 1);
            }
            cr_assert_gt(i, 1u);
            long diff = (long)got.n - (long)want.n;
            cr_assert(diff >= -2 && diff <= 2, "%s: %zu lines, golden %zu", golden, got.n, want.n);
            cr_assert_str_eq(got.v[got.n - 1], want.v[want.n - 1], "%s: last line", golden);
        } else {
            cr_log_info("%s attempt %d: completion order not canonical, retrying", golden, attempt);
        }
        free(text);
        if (canonical)
            break;
        usleep(100000u * (unsigned)attempt);
    }
    cr_assert_leq(attempt, 6, "%s: six runs, none completed in joblib's order", golden);
    free(res);
    free(want_text);
}

Test(process, golden_loky_j4_b1000_v10)
{
    process_vs_golden(4, 10, "loky_j4_b1000_v10.txt", 33008);
}

Test(process, golden_loky_j2_b1000_v10)
{
    process_vs_golden(2, 10, "loky_j2_b1000_v10.txt", 37004);
}

Test(process, golden_loky_j2_b1000_v5)
{
    process_vs_golden(2, 5, "loky_j2_b1000_v5.txt", 37004);
}

/* ------------------------------------------- leaks after 1000 calls */

/* Processes (running, exiting or zombies) whose parent is `parent`. */
static int count_children_of(pid_t parent)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return -1;
    int n = 0;
    pid_t me = parent;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *close_paren = strrchr(buf, ')');
        int ppid;
        char state;
        if (close_paren != NULL && sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2 &&
            ppid == me)
            n++;
    }
    closedir(d);
    return n;
}

static int count_children(void)
{
    int n = count_children_of(getpid());
    cr_assert_geq(n, 0, "cannot read /proc");
    return n;
}

/* Is fd a pidfd?  The reaper holds one per worker still exiting.  -1: fd
 * is not open (any more: the reaper closes a pidfd when it reaps). */
static int is_pidfd(int fd)
{
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0)
        return -1;
    link[n] = '\0';
    return strstr(link, "pidfd") != NULL;
}

/* The open fds but pidfds, which come and go with the workers that the
 * reaper has not reaped yet (pidfds_open() counts them). */
static char *fd_set_of(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int fds[1024], n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 1024)
        if (e->d_name[0] != '.' && is_pidfd(atoi(e->d_name)) == 0)
            fds[n++] = atoi(e->d_name);
    closedir(d);
    for (int i = 0; i < n; i++) /* insertion sort: a few dozen */
        for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
            int t = fds[j];
            fds[j] = fds[j - 1];
            fds[j - 1] = t;
        }
    for (int i = 0; i < n; i++)
        fprintf(out, "%d ", fds[i]);
    fclose(out);
    return text;
}

/* How many pidfds are open. */
static int pidfds_open(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.' && is_pidfd(atoi(e->d_name)) == 1;
    closedir(d);
    return n;
}

/* Lines of /proc/self/maps, all of them or the shared ones ("rw-s"). */
static int maps_lines(bool shared_only)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += !shared_only || strstr(line, " rw-s ") != NULL;
    fclose(f);
    return n;
}

static int task_crash_some(size_t i, void *ctx, void *result)
{
    size_t call = *(size_t *)ctx;
    if (call % 50 == 7 && i == 13)
        abort();
    *(uint64_t *)result = f_of(i);
    return 0;
}

Test(process, no_zombies_fds_or_mappings_after_1000_calls, .timeout = 300)
{
    uint64_t res[64];
    size_t call = 0;
    int children = count_children();
    int shared_before = maps_lines(true);
    fg_parallel *p = proc_open(2, FG_BATCH_AUTO, 0);
    fg_delayed d = { task_crash_some, &call, 8 };
    cr_assert_eq(fg_parallel_map(p, d, 0, 64, res, NULL), 0); /* warm-up */
    char *fds = fd_set_of();
    int maps = maps_lines(false), shared = maps_lines(true);
    int crashed = 0;
    for (call = 1; call <= 1000; call++) {
        int rc = fg_parallel_map(p, d, 0, 64, res, NULL);
        crashed += rc == FG_ECRASHED;
        cr_assert(rc == 0 || (rc == FG_ECRASHED && call % 50 == 7), "call %zu: %s", call,
                  fg_error_name(rc));
    }
    cr_assert_eq(crashed, 20);
    /* The last two maps' workers may still be exiting (the reaper's); no more. */
    int exiting = count_children() - children;
    char *fds_after = fd_set_of();
    int maps_after = maps_lines(false), shared_after = maps_lines(true);
    size_t regions = fg__process_regions_mapped(p);
    fg_parallel_close(p); /* waits for them */
    int children_after = count_children();
    cr_assert_eq(pidfds_open(), 0, "pidfds left after the close");
    cr_assert_eq(regions, 1, "%zu regions mapped for 1001 calls of one size", regions);
    cr_assert_eq(shared, shared_before + 1, "the kept region: %d shared mappings, %d before",
                 shared, shared_before);
    cr_assert_eq(maps_lines(true), shared_before, "a shared mapping left after the close");
    cr_log_info("after 1000 calls (20 with a crash): children %d -> %d (%d exiting before the "
                "close), fds [%s] -> [%s], maps lines %d -> %d, shared mappings %d -> %d",
                children, children_after, exiting, fds, fds_after, maps, maps_after, shared,
                shared_after);
    cr_assert(exiting >= 0 && exiting <= 4, "%d workers left after maps of n_jobs 2", exiting);
    cr_assert_eq(children_after, children, "zombie or live workers left after the close");
    cr_assert_str_eq(fds_after, fds, "file descriptors leaked");
    cr_assert_eq(shared_after, shared, "shared mappings leaked");
#ifndef UNDER_ASAN /* ASan's allocator maps memory of its own as it goes */
    cr_assert_eq(maps_after, maps, "mappings leaked");
#endif
    free(fds);
    free(fds_after);
}

/* ------------------------------------ the region kept between calls */

/* Calls of different sizes on one fg_parallel: every result exact, nothing
 * past the call's end touched, and a region mapped only when the kept one
 * is too small. */
Test(process, one_region_for_calls_of_different_sizes)
{
    static const size_t sizes[] = { 200000, 1000, 200000, 400000, 3 };
    static const size_t maps[] = { 1, 1, 1, 2, 2 };
    const size_t most = 400000 + 16;
    uint64_t *res = malloc(most * sizeof *res);
    cr_assert_not_null(res);
    fg_parallel *p = proc_open(2, 1000, 0);
    for (size_t c = 0; c < NELEM(sizes); c++) {
        size_t n = sizes[c], begin = 1000 * c + 1; /* other results each call */
        memset(res, 0xA5, most * sizeof *res);
        fg_error_info info = FG_ERROR_INFO_INIT();
        int rc = fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, begin, begin + n, res,
                                 &info);
        cr_assert_eq(rc, 0, "call %zu: %s", c, fg_strerror(rc));
        cr_assert_eq(info.tasks_run, n, "call %zu: tasks_run %zu", c, info.tasks_run);
        for (size_t k = 0; k < n; k++)
            if (res[k] != f_of(begin + k))
                cr_assert_fail("call %zu (n %zu): result %zu is %llx, want %llx", c, n, k,
                               (unsigned long long)res[k], (unsigned long long)f_of(begin + k));
        for (size_t k = n; k < most; k++)
            if (res[k] != 0xA5A5A5A5A5A5A5A5ull)
                cr_assert_fail("call %zu (n %zu): result %zu past the end written", c, n, k);
        cr_assert_eq(fg__process_regions_mapped(p), maps[c], "call %zu (n %zu): %zu regions",
                     c, n, fg__process_regions_mapped(p));
    }
    fg_parallel_close(p);
    free(res);
}

/* ctx: how this call's tasks go wrong (0: they do not). */
enum { GOOD, FAILS_AT_500, CRASHES_AT_700, HANGS_AT_300 };

static int task_goes_wrong(size_t i, void *ctx, void *result)
{
    int how = *(const int *)ctx;
    if ((how == FAILS_AT_500 && i == 500))
        return 3;
    if (how == CRASHES_AT_700 && i == 700)
        abort();
    if (how == HANGS_AT_300 && i == 300)
        sleep(30); /* killed by the timeout */
    *(uint64_t *)result = f_of(i) ^ (uint64_t)how;
    return 0;
}

/* A call that fails, crashes, times out or is cancelled leaves the kept
 * region with its state (a queue not empty, the stop flag, killed
 * workers' slots): the good call after each has every result, and all of
 * them ran in one region. */
Test(process, a_good_call_after_each_bad_one_on_the_kept_region)
{
    const size_t n = 2000;
    fg_cancel_token cancel = FG_CANCEL_TOKEN_INIT;
    fg_parallel *p = NULL;
    cr_assert_eq(fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 10,
                                                       .backend = FG_BACKEND_PROCESS,
                                                       .timeout = 0.3, .cancel = &cancel)),
                 0);
    static const struct { int how; bool cancel; int rc; size_t index; } bad[] = {
        { FAILS_AT_500, false, 3, 500 },
        { CRASHES_AT_700, false, FG_ECRASHED, 700 },
        { HANGS_AT_300, false, FG_ETIMEDOUT, 300 },
        { GOOD, true, FG_ECANCELED, 0 },
    };
    uint64_t *res = malloc(n * sizeof *res);
    cr_assert_not_null(res);
    for (size_t b = 0; b < NELEM(bad); b++) {
        int how = bad[b].how;
        if (bad[b].cancel)
            fg_cancel(&cancel);
        fg_error_info info = FG_ERROR_INFO_INIT();
        int rc = fg_parallel_map(p, (fg_delayed){ task_goes_wrong, &how, 8 }, 0, n, res, &info);
        cr_assert_eq(rc, bad[b].rc, "bad call %zu: %s", b, fg_error_name(rc));
        cr_assert_eq(info.index, bad[b].index, "bad call %zu: index %zu", b, info.index);
        fg_cancel_reset(&cancel);
        how = GOOD;
        memset(res, 0xA5, n * sizeof *res);
        rc = fg_parallel_map(p, (fg_delayed){ task_goes_wrong, &how, 8 }, 0, n, res, &info);
        cr_assert_eq(rc, 0, "the call after bad call %zu: %s", b, fg_error_name(rc));
        cr_assert_eq(info.tasks_run, n, "the call after bad call %zu: tasks_run %zu", b,
                     info.tasks_run);
        for (size_t k = 0; k < n; k++)
            if (res[k] != f_of(k))
                cr_assert_fail("the call after bad call %zu: result %zu is %llx, want %llx", b,
                               k, (unsigned long long)res[k], (unsigned long long)f_of(k));
    }
    cr_assert_eq(fg__process_regions_mapped(p), 1);
    fg_parallel_close(p);
    free(res);
}

/* A region above the cap is unmapped when its call returns; one below it
 * is kept until the close. */
Test(process, a_region_above_the_cap_is_not_kept)
{
    uint64_t res[100];
    int shared = maps_lines(true);
    fg_parallel *p = proc_open(2, 10, 0);
    fg__process_region_set_cap(p, 0);
    for (int c = 1; c <= 3; c++) {
        cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, 100, res, NULL), 0);
        cr_assert_eq(res[99], f_of(99));
        cr_assert_eq(fg__process_regions_mapped(p), (size_t)c);
        cr_assert_eq(maps_lines(true), shared, "call %d: a region above the cap kept", c);
    }
    fg__process_region_set_cap(p, SIZE_MAX);
    for (int c = 4; c <= 6; c++) {
        cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, 100, res, NULL), 0);
        cr_assert_eq(res[99], f_of(99));
        cr_assert_eq(fg__process_regions_mapped(p), (size_t)4);
        cr_assert_eq(maps_lines(true), shared + 1, "call %d: the region not kept", c);
    }
    fg_parallel_close(p);
    cr_assert_eq(maps_lines(true), shared, "the kept region left after the close");
}

/* A child forked by the application inherits the fg_parallel and a mapping
 * of its kept region, which the parent goes on using: the child's maps
 * must use a region of their own. */
static int forked_child_maps(fg_parallel *p)
{
    uint64_t res[500];
    for (int c = 0; c < 3; c++) {
        if (fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, 500, res, NULL) != 0)
            return 10;
        for (size_t k = 0; k < 500; k++)
            if (res[k] != f_of(k))
                return 11;
    }
    if (fg__process_regions_mapped(p) != 2) /* the parent's one, and its own */
        return 12;
    fg_parallel_close(p);
    return 0;
}

Test(process, a_forked_child_maps_its_own_region)
{
    uint64_t res[500];
    fg_parallel *p = proc_open(2, 10, 0);
    cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, 500, res, NULL), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(forked_child_maps(p));
    for (int c = 0; c < 3; c++) { /* meanwhile, in the parent's region */
        memset(res, 0, sizeof res);
        cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, 500, res, NULL), 0);
        for (size_t k = 0; k < 500; k++)
            cr_assert_eq(res[k], f_of(k), "result %zu", k);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %#x", status);
    cr_assert_eq(fg__process_regions_mapped(p), 1);
    fg_parallel_close(p);
}

/* Two threads map on one fg_parallel at once: a region belongs to one call
 * at a time, so every result is exact. */
typedef struct two_maps {
    fg_parallel *p;
    size_t n;
    int failed;
} two_maps;

static void *map_repeatedly(void *arg)
{
    two_maps *t = arg;
    uint64_t *res = malloc(t->n * sizeof *res);
    for (int c = 0; c < 30 && res != NULL && !t->failed; c++) {
        size_t n = t->n - (size_t)c * 7, begin = (size_t)c * 13;
        memset(res, 0, t->n * sizeof *res);
        if (fg_parallel_map(t->p, (fg_delayed){ task_f, NULL, 8 }, begin, begin + n, res,
                            NULL) != 0)
            t->failed = 1;
        for (size_t k = 0; k < n && !t->failed; k++)
            t->failed = res[k] != f_of(begin + k) ? 2 : 0;
    }
    free(res);
    return NULL;
}

Test(process, two_threads_map_on_one_parallel)
{
    int shared = maps_lines(true);
    fg_parallel *p = proc_open(2, 100, 0);
    two_maps t[2] = { { p, 5000, 0 }, { p, 20000, 0 } };
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, map_repeatedly, &t[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(t[0].failed, 0);
    cr_assert_eq(t[1].failed, 0);
    size_t regions = fg__process_regions_mapped(p);
    cr_log_info("60 calls from two threads: %zu regions mapped", regions);
    cr_assert(regions >= 1 && regions <= 60, "%zu regions", regions);
    cr_assert_eq(maps_lines(true), shared + 1, "one region kept");
    fg_parallel_close(p);
    cr_assert_eq(maps_lines(true), shared);
}

/* Task 0 of each map counts the caller's children: this map's n_jobs
 * workers, and at most the n_jobs of the map before, which returned before
 * they had exited (the reaper's, tests/unit/reaper.c); the ones of any map
 * before that were reaped before this one forked, zombies included.  The
 * other tasks wait until it has counted (a flag in a page shared with the
 * workers), so that none of this map's workers has ended meanwhile. */
static int task_count_siblings(size_t i, void *ctx, void *result)
{
    _Atomic int *counted = ctx;
    if (i == 0) {
        *(uint64_t *)result = (uint64_t)count_children_of(getppid());
        atomic_store(counted, 1);
        return 0;
    }
    for (long spins = 0; !atomic_load(counted); spins++) {
        if (spins > 10000000)
            return 1; /* task 0 never counted */
        sched_yield();
    }
    *(uint64_t *)result = f_of(i);
    return 0;
}

Test(process, workers_of_two_maps_at_most)
{
    static const int jobs[] = { 2, 3 };
    _Atomic int *counted = shared_page();
    fg_delayed d = { task_count_siblings, (void *)counted, 8 };
    int children = count_children();
    for (size_t j = 0; j < NELEM(jobs); j++) {
        fg_parallel *p = proc_open(jobs[j], 1, 0);
        for (int call = 0; call < 200; call++) {
            uint64_t res[16];
            atomic_store(counted, 0);
            cr_assert_eq(fg_parallel_map(p, d, 0, 16, res, NULL), 0);
            cr_assert(res[0] >= (uint64_t)(children + jobs[j]) &&
                          res[0] <= (uint64_t)(children + 2 * jobs[j]),
                      "n_jobs %d, call %d: the caller had %llu children", jobs[j], call,
                      (unsigned long long)res[0]);
            for (size_t i = 1; i < 16; i++)
                cr_assert_eq(res[i], f_of(i));
            int left = count_children() - children;
            cr_assert(left >= 0 && left <= 2 * jobs[j], "n_jobs %d, call %d: %d workers left",
                      jobs[j], call, left);
        }
        /* A streaming iterator waits for every map's workers before it
         * forks its own. */
        fg_parallel_iter *it = NULL;
        atomic_store(counted, 0);
        cr_assert_eq(fg_parallel_iter_open(p, d, 0, 16, FG_ORDER_INDEX, &it), 0);
        size_t i;
        uint64_t v;
        cr_assert_eq(fg_parallel_iter_next(it, &i, &v), 0);
        cr_assert_eq(i, 0);
        cr_assert_eq(v, (uint64_t)(children + jobs[j]), "iterator: the caller had %llu children",
                     (unsigned long long)v);
        cr_assert_eq(fg_parallel_iter_close(it, NULL), 0);
        fg_parallel_close(p);
        cr_assert_eq(count_children(), children, "n_jobs %d: workers left after the close",
                     jobs[j]);
    }
    munmap((void *)counted, 4096);
}

/* An application that ignores SIGCHLD: the kernel reaps the workers
 * itself, so every waitpid of ours (the call's and the reaper's) finds no
 * child; the maps still work and the disposition is left as it was. */
Test(process, sigchld_ignored_by_the_application)
{
    struct sigaction ign = { .sa_handler = SIG_IGN }, old, now;
    cr_assert_eq(sigaction(SIGCHLD, &ign, &old), 0);
    fg_parallel *p = proc_open(2, 3, 0);
    for (int call = 0; call < 50; call++) {
        uint64_t res[40];
        cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, 40, res, NULL), 0);
        for (size_t i = 0; i < 40; i++)
            cr_assert_eq(res[i], f_of(i));
    }
    fg_parallel_close(p);
    cr_assert_eq(sigaction(SIGCHLD, &old, &now), 0);
    cr_assert_eq(now.sa_handler, SIG_IGN, "the disposition was changed");
}

/* ----------------------------------------- the results view (process.c) */

/* An in-place map: ctx is the results array itself, and task i reads its
 * input there.  In a worker the whole pages of that array are the
 * region's results (the view), the partial ones at either end the caller's
 * copy-on-write pages: either way task i finds its input as at the call,
 * since only task i writes index i. */
static int task_in_place(size_t i, void *ctx, void *result)
{
    const uint64_t *in = ctx;
    *(uint64_t *)result = in[i] * 2 + 1;
    return 0;
}

/* A map of n results at `shift` bytes past a page boundary: every result
 * exact, and whether the workers got a view (`viewed`). */
static void in_place_map(fg_parallel *p, uint64_t *arr, size_t n, bool viewed)
{
    size_t views = fg__process_views(p);
    for (size_t i = 0; i < n; i++)
        arr[i] = 3 * (uint64_t)i + 5;
    fg_error_info info = FG_ERROR_INFO_INIT();
    int rc = fg_parallel_map(p, (fg_delayed){ task_in_place, arr, 8 }, 0, n, arr, &info);
    cr_assert_eq(rc, 0, "n %zu: %s (index %zu, signal %d)", n, fg_strerror(rc), info.index,
                 info.term_signal);
    for (size_t i = 0; i < n; i++)
        if (arr[i] != (3 * (uint64_t)i + 5) * 2 + 1)
            cr_assert_fail("n %zu: result %zu is %llu", n, i, (unsigned long long)arr[i]);
    cr_assert_eq(fg__process_views(p), views + viewed, "n %zu: views %zu -> %zu", n, views,
                 fg__process_views(p));
}

static uint64_t *page_aligned(size_t bytes)
{
    void *m = NULL;
    cr_assert_eq(posix_memalign(&m, (size_t)sysconf(_SC_PAGESIZE), bytes), 0);
    return m;
}

Test(process, an_in_place_map_reads_its_inputs_through_the_view)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), n = 200000;
    uint64_t *mem = page_aligned(n * 8 + page);
    fg_parallel *p = proc_open(2, 1000, 0);
    in_place_map(p, mem, n, true);     /* aligned: only whole pages */
    in_place_map(p, mem + 1, n, true); /* a partial page at either end */
    in_place_map(p, mem + 3, 17, false);
    fg_parallel_close(p);
    free(mem);
}

/* The view takes 16 whole pages: 15 whole pages and a part of another
 * keep the plain fork. */
Test(process, the_view_starts_at_sixteen_whole_pages)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), per_page = page / 8;
    uint64_t *mem = page_aligned(17 * page);
    fg_parallel *p = proc_open(2, 100, 0);
    in_place_map(p, mem, 16 * per_page, true);
    in_place_map(p, mem, 16 * per_page - 1, false);
    in_place_map(p, mem + 1, 16 * per_page, false); /* 15 whole pages and two parts */
    in_place_map(p, mem + 1, 17 * per_page - 1, true);
    fg_parallel_close(p);
    free(mem);
}

/* In a worker, a whole page of the array is the region's page (a store
 * through `result` shows in it), a partial one a private copy (it does
 * not): task i writes its result and reads its index back through ctx,
 * and sets the top bit when it did not find what it wrote. */
static int task_reads_back(size_t i, void *ctx, void *result)
{
    volatile uint64_t *in = ctx;
    uint64_t want = in[i] * 2 + 1;
    *(volatile uint64_t *)result = want;
    if (in[i] != want)
        *(volatile uint64_t *)result = want | 1ull << 63;
    return 0;
}

Test(process, whole_pages_of_the_array_are_the_region_in_a_worker)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), n = 100000;
    uint64_t *mem = page_aligned(n * 8 + page), *arr = mem + 3;
    for (size_t i = 0; i < n; i++)
        arr[i] = i;
    fg_parallel *p = proc_open(2, 1000, 0);
    cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_reads_back, arr, 8 }, 0, n, arr, NULL), 0);
    cr_assert_eq(fg__process_views(p), 1);
    uintptr_t first = ((uintptr_t)arr + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t last = ((uintptr_t)(arr + n)) & ~(uintptr_t)(page - 1);
    size_t shared = 0;
    for (size_t i = 0; i < n; i++) {
        uintptr_t at = (uintptr_t)&arr[i];
        bool whole = at >= first && at < last;
        uint64_t want = (i * 2 + 1) | (whole ? 0 : 1ull << 63);
        if (arr[i] != want)
            cr_assert_fail("result %zu (%s page) is %llx, want %llx", i,
                           whole ? "a whole" : "a partial", (unsigned long long)arr[i],
                           (unsigned long long)want);
        shared += whole;
    }
    cr_assert_eq(shared, (last - first) / 8);
    fg_parallel_close(p);
    free(mem);
}

/* On the stack of the calling thread, as a caller's local array. */
Test(process, a_results_array_on_the_stack)
{
    uint64_t arr[40000];
    fg_parallel *p = proc_open(2, 1000, 0);
    in_place_map(p, arr, NELEM(arr), true);
    fg_parallel_close(p);
}

/* After the map the pages fork again: a child the test forks itself reads
 * every result, and the mappings are what they were (the madvise calls
 * split the array's mapping for the forks; it joins up again). */
Test(process, the_array_forks_again_after_the_map)
{
    const size_t n = 300000;
    uint64_t *arr = malloc(n * sizeof *arr);
    cr_assert_not_null(arr);
    fg_parallel *p = proc_open(2, 1000, 0);
    in_place_map(p, arr, 1000, false); /* the kept region is mapped now */
    int maps = maps_lines(false);
    in_place_map(p, arr, n, true);
    int maps_after = maps_lines(false);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        for (size_t i = 0; i < n; i++)
            if (arr[i] != (3 * (uint64_t)i + 5) * 2 + 1)
                _exit(1);
        _exit(0);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child saw wrong results: %#x",
              status);
#ifndef UNDER_ASAN /* ASan's allocator maps memory of its own as it goes */
    cr_assert_eq(maps_after, maps, "maps lines %d before, %d after a map with a view", maps,
                 maps_after);
#else
    (void)maps_after;
    (void)maps;
#endif
    fg_parallel_close(p);
    free(arr);
}

/* A crash and a timeout in a map with a view: the results below the
 * failure are there, and the next map with a view works. */
Test(process, a_crash_and_a_timeout_with_a_view)
{
    const size_t n = 100000;
    uint64_t *res = malloc(n * sizeof *res);
    cr_assert_not_null(res);
    fg_parallel *p = proc_open(2, 10, 0.3);
    static const struct { int how; int rc; size_t index; } bad[] = {
        { CRASHES_AT_700, FG_ECRASHED, 700 },
        { HANGS_AT_300, FG_ETIMEDOUT, 300 },
    };
    for (size_t b = 0; b < NELEM(bad); b++) {
        int how = bad[b].how;
        fg_error_info info = FG_ERROR_INFO_INIT();
        int rc = fg_parallel_map(p, (fg_delayed){ task_goes_wrong, &how, 8 }, 0, n, res, &info);
        cr_assert_eq(rc, bad[b].rc, "bad call %zu: %s", b, fg_error_name(rc));
        cr_assert_eq(info.index, bad[b].index, "bad call %zu: index %zu", b, info.index);
        for (size_t k = 0; k < bad[b].index; k++)
            if (res[k] != (f_of(k) ^ (uint64_t)how))
                cr_assert_fail("bad call %zu: result %zu below the failure is wrong", b, k);
        in_place_map(p, res, n, true);
    }
    cr_assert_eq(fg__process_views(p), 4);
    fg_parallel_close(p);
    free(res);
}

/* ---------------------------------------------------------- nesting */

/* A process map inside a work-stealing task. */
static int task_inner_proc(size_t i, void *ctx, void *result)
{
    (void)ctx;
    uint64_t inner[50];
    fg_parallel *p = NULL;
    int err = fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 3,
                                                    .backend = FG_BACKEND_PROCESS));
    if (err == 0)
        err = fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, i * 50, i * 50 + 50, inner,
                              NULL);
    fg_parallel_close(p);
    uint64_t sum = 0;
    for (size_t k = 0; k < 50; k++)
        sum += inner[k];
    *(uint64_t *)result = sum;
    return err == 0 ? 0 : 1;
}

Test(process, nested_in_a_thread_task)
{
    fg_parallel *p = NULL;
    cr_assert_eq(fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 1)), 0);
    uint64_t res[6];
    cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_inner_proc, NULL, 8 }, 0, 6, res, NULL), 0);
    fg_parallel_close(p);
    for (size_t i = 0; i < 6; i++) {
        uint64_t want = 0;
        for (size_t k = i * 50; k < i * 50 + 50; k++)
            want += f_of(k);
        cr_assert_eq(res[i], want, "task %zu", i);
    }
}

/* Thread backends, fg_join and fg_parallel_for inside a process worker:
 * the pool made before the fork has no threads there, so they run on the
 * worker's one thread.  Each task reports what it ran and how. */
typedef struct nest_ctx {
    fg_pool *pool;      /* created before the fork */
    fg_parallel *outer; /* a STEAL façade opened before the fork */
} nest_ctx;

typedef struct nest_out {
    uint64_t map_sum, outer_sum, join_sum, for_sum;
    int backend_open, pool_current, ok;
} nest_out;

static int add_f(size_t b, size_t e, void *ctx)
{
    for (size_t k = b; k < e; k++)
        atomic_fetch_add((_Atomic uint64_t *)ctx, f_of(k));
    return 0;
}

typedef struct join_arg {
    size_t i;
    uint64_t v;
} join_arg;

static int join_leaf(void *arg)
{
    join_arg *a = arg;
    a->v = f_of(a->i);
    return 0;
}

static int task_nested(size_t i, void *ctx, void *result)
{
    nest_ctx *c = ctx;
    nest_out *out = result;
    memset(out, 0, sizeof *out);
    uint64_t inner[40];
    fg_parallel *p = NULL;
    int err = fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 4,
                                                    .backend = FG_BACKEND_SHARED));
    fg_parallel_opts o = FG_PARALLEL_OPTS_INIT();
    if (err == 0) {
        fg_parallel_get_opts(p, &o);
        out->backend_open = o.backend;
        err = fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, i, i + 40, inner, NULL);
        fg_parallel_close(p);
    }
    for (size_t k = 0; err == 0 && k < 40; k++)
        out->map_sum += inner[k];
    if (err == 0)
        err = fg_parallel_map(c->outer, (fg_delayed){ task_f, NULL, 8 }, i, i + 40, inner, NULL);
    for (size_t k = 0; err == 0 && k < 40; k++)
        out->outer_sum += inner[k];
    join_arg a = { i, 0 }, b = { i + 1, 0 };
    if (err == 0)
        err = fg_join(c->pool, join_leaf, &a, join_leaf, &b);
    out->join_sum = a.v + b.v;
    _Atomic uint64_t sum = 0;
    if (err == 0)
        err = fg_parallel_for(c->pool, i, i + 40, FG_FOR_OPTS(.grain = 3), add_f, &sum);
    out->for_sum = atomic_load(&sum);
    out->pool_current = fg_pool_current() != NULL;
    out->ok = err == 0;
    return err == 0 ? 0 : 1;
}

Test(process, thread_backends_nested_in_a_process_worker)
{
    nest_ctx c = { NULL, NULL };
    cr_assert_eq(fg_pool_create(&c.pool, FG_CONFIG(.workers = 2)), 0);
    cr_assert_eq(fg_parallel_open(&c.outer, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 3)), 0);
    nest_out out[8];
    fg_parallel *p = proc_open(2, 1, 0);
    fg_error_info info = FG_ERROR_INFO_INIT();
    int rc = fg_parallel_map(p, (fg_delayed){ task_nested, &c, sizeof(nest_out) }, 0, 8, out,
                             &info);
    cr_assert_eq(rc, 0, "%s at %zu", fg_error_name(rc), info.index);
    for (size_t i = 0; i < 8; i++) {
        uint64_t want = 0;
        for (size_t k = i; k < i + 40; k++)
            want += f_of(k);
        cr_assert(out[i].ok, "task %zu", i);
        cr_assert_eq(out[i].backend_open, FG_BACKEND_SEQUENTIAL, "task %zu", i);
        cr_assert_eq(out[i].map_sum, want, "task %zu: nested map", i);
        cr_assert_eq(out[i].outer_sum, want, "task %zu: the caller's façade", i);
        cr_assert_eq(out[i].join_sum, f_of(i) + f_of(i + 1), "task %zu: fg_join", i);
        cr_assert_eq(out[i].for_sum, want, "task %zu: fg_parallel_for", i);
        cr_assert_eq(out[i].pool_current, 0, "task %zu", i);
    }
    fg_parallel_close(p);
    /* The caller's pool and façade are untouched by the fork. */
    join_arg a = { 3, 0 }, b = { 4, 0 };
    cr_assert_eq(fg_join(c.pool, join_leaf, &a, join_leaf, &b), 0);
    cr_assert_eq(a.v + b.v, f_of(3) + f_of(4));
    uint64_t res[100];
    cr_assert_eq(fg_parallel_map(c.outer, (fg_delayed){ task_f, NULL, 8 }, 0, 100, res, NULL), 0);
    for (size_t i = 0; i < 100; i++)
        cr_assert_eq(res[i], f_of(i));
    fg_parallel_close(c.outer);
    fg_pool_destroy(c.pool);
}

/* fork() by the user inside a task: the child sees no pool of its own,
 * and fg_pool_default() there is a fresh one.
 *
 * The broadcast first makes sure every worker has started before the
 * fork.  Under AddressSanitizer (GCC 12's libasan) a thread that starts
 * allocates (its AsanThread::Init calls pthread_getattr_np, which callocs)
 * under a lock of ASan's allocator, and ASan does not take that lock
 * around fork() as glibc's malloc does: a fork at that moment gives a
 * child whose allocator lock is held for ever, and the child's new pool
 * hangs in its first calloc.  Seen in CI (2026-12-07); without the
 * broadcast 16 of 40 runs hung beside CI, 6 of 45 beside a busy loop;
 * with it, none of 85. */
static int started(int worker, void *ctx)
{
    (void)worker;
    (void)ctx;
    return 0;
}

static int task_user_fork(void *arg)
{
    int *status = arg;
    pid_t pid = fork();
    if (pid == 0) {
        int ok = fg_pool_current() == NULL && fg_worker_index() == -1;
        fg_pool *d = fg_pool_default();
        join_arg a = { 1, 0 }, b = { 2, 0 };
        ok = ok && d != NULL && fg_join(d, join_leaf, &a, join_leaf, &b) == 0 &&
             a.v == f_of(1) && b.v == f_of(2);
        _exit(ok ? 0 : 1);
    }
    return waitpid(pid, status, 0) == pid ? 0 : 1;
}

static int nothing(void *arg)
{
    (void)arg;
    return 0;
}

Test(process, user_fork_inside_a_task)
{
    fg_pool *pool = NULL;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 2)), 0);
    cr_assert_eq(fg_broadcast(pool, started, NULL), 0);
    int status = -1;
    cr_assert_eq(fg_join(pool, task_user_fork, &status, nothing, NULL), 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    fg_pool_destroy(pool);
}

/* ------------------------------------------------------- fork fails */

/* In a child process with RLIMIT_NPROC 0 (and, as root, no capability to
 * override it), every fork() fails with EAGAIN: the map must return
 * FG_EAGAIN having run nothing, left nothing but the kept region, and say
 * why.  With the limit back, the next map on the region its workers were
 * told to leave (the gate's "leave") has every result. */
static int fork_fails_child(void)
{
    struct rlimit old, none;
    if (getrlimit(RLIMIT_NPROC, &old) != 0)
        return 10;
    none = (struct rlimit){ 0, old.rlim_max }; /* the soft limit can come back */
    if (setrlimit(RLIMIT_NPROC, &none) != 0)
        return 10;
    if (geteuid() == 0 && setuid(65534) != 0) /* root ignores RLIMIT_NPROC */
        return 11;
    prctl(PR_SET_DUMPABLE, 1); /* /proc/self stays ours after setuid */
    if (fork() != -1 || errno != EAGAIN)
        return 12; /* the limit does not hold here */
    fg_parallel *p = NULL;
    if (fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = 3, .backend = FG_BACKEND_PROCESS)) != 0)
        return 13;
    char *fds = fd_set_of();
    int shared = maps_lines(true);
    uint64_t res[100];
    memset(res, 0x5A, sizeof res);
    fg_error_info info = FG_ERROR_INFO_INIT();
    int rc = fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, 100, res, &info);
    if (rc != FG_EAGAIN)
        return 14;
    if (strstr(fg_last_error_detail(), "fork") == NULL)
        return 15;
    for (size_t i = 0; i < 100; i++)
        if (res[i] != 0x5A5A5A5A5A5A5A5Aull)
            return 16;
    fg_parallel_iter *it = (fg_parallel_iter *)&rc; /* must come back NULL */
    if (fg_parallel_iter_open(p, (fg_delayed){ task_f, NULL, 8 }, 0, 100, FG_ORDER_INDEX, &it) !=
            FG_EAGAIN || it != NULL)
        return 18;
    char *fds_after = fd_set_of();
    if (strcmp(fds, fds_after) != 0 || maps_lines(true) != shared + 1) /* the kept region */
        return 17;
    free(fds);
    free(fds_after);
    if (setrlimit(RLIMIT_NPROC, &old) != 0)
        return 19;
    rc = fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, 100, res, &info);
    if (rc != 0 || info.tasks_run != 100)
        return 20;
    for (size_t i = 0; i < 100; i++)
        if (res[i] != f_of(i))
            return 21;
    if (fg__process_regions_mapped(p) != 1)
        return 22;
    fg_parallel_close(p);
    if (maps_lines(true) != shared)
        return 23;
    return 0;
}

Test(process, fork_failing_is_a_clean_error)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(fork_fails_child());
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child died: status %d", status);
    cr_assert_eq(WEXITSTATUS(status), 0, "check %d failed (see fork_fails_child)",
                 WEXITSTATUS(status));
}

/* Tasks (threads included) of user uid, from /proc. */
static int tasks_of_user(uid_t uid)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], line[256];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        unsigned real = 0;
        int threads = 0;
        bool mine = false;
        while (fgets(line, sizeof line, f) != NULL)
            if (sscanf(line, "Uid: %u", &real) == 1)
                mine = real == uid;
            else
                sscanf(line, "Threads: %d", &threads);
        fclose(f);
        n += mine ? threads : 0;
    }
    closedir(d);
    return n;
}

/* With RLIMIT_NPROC leaving room for one map's workers and the reaper
 * thread, maps follow each other at once: each one's forks find the last
 * one's workers still exiting (a 64 MiB heap makes their exit slow), fail
 * with EAGAIN, and are tried again once those are reaped. */
static int nproc_tight_child(void)
{
    if (geteuid() == 0 && setuid(65534) != 0) /* root ignores RLIMIT_NPROC */
        return 11;
    prctl(PR_SET_DUMPABLE, 1); /* /proc/self stays ours after setuid */
    size_t big = (size_t)64 << 20;
    char *heap = malloc(big);
    if (heap == NULL)
        return 12;
    memset(heap, 1, big);
    int tasks = tasks_of_user(getuid());
    if (tasks < 1)
        return 13;
    struct rlimit tight = { (rlim_t)tasks + 3, (rlim_t)tasks + 3 }; /* 2 workers, the reaper */
    if (setrlimit(RLIMIT_NPROC, &tight) != 0)
        return 14;
    fg_parallel *p = NULL;
    if (fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 1,
                                              .backend = FG_BACKEND_PROCESS)) != 0)
        return 15;
    for (int call = 0; call < 50; call++) {
        uint64_t res[8];
        if (fg_parallel_map(p, (fg_delayed){ task_f, heap, 8 }, 0, 8, res, NULL) != 0)
            return 16;
        for (size_t i = 0; i < 8; i++)
            if (res[i] != f_of(i))
                return 17;
    }
    fg_parallel_close(p);
    free(heap);
    return 0;
}

Test(process, maps_back_to_back_under_a_tight_nproc_limit)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(nproc_tight_child());
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child died: status %d", status);
    cr_assert_eq(WEXITSTATUS(status), 0, "check %d failed (see nproc_tight_child)",
                 WEXITSTATUS(status));
}

/* ------------------------------------------ streaming (iter_process.c) */

/* The window the iterator must keep to (docs/design/iter.md): max(n_jobs,
 * ceil(pre_dispatch / batch)) + 1 batches, at most the batches there are. */
static size_t window_of(int n_jobs, size_t n, long batch)
{
    size_t b = batch > 0 ? (size_t)batch : 1, pre = 2 * (size_t)n_jobs;
    size_t w = (pre + b - 1) / b;
    w = (w > (size_t)n_jobs ? w : (size_t)n_jobs) + 1;
    size_t batches = (n + b - 1) / b;
    return w < batches ? w : batches;
}

typedef struct stream_row { size_t n; long batch; int order; } stream_row;

/* Every result once with its value; in index order strictly ascending, in
 * completion order each batch's results consecutive; the slots in use
 * never more than the window. */
static void check_stream(fg_parallel *p, const stream_row *r, size_t begin)
{
    fg_parallel_iter *it = NULL;
    int rc = fg_parallel_iter_open(p, (fg_delayed){ task_f, NULL, 8 }, begin, begin + r->n,
                                   r->order, &it);
    cr_assert_eq(rc, 0, "open: %s", fg_error_name(rc));
    cr_assert_eq(fg__iter_window_slots(it), window_of(2, r->n, r->batch), "n %zu batch %ld",
                 r->n, r->batch);
    unsigned char *seen = calloc(r->n, 1);
    size_t i, got = 0, prev = SIZE_MAX;
    uint64_t v;
    while ((rc = fg_parallel_iter_next(it, &i, &v)) == 0) {
        cr_assert(i >= begin && i < begin + r->n, "index %zu", i);
        cr_assert_eq(seen[i - begin], 0, "index %zu twice", i);
        seen[i - begin] = 1;
        cr_assert_eq(v, f_of(i), "value of %zu", i);
        if (r->order == FG_ORDER_INDEX)
            cr_assert_eq(i, begin + got, "index order: %zu at position %zu", i, got);
        else if (r->batch == 1)
            (void)prev;
        else if (prev != SIZE_MAX && i != prev + 1)
            cr_assert_eq((i - begin) % (r->batch > 0 ? (size_t)r->batch : 1) == 0 ||
                         r->batch == FG_BATCH_AUTO, 1, "%zu after %zu: not a batch start", i, prev);
        prev = i;
        got++;
    }
    cr_assert_eq(rc, FG_EDONE, "%s", fg_error_name(rc));
    cr_assert_eq(got, r->n);
    size_t high = fg__iter_used_high(it);
    cr_assert(high >= 1 && high <= fg__iter_window_slots(it), "slots used %zu, window %zu", high,
              fg__iter_window_slots(it));
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_iter_close(it, &info), 0);
    cr_assert_eq(info.tasks_run, r->n);
    cr_assert_eq(info.code, 0);
    cr_log_info("stream n %zu batch %ld order %d: slots used at most %zu of %zu", r->n, r->batch,
                r->order, high, window_of(2, r->n, r->batch));
    free(seen);
}

Test(process, stream_every_result_once, .timeout = 300)
{
    static const stream_row rows[] = {
        { 100000, 1, FG_ORDER_INDEX },        { 100000, 1, FG_ORDER_COMPLETION },
        { 1000000, 7, FG_ORDER_INDEX },       { 1000000, 7, FG_ORDER_COMPLETION },
        { 1000000, FG_BATCH_AUTO, FG_ORDER_INDEX }, { 1000000, FG_BATCH_AUTO, FG_ORDER_COMPLETION },
    };
    for (size_t k = 0; k < NELEM(rows); k++) {
        fg_parallel *p = proc_open(2, rows[k].batch, 0);
        check_stream(p, &rows[k], 11);
        fg_parallel_close(p);
    }
}

/* A slow reader: the workers fill the window and wait; the slots in use
 * reach the window and never pass it. */
Test(process, stream_memory_is_the_window)
{
    fg_parallel *p = proc_open(2, 5, 0);
    fg_parallel_iter *it = NULL;
    cr_assert_eq(fg_parallel_iter_open(p, (fg_delayed){ task_f, NULL, 8 }, 0, 2000,
                                       FG_ORDER_COMPLETION, &it), 0);
    size_t w = fg__iter_window_slots(it), i, got = 0;
    cr_assert_eq(w, window_of(2, 2000, 5)); /* max(2, ceil(4 / 5)) + 1 = 3 */
    uint64_t v;
    struct timespec nap = { 0, 200000 };
    while (fg_parallel_iter_next(it, &i, &v) == 0) {
        cr_assert_eq(v, f_of(i));
        got++;
        nanosleep(&nap, NULL);
    }
    cr_assert_eq(got, 2000);
    size_t high = fg__iter_used_high(it);
    cr_log_info("slow reader: slots used at most %zu of a window of %zu", high, w);
    cr_assert_eq(high, w, "a slow reader lets the workers fill the window, no more");
    fg_parallel_iter_close(it, NULL);
    fg_parallel_close(p);
}

/* Early stop at several points: the workers are killed and reaped, nothing
 * is left behind, and the next call on the same façade works. */
Test(process, stream_stops_early_and_leaves_nothing, .timeout = 300)
{
    static const size_t stops[] = { 0, 1, 2, 13, 999, 54321 };
    int children = count_children(); /* before the map, whose workers may still be exiting */
    fg_parallel *p = proc_open(2, 7, 0);
    uint64_t res[64];
    cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, 64, res, NULL), 0);
    char *fds = fd_set_of();
    int shared = maps_lines(true);
    for (int round = 0; round < 20; round++)
        for (size_t k = 0; k < NELEM(stops); k++) {
            fg_parallel_iter *it = NULL;
            cr_assert_eq(fg_parallel_iter_open(p, (fg_delayed){ task_f, NULL, 8 }, 5, 100005,
                                               k % 2 ? FG_ORDER_COMPLETION : FG_ORDER_INDEX,
                                               &it), 0);
            size_t i, got = 0;
            uint64_t v;
            while (got < stops[k] && fg_parallel_iter_next(it, &i, &v) == 0) {
                cr_assert_eq(v, f_of(i));
                if (k % 2 == 0)
                    cr_assert_eq(i, 5 + got);
                got++;
            }
            cr_assert_eq(got, stops[k]);
            fg_error_info info = FG_ERROR_INFO_INIT();
            cr_assert_eq(fg_parallel_iter_close(it, &info), 0);
            cr_assert(info.tasks_run >= got && info.tasks_run < 100000, "stop %zu: %zu ran",
                      stops[k], info.tasks_run);
            cr_assert_eq(info.code, 0);
        }
    int children_after = count_children();
    char *fds_after = fd_set_of();
    cr_assert_eq(children_after, children, "zombie or live workers left");
    cr_assert_str_eq(fds_after, fds, "file descriptors leaked");
    cr_assert_eq(maps_lines(true), shared, "shared mappings leaked");
    memset(res, 0, sizeof res);
    cr_assert_eq(fg_parallel_map(p, (fg_delayed){ task_f, NULL, 8 }, 0, 64, res, NULL), 0);
    for (size_t i = 0; i < 64; i++)
        cr_assert_eq(res[i], f_of(i));
    stream_row whole = { 3000, 7, FG_ORDER_INDEX };
    check_stream(p, &whole, 0);
    free(fds);
    free(fds_after);
    fg_parallel_close(p);
}

/* The crash table, streamed: the failure comes at its place in the stream
 * with its exact index; in index order every earlier index first. */
typedef struct stream_crash {
    const char *name;
    int how;          /* crash_task's kinds */
    long batch;
    int order;
    double timeout;
    int code, sig, status;
} stream_crash;

enum { SC_SEGV, SC_ABORT, SC_EXIT3, SC_LOOP, SC_FAIL };
#define SC_AT 1234

static int crash_task(size_t i, void *ctx, void *result)
{
    int how = *(const int *)ctx;
    if (i == SC_AT) {
        if (how == SC_SEGV) {
            volatile char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            page[0] = 1;
        }
        if (how == SC_ABORT)
            abort();
        if (how == SC_EXIT3)
            _exit(3);
        if (how == SC_LOOP)
            for (;;)
                pause();
        if (how == SC_FAIL)
            return 42;
    }
    *(uint64_t *)result = f_of(i);
    return 0;
}

Test(process, stream_crash_table, .timeout = 300)
{
    static const stream_crash rows[] = {
        { "segfault", SC_SEGV, 1, FG_ORDER_INDEX, 0, FG_ECRASHED, SIGSEGV, 0 },
        { "abort", SC_ABORT, 7, FG_ORDER_INDEX, 0, FG_ECRASHED, SIGABRT, 0 },
        { "_exit(3)", SC_EXIT3, FG_BATCH_AUTO, FG_ORDER_INDEX, 0, FG_ECRASHED, 0, 3 },
        { "endless, timeout", SC_LOOP, 7, FG_ORDER_INDEX, 0.2, FG_ETIMEDOUT, SIGKILL, 0 },
        { "task code", SC_FAIL, 7, FG_ORDER_INDEX, 0, 42, 0, 0 },
        { "abort, completion order", SC_ABORT, 7, FG_ORDER_COMPLETION, 0, FG_ECRASHED, SIGABRT, 0 },
        { "segfault, completion order", SC_SEGV, 1, FG_ORDER_COMPLETION, 0, FG_ECRASHED, SIGSEGV, 0 },
    };
    for (size_t k = 0; k < NELEM(rows); k++) {
        const stream_crash *r = &rows[k];
        fg_parallel *p = proc_open(2, r->batch, r->timeout);
        fg_parallel_iter *it = NULL;
        cr_assert_eq(fg_parallel_iter_open(p, (fg_delayed){ crash_task, (void *)&r->how, 8 }, 0,
                                           20000, r->order, &it), 0);
        size_t i, got = 0;
        uint64_t v;
        int rc;
        while ((rc = fg_parallel_iter_next(it, &i, &v)) == 0) {
            cr_assert_eq(v, f_of(i), "%s: value of %zu", r->name, i);
            cr_assert_neq(i, SC_AT, "%s: the failing index delivered", r->name);
            /* Completion order may hand out a batch past the failure that
             * finished before the failure was known, as on threads. */
            if (r->order == FG_ORDER_INDEX)
                cr_assert_eq(i, got, "%s: index order", r->name);
            got++;
        }
        cr_assert_eq(rc, r->code, "%s: %s", r->name, fg_error_name(rc));
        cr_assert_eq(i, SC_AT, "%s: index %zu", r->name, i);
        if (r->order == FG_ORDER_INDEX)
            cr_assert_eq(got, SC_AT, "%s: every earlier index first", r->name);
        cr_assert_eq(fg_parallel_iter_next(it, &i, &v), r->code, "%s: the end repeats", r->name);
        fg_error_info info = FG_ERROR_INFO_INIT();
        cr_assert_eq(fg_parallel_iter_close(it, &info), 0);
        cr_assert_eq(info.index, SC_AT, "%s", r->name);
        cr_assert_eq(info.code, r->code, "%s", r->name);
        cr_assert_eq(info.term_signal, r->sig, "%s: signal %d", r->name, info.term_signal);
        cr_assert_eq(info.exit_status, r->status, "%s: status %d", r->name, info.exit_status);
        cr_log_info("stream crash %-28s -> %s at %zu, signal %d, status %d, %zu read, %zu ran",
                    r->name, fg_error_name(rc), info.index, info.term_signal, info.exit_status,
                    got, info.tasks_run);
        stream_row after = { 500, 7, FG_ORDER_INDEX }; /* the next call works */
        fg_parallel_close(p);
        p = proc_open(2, 7, 0);
        check_stream(p, &after, 0);
        fg_parallel_close(p);
    }
}

/* Progress lines, as the process map prints them: the backend line, one
 * "Done N tasks" line per batch while input is left (verbose 11 filters
 * none), joblib's counted lines after, and the closing line. */
Test(process, stream_progress_lines)
{
    char *text = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&text, &len);
    fg_parallel *p = NULL;
    cr_assert_eq(fg_parallel_open(&p, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 10, .verbose = 11,
                                                       .log = log,
                                                       .backend = FG_BACKEND_PROCESS)), 0);
    fg_parallel_iter *it = NULL;
    cr_assert_eq(fg_parallel_iter_open(p, (fg_delayed){ task_f, NULL, 8 }, 0, 100, FG_ORDER_INDEX,
                                       &it), 0);
    size_t i;
    uint64_t v;
    int rc;
    while ((rc = fg_parallel_iter_next(it, &i, &v)) == 0)
        cr_assert_eq(v, f_of(i));
    cr_assert_eq(rc, FG_EDONE);
    fg_parallel_iter_close(it, NULL);
    fg_parallel_close(p);
    fclose(log);
    const char *prefix = "[Parallel(n_jobs=2)]: ";
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    cr_assert_not_null(line);
    cr_assert_str_eq(line, "[Parallel(n_jobs=2)]: Using backend ProcessBackend with 2 concurrent workers.");
    size_t lines = 0, last_done = 0;
    char *last = NULL;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        cr_assert(strncmp(line, prefix, strlen(prefix)) == 0, "line: %s", line);
        size_t done;
        if (sscanf(line + strlen(prefix), "Done %zu tasks", &done) == 1 &&
            strstr(line, "out of") == NULL) {
            cr_assert(done > last_done && done % 10 == 0, "line: %s", line);
            last_done = done;
        }
        last = line;
        lines++;
    }
    cr_assert_geq(lines, 2);
    cr_assert(strncmp(last + strlen(prefix), "Done 100 out of 100 | elapsed: ", 31) == 0 &&
              strstr(last, " finished") != NULL, "last line: %s", last);
    cr_assert_geq(last_done, 10, "lines while input was left");
    free(text);
}

/* Two threads read one process iterator: one watches the workers at a time,
 * and every result goes to exactly one of them. */
typedef struct two_readers {
    fg_parallel_iter *it;
    unsigned char *seen; /* per index: which reader took it (1 or 2) */
    size_t got;
    int rc, id;
} two_readers;

static void *stream_reader(void *arg)
{
    two_readers *r = arg;
    size_t i;
    uint64_t v;
    while ((r->rc = fg_parallel_iter_next(r->it, &i, &v)) == 0) {
        if (v != f_of(i) || r->seen[i] != 0)
            r->rc = -1000; /* checked below, on the main thread */
        r->seen[i] = (unsigned char)r->id;
        r->got++;
        if (r->rc != 0)
            break;
    }
    return NULL;
}

Test(process, stream_two_reading_threads)
{
    enum { N = 200000 };
    fg_parallel *p = proc_open(2, 3, 0);
    fg_parallel_iter *it = NULL;
    cr_assert_eq(fg_parallel_iter_open(p, (fg_delayed){ task_f, NULL, 8 }, 0, N,
                                       FG_ORDER_COMPLETION, &it), 0);
    unsigned char *seen = calloc(N, 1);
    two_readers a = { it, seen, 0, 0, 1 }, b = { it, seen, 0, 0, 2 };
    pthread_t ta, tb;
    cr_assert_eq(pthread_create(&ta, NULL, stream_reader, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, stream_reader, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert_eq(a.rc, FG_EDONE, "%d", a.rc);
    cr_assert_eq(b.rc, FG_EDONE, "%d", b.rc);
    cr_assert_eq(a.got + b.got, N, "%zu + %zu", a.got, b.got);
    for (size_t i = 0; i < N; i++)
        cr_assert_neq(seen[i], 0, "index %zu never read", i);
    cr_log_info("two readers: %zu and %zu results", a.got, b.got);
    fg_parallel_iter_close(it, NULL);
    fg_parallel_close(p);
    free(seen);
}
