/* exit_default.c: the process-wide pool never hangs exit (pool_default.c
 * I2).  Mode "idle": the pool ran work and is quiet at exit: atexit
 * destroys it.  Mode "busy": a thread is blocked inside a call on it (a
 * task that never returns) when main returns: exit must not wait for it.
 * Either way the program must exit 0 well within the test's timeout; a
 * hang is the failure. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forage.h"

static int forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return 0;
}

static int one(void *arg)
{
    *(int *)arg = 1;
    return 0;
}

static void *blocked_caller(void *arg)
{
    fg_join(arg, forever, NULL, one, &(int){ 0 });
    return NULL;
}

static fg_pool *the_pool;
static int busy;

/* Registered before the pool's own handler, so it runs after it. */
static void check_after_forage(void)
{
#ifndef NDEBUG
    /* Debug builds know destroyed pools: idle must be destroyed, busy not. */
    int alive = fg_pool_workers(the_pool) > 0;
    if (alive != busy) {
        fprintf(stderr, "exit-default: pool %s at exit\n", alive ? "still alive" : "destroyed");
        _exit(3);
    }
#endif
}

int main(int argc, char **argv)
{
    busy = argc > 1 && strcmp(argv[1], "busy") == 0;
    atexit(check_after_forage);
    fg_pool *p = the_pool = fg_pool_default();
    if (p == NULL) {
        fprintf(stderr, "exit-default: %s\n", fg_last_error_detail());
        return 1;
    }
    int a = 0, b = 0;
    if (fg_join(p, one, &a, one, &b) != 0 || a != 1 || b != 1)
        return 1;
    if (busy) {
        pthread_t t;
        pthread_create(&t, NULL, blocked_caller, p);
        usleep(50 * 1000); /* let it get inside */
    }
    printf("exit-default: %s: returning from main\n", argc > 1 ? argv[1] : "idle");
    return 0;
}
