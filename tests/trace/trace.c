/* tests/trace/trace.c: switching traces on and off, file names, ring sizes
 * (runtime/trace.c).  The JSON itself is checked by check_trace.py.
 *
 * Criterion runs each test in a fresh process, so each starts with no
 * traced pool created yet (the ".k" numbering is per process). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forage.h"
#include "internal.h"

TestSuite(trace, .timeout = 60);

static char dir[] = "/tmp/forage-trace-XXXXXX";

static void make_dir(void)
{
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(unsetenv("FORAGE_TRACE"), 0);
    cr_assert_eq(unsetenv("FORAGE_TRACE_EVENTS"), 0);
}

static char *path_in_dir(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

/* The file exists and holds one whole JSON object of the expected shape. */
static void assert_trace_file(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s was not written", path);
    char head[32] = { 0 };
    cr_assert_eq(fread(head, 1, 16, f), 16);
    cr_assert_eq(strncmp(head, "{\"traceEvents\":[", 16), 0, "%s starts with %s", path, head);
    cr_assert_eq(fseek(f, -2, SEEK_END), 0);
    cr_assert_eq(fread(head, 1, 2, f), 2);
    cr_assert_eq(strncmp(head, "}\n", 2), 0, "%s is cut short", path);
    fclose(f);
    unlink(path);
}

static fg_pool *create(const fg_config *cfg)
{
    fg_pool *p = NULL;
    int err = fg_pool_create(&p, cfg);
    cr_assert_eq(err, 0, "fg_pool_create: %s", fg_strerror(err));
    return p;
}

Test(trace, off_unless_asked)
{
    make_dir();
    fg_pool *p = create(FG_CONFIG(.workers = 2));
    for (int i = 0; i < 2; i++)
        cr_assert_null(p->workers[i].trace, "worker %d traces with no path given", i);
    cr_assert_null(p->trace);
    fg_pool_destroy(p);
    /* "" in the config is off even when the environment names a file. */
    cr_assert_eq(setenv("FORAGE_TRACE", path_in_dir("env.json"), 1), 0);
    p = create(FG_CONFIG(.workers = 2, .trace = ""));
    cr_assert_null(p->workers[0].trace);
    fg_pool_destroy(p);
    cr_assert_neq(access(path_in_dir("env.json"), F_OK), 0, "env.json was created");
    rmdir(dir);
}

Test(trace, pools_alive_together_write_separate_files)
{
    make_dir();
    const char *path = path_in_dir("t.json");
    fg_pool *a = create(FG_CONFIG(.workers = 2, .trace = path));
    fg_pool *b = create(FG_CONFIG(.workers = 1, .trace = path));
    fg_pool *c = create(FG_CONFIG(.workers = 1, .trace = path_in_dir("noext")));
    fg_pool_destroy(b);
    fg_pool_destroy(a);
    fg_pool_destroy(c);
    assert_trace_file(path);
    assert_trace_file(path_in_dir("t.1.json"));
    assert_trace_file(path_in_dir("noext.2"));
    cr_assert_eq(rmdir(dir), 0, "unexpected files left in %s", dir);
}

Test(trace, ring_capacity_rounds_up)
{
    make_dir();
    cr_assert_eq(setenv("FORAGE_TRACE", path_in_dir("r.json"), 1), 0);
    cr_assert_eq(setenv("FORAGE_TRACE_EVENTS", "1000", 1), 0);
    fg_pool *p = create(FG_CONFIG(.workers = 3));
    for (int i = 0; i < 3; i++) {
        cr_assert_not_null(p->workers[i].trace);
        cr_assert_eq(p->workers[i].trace->mask, 1023);
    }
    fg_pool_destroy(p);
    assert_trace_file(path_in_dir("r.json"));
    cr_assert_eq(setenv("FORAGE_TRACE_EVENTS", "", 1), 0);
    p = create(FG_CONFIG(.workers = 1));
    cr_assert_eq(p->workers[0].trace->mask, (1u << 16) - 1, "default capacity");
    fg_pool_destroy(p);
    assert_trace_file(path_in_dir("r.1.json"));
    rmdir(dir);
}

Test(trace, bad_settings_fail_create_and_leave_nothing)
{
    make_dir();
    fg_pool *p = NULL;
    const char *missing = path_in_dir("no-such-dir/t.json");
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.trace = missing)), FG_EINVAL);
    cr_assert_null(p);
    cr_assert_eq(setenv("FORAGE_TRACE", missing, 1), 0);
    cr_assert_eq(fg_pool_create(&p, NULL), FG_EENV);
    const char *bad_counts[] = { "0", "-5", "12x", "67108865" };
    cr_assert_eq(setenv("FORAGE_TRACE", path_in_dir("t.json"), 1), 0);
    for (size_t i = 0; i < sizeof bad_counts / sizeof *bad_counts; i++) {
        cr_assert_eq(setenv("FORAGE_TRACE_EVENTS", bad_counts[i], 1), 0);
        cr_assert_eq(fg_pool_create(&p, NULL), FG_EENV, "FORAGE_TRACE_EVENTS=%s", bad_counts[i]);
        cr_assert_null(p);
    }
    cr_assert_eq(rmdir(dir), 0, "a failed create left a file in %s", dir);
}
