/* The control for the compile-fail tests: the same shape, well typed, must
 * compile with the same flags (so a failure above is the misuse, not the
 * flags). */
#include <forage.h>

FG_TASK(int, twice, int);
static int twice(fg_frame f, int x)
{
    (void)f;
    return 2 * x;
}

FG_TASK(int, caller, int);
static int caller(fg_frame f, int x)
{
    twice_spawn(&f, x);
    return twice_sync(&f);
}

int main(void)
{
    int r;
    return caller_run(NULL, 1, &r) == FG_EINVAL ? 0 : 1;
}
