/* calibrate.h: measure this machine's costs and print them as --costs. */
#ifndef SIM_CALIBRATE_H
#define SIM_CALIBRATE_H

#include <stdio.h>

/* 0, or 1 when this machine cannot be measured (one PU). */
int sim_calibrate(FILE *out);

#endif
