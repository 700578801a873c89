/* error.c: fg_strerror and fg_error_name, both expanded from FG_ERROR_TABLE. */
#include "forage.h"

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
