/* Must not compile: syncing a function that is not a typed task. */
#include <forage.h>

static int plain(int x)
{
    return x;
}

FG_TASK(int, caller, int);
static int caller(fg_ctx *cx, int x)
{
    (void)plain;
    return plain_sync(cx) + x; /* plain has no typed sync */
}

int main(void)
{
    int r;
    return caller_run(NULL, 1, &r);
}
