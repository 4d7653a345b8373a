/* clock.h: the clocks the programs read, in the units they use; pure code takes the time as an argument instead. */
#ifndef BACKLOGD_CLOCK_H
#define BACKLOGD_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds and microseconds: intervals, deadlines. */
int64_t clock_mono_ms(void);
uint64_t clock_mono_us(void);
/* CLOCK_REALTIME in milliseconds: what a person reads (first_seen, journal). */
int64_t clock_wall_ms(void);

#endif
