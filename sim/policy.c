/* policy.c: the policy, idle ladder and steal amount of a run (policy.h).
 * --policy, --idle and --steal are handed to the runtime's own reader of
 * FORAGE_POLICY, FORAGE_IDLE and FORAGE_STEAL (fg__config_resolve) through
 * this process's environment, so they take exactly the values a pool takes
 * and fail with the same explanations. */
#include "policy.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The policy, idle ladder and steal amount, through the runtime's parser. */
int sim_policy_resolve(sim_options *o, const char *policy, const char *idle, const char *steal,
                       char *err, size_t el)
{
    static const char *const vars[] = { "FORAGE_POLICY", "FORAGE_IDLE", "FORAGE_STEAL" };
    const char *vals[] = { policy, idle, steal }, *opts[] = { "--policy", "--idle", "--steal" };
    for (int i = 0; i < 3; i++)
        if (vals[i] != NULL ? setenv(vars[i], vals[i], 1) : unsetenv(vars[i]))
            return SIM_ENOMEM;
    unsetenv("FORAGE_DEQUE");
    unsetenv("FORAGE_TRACE");
    unsetenv("FORAGE_STATS");
    unsetenv("FORAGE_RECORD");
    fg__config c;
    int rc = fg__config_resolve(FG_CONFIG(.workers = 1, .victim_fn = o->victim_fn,
                                          .victim_ctx = o->victim_ctx), &c);
    if (rc < 0) {
        const char *d = fg_last_error_detail();
        const char *opt = strstr(d, "FORAGE_POLICY") ? opts[0] : strstr(d, "FORAGE_IDLE") ? opts[1]
                        : strstr(d, "FORAGE_STEAL") ? opts[2] : "options";
        snprintf(err, el, "%s: %s", opt, d[0] ? d : fg_strerror(rc));
        return SIM_EINVAL;
    }
    if (o->victim_fn == NULL) {
        o->victim_fn = c.victim_fn;
        o->near = c.victim == FG_VICTIM_NEAR;
        o->policy_name = policy != NULL ? policy : "random";
    }
    o->spin_rounds = c.spin_rounds;
    o->spin_ns = c.spin_ns;
    o->wait_ns = c.wait_ns;
    o->yield_rounds = c.yield_rounds;
    o->steal = c.steal;
    return 0;
}

/* LIB.so:SYMBOL, an fg_victim_fn; its ctx is NULL. */
int sim_policy_load(sim_options *o, const char *spec, char *err, size_t el)
{
    const char *colon = strrchr(spec, ':');
    char path[4096];
    if (colon == NULL || colon == spec || colon[1] == '\0' || (size_t)(colon - spec) >= sizeof path) {
        snprintf(err, el, "--policy-lib \"%s\": want LIB.so:SYMBOL", spec);
        return SIM_EINVAL;
    }
    memcpy(path, spec, (size_t)(colon - spec));
    path[colon - spec] = '\0';
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    void *sym = lib != NULL ? dlsym(lib, colon + 1) : NULL;
    if (sym == NULL) {
        snprintf(err, el, "--policy-lib \"%s\": %s", spec, dlerror());
        return SIM_EINVAL;
    }
    /* POSIX: a function pointer converts through the object pointer dlsym gives. */
    memcpy(&o->victim_fn, &sym, sizeof sym);
    o->policy_name = spec;
    return 0; /* the library stays loaded until exit */
}

