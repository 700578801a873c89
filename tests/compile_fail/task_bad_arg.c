/* Must not compile: a typed task's spawn given an argument of another type. */
#include <forage.h>

typedef struct pair { int a, b; } pair;
FG_TASK(int, twice, int);
static int twice(fg_ctx *cx, int x)
{
    (void)cx;
    return 2 * x;
}

FG_TASK(int, caller, int);
static int caller(fg_ctx *cx, int x)
{
    twice_spawn(cx, (pair){ x, x }); /* a struct where an int is due */
    return twice_sync(cx);
}

int main(void)
{
    int r;
    return caller_run(NULL, 1, &r);
}
