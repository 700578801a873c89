/* Must not compile: a typed task's spawn given an argument of another type. */
#include <forage.h>

typedef struct pair { int a, b; } pair;
FG_TASK(int, twice, int);
static int twice(fg_frame f, int x)
{
    (void)f;
    return 2 * x;
}

FG_TASK(int, caller, int);
static int caller(fg_frame f, int x)
{
    twice_spawn(&f, (pair){ x, x }); /* a struct where an int is due */
    return twice_sync(&f);
}

int main(void)
{
    int r;
    return caller_run(NULL, 1, &r);
}
