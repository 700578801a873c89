/* env.h: the one way forage reads its FORAGE_* environment variables.
 *
 * Every reader treats an unset or empty variable as "not given" and returns
 * 0 with *out set to 0; a valid value returns 1; anything else returns
 * FG_EENV and records a one-line explanation for the calling thread
 * (fg_last_error_detail(), e.g. `FORAGE_WORKERS="abc": not a whole number`).  Variables
 * are read at pool creation only, never on a hot path.
 */
#ifndef FG_ENV_H
#define FG_ENV_H

/* A whole number in [min, max], excluding 0 when `nonzero`. */
int fg__env_long(const char *var, long min, long max, int nonzero, long *out);
/* One of names[0..count): *out is its index. */
int fg__env_enum(const char *var, const char *const *names, int count, int *out);
#define FG__ENV_ENUM(var, names, out) \
    fg__env_enum((var), (names), (int)(sizeof(names) / sizeof((names)[0])), (out))
/* The raw value, or NULL when unset or empty. */
const char *fg__env_string(const char *var);
/* Record why `var`'s value is bad; returns FG_EENV for the caller to pass on. */
int fg__env_fail(const char *var, const char *value, const char *why);

#endif
