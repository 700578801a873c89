/* version.c: the version of the library actually loaded. */
#include "forage.h"

#define FG__STR(x) #x
#define FG__XSTR(x) FG__STR(x)

int fg_version(void)
{
    return FG_VERSION_HEX;
}

const char *fg_version_string(void)
{
    return FG__XSTR(FG_VERSION_MAJOR) "." FG__XSTR(FG_VERSION_MINOR) "." FG__XSTR(FG_VERSION_PATCH);
}
