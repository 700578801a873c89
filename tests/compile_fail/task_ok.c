/* The control for the compile-fail tests: the same shape, well typed, must
 * compile with the same flags (so a failure above is the misuse, not the
 * flags). */
#include <forage.h>

FG_TASK(int, twice, int);
static int twice(fg_ctx *cx, int x)
{
    (void)cx;
    return 2 * x;
}

FG_TASK(int, caller, int);
static int caller(fg_ctx *cx, int x)
{
    twice_spawn(cx, x);
    return twice_sync(cx);
}

int main(void)
{
    int r;
    return caller_run(NULL, 1, &r) == FG_EINVAL ? 0 : 1;
}
