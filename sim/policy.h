/* policy.h: choosing the victim policy of a simulated run. */
#ifndef SIM_POLICY_H
#define SIM_POLICY_H

#include <stddef.h>

#include "engine.h"

/* Fill o's policy (unless o->victim_fn is set already), idle ladder and
 * steal amount from option values (NULL: the runtime's default).  0, or
 * SIM_EINVAL with a message naming the option. */
int sim_policy_resolve(sim_options *o, const char *policy, const char *idle, const char *steal,
                       char *err, size_t errlen);
/* "LIB.so:SYMBOL": an fg_victim_fn from a shared object (ctx NULL).  0, or
 * SIM_EINVAL with dlerror's message. */
int sim_policy_load(sim_options *o, const char *spec, char *err, size_t errlen);

#endif
