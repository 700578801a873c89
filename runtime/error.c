/* error.c: fg_strerror and fg_error_name, both expanded from FG_ERROR_TABLE,
 * and the calling thread's explanation of its last error
 * (fg_last_error_detail). */
#include <stdarg.h>
#include <stdio.h>

#include "forage.h"
#include "internal.h"

static _Thread_local char fg__detail[256];

void fg__detail_set(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fg__detail, sizeof fg__detail, fmt, ap);
    va_end(ap);
}

void fg__detail_clear(void)
{
    fg__detail[0] = '\0';
}

const char *fg_last_error_detail(void)
{
    return fg__detail;
}

const char *fg_strerror(int err)
{
    switch (err) {
    case 0: return "success";
#define FG__ERROR_TEXT(name, value, text) case FG_##name: return text;
    FG_ERROR_TABLE(FG__ERROR_TEXT)
#undef FG__ERROR_TEXT
    default: return "unknown error";
    }
}

const char *fg_error_name(int err)
{
    switch (err) {
    case 0: return "FG_OK";
#define FG__ERROR_NAME(name, value, text) case FG_##name: return "FG_" #name;
    FG_ERROR_TABLE(FG__ERROR_NAME)
#undef FG__ERROR_NAME
    default: return "FG_UNKNOWN";
    }
}
