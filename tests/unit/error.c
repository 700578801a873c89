/* tests/unit/error.c: error codes, their texts and names (runtime/error.c),
 * and the version functions (runtime/version.c). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "forage.h"

typedef struct error_row {
    int value;
    const char *name; /* "FG_" #name */
    const char *text;
} error_row;

#define ROW(name, value, text) { FG_##name, "FG_" #name, text },
static const error_row rows[] = { FG_ERROR_TABLE(ROW) };
#undef ROW
enum { NROWS = sizeof rows / sizeof rows[0] };

TestSuite(error, .timeout = 30);

Test(error, table_has_every_code)
{
    cr_assert_eq(NROWS, 12, "update this suite when the table changes");
    cr_assert_eq(FG_EINVAL, -EINVAL);
    cr_assert_eq(FG_ENOMEM, -ENOMEM);
    cr_assert_eq(FG_EAGAIN, -EAGAIN);
    cr_assert_eq(FG_ECANCELED, -ECANCELED);
    cr_assert_eq(FG_ESHUTDOWN, -ESHUTDOWN);
    cr_assert_eq(FG_EENV, -4001);
    cr_assert_eq(FG_ERANGE, -4002);
    cr_assert_eq(FG_EBUSY, -4003);
    cr_assert_eq(FG_ESIZE, -4004);
    cr_assert_eq(FG_ECRASHED, -4005);
    cr_assert_eq(FG_ETIMEDOUT, -ETIMEDOUT);
    cr_assert_eq(FG_EDONE, -ENODATA);
}

Test(error, codes_are_negative_and_distinct)
{
    for (int i = 0; i < NROWS; i++) {
        cr_assert_lt(rows[i].value, 0, "%s = %d", rows[i].name, rows[i].value);
        for (int j = i + 1; j < NROWS; j++)
            cr_assert_neq(rows[i].value, rows[j].value, "%s and %s share %d",
                          rows[i].name, rows[j].name, rows[i].value);
    }
}

Test(error, strerror_and_name_match_table)
{
    for (int i = 0; i < NROWS; i++) {
        cr_assert_str_eq(fg_strerror(rows[i].value), rows[i].text, "%s", rows[i].name);
        cr_assert_str_eq(fg_error_name(rows[i].value), rows[i].name);
    }
    /* Spot checks against literal text, independent of the table. */
    cr_assert_str_eq(fg_strerror(FG_EINVAL), "invalid argument");
    cr_assert_str_eq(fg_error_name(FG_EINVAL), "FG_EINVAL");
    cr_assert_str_eq(fg_strerror(FG_EENV), "invalid FORAGE_* environment variable");
    cr_assert_str_eq(fg_error_name(FG_EBUSY), "FG_EBUSY");
}

Test(error, texts_are_distinct)
{
    for (int i = 0; i < NROWS; i++)
        for (int j = i + 1; j < NROWS; j++) {
            cr_assert_str_neq(fg_strerror(rows[i].value), fg_strerror(rows[j].value));
            cr_assert_str_neq(fg_error_name(rows[i].value), fg_error_name(rows[j].value));
        }
}

Test(error, zero_is_success)
{
    cr_assert_str_eq(fg_strerror(0), "success");
    cr_assert_str_eq(fg_error_name(0), "FG_OK");
    cr_assert_eq(FG_OK, 0);
}

Test(error, unknown_codes)
{
    static const int unknown[] = { 12345, -9999, 1, 5, -1, -4000, -4098, -4099,
                                   EINVAL, INT_MAX, INT_MIN };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *text = fg_strerror(unknown[i]);
        const char *name = fg_error_name(unknown[i]);
        cr_assert_not_null(text);
        cr_assert_not_null(name);
        cr_assert_str_eq(text, "unknown error", "code %d", unknown[i]);
        cr_assert_str_eq(name, "FG_UNKNOWN", "code %d", unknown[i]);
    }
}

Test(error, version_numbers)
{
    cr_assert_eq(fg_version(), FG_VERSION_HEX);
    cr_assert_eq(FG_VERSION_HEX, (FG_VERSION_MAJOR << 16) | (FG_VERSION_MINOR << 8) |
                                 FG_VERSION_PATCH);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", FG_VERSION_MAJOR, FG_VERSION_MINOR,
             FG_VERSION_PATCH);
    cr_assert_not_null(fg_version_string());
    cr_assert_str_eq(fg_version_string(), want);
}

Test(error, version_at_least)
{
    cr_assert(FG_VERSION_AT_LEAST(0, 1));
    cr_assert(FG_VERSION_AT_LEAST(0, 0));
    cr_assert(FG_VERSION_AT_LEAST(FG_VERSION_MAJOR, FG_VERSION_MINOR));
    cr_assert_not(FG_VERSION_AT_LEAST(1, 0));
    cr_assert_not(FG_VERSION_AT_LEAST(FG_VERSION_MAJOR, FG_VERSION_MINOR + 1));
    cr_assert_not(FG_VERSION_AT_LEAST(FG_VERSION_MAJOR + 1, 0));
}
