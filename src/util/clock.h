/* Wall-clock time: UTC epoch milliseconds, the one unit gnomon's records, schedules and task ids use. */
#ifndef GNOMON_UTIL_CLOCK_H
#define GNOMON_UTIL_CLOCK_H

#include <stdint.h>

/* Now, from CLOCK_REALTIME. */
int64_t clock_now_ms(void);

#endif
