/* threads.h: how many threads this process has, for the tests that check
 * that no worker thread is left behind.  Header-only. */
#ifndef FG_TEST_THREADS_H
#define FG_TEST_THREADS_H

#include <stdio.h>
#include <time.h>

/* "Threads:" of /proc/self/status, or -1. */
static inline int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* A joined thread can linger for a moment: the kernel wakes pthread_join
 * before it unlinks the task.  Poll up to a second for `want`. */
static inline int thread_count_settled(int want)
{
    int n = thread_count();
    for (int i = 0; i < 1000 && n != want; i++) {
        struct timespec ms = { 0, 1000 * 1000 };
        nanosleep(&ms, NULL);
        n = thread_count();
    }
    return n;
}

#endif
