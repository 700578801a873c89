/* env.c: FORAGE_* variables, read and checked one way (env.h). */
#include "env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forage.h"
#include "internal.h"

int fg__env_fail(const char *var, const char *value, const char *why)
{
    fg__detail_set("%.32s=\"%.64s\": %.128s", var, value, why);
    return FG_EENV;
}

const char *fg__env_string(const char *var)
{
    const char *s = getenv(var);
    return s != NULL && *s != '\0' ? s : NULL;
}

int fg__env_long(const char *var, long min, long max, int nonzero, long *out)
{
    const char *s = fg__env_string(var);
    *out = 0;
    if (s == NULL)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return fg__env_fail(var, s, "not a whole number");
    if (v < min || v > max || (nonzero && v == 0)) {
        char why[96];
        snprintf(why, sizeof why, "out of range: expected %ld..%ld%s", min, max,
                 nonzero ? ", not 0" : "");
        return fg__env_fail(var, s, why);
    }
    *out = v;
    return 1;
}

int fg__env_enum(const char *var, const char *const *names, int count, int *out)
{
    const char *s = fg__env_string(var);
    *out = 0;
    if (s == NULL)
        return 0;
    for (int k = 0; k < count; k++)
        if (names[k] != NULL && strcmp(s, names[k]) == 0) {
            *out = k;
            return 1;
        }
    char why[128] = "expected one of";
    for (int k = 0; k < count; k++)
        if (names[k] != NULL && strlen(why) + strlen(names[k]) + 3 < sizeof why)
            strcat(strcat(why, k == 0 ? " " : ", "), names[k]);
    return fg__env_fail(var, s, why);
}
