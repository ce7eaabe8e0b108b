// For sched_getcpu, sched_setaffinity and the CPU_* macros.
#define _GNU_SOURCE
#include "test_support.h"

#if defined(__linux__)
#include <sched.h>
#endif

int test_support_pin_calling_thread(void) {
#if defined(__linux__)
    int cpu = sched_getcpu();
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -1;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one);
#else
    return -1;
#endif
}
