/* Must not compile: argument and result exceed FG_CTX_ARG_MAX bytes. */
#include <forage.h>

typedef struct big { char bytes[64]; } big;
FG_TASK(int, sum, big);
static int sum(fg_ctx *cx, big b)
{
    (void)cx;
    return b.bytes[0];
}

int main(void)
{
    int r;
    return sum_run(NULL, (big){ { 0 } }, &r);
}
