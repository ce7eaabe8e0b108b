// For sched_getaffinity and the CPU_*_S macros.
#define _GNU_SOURCE
#include "hardware.h"

#include <string.h>

#if defined(__linux__)
#include <errno.h>
#include <sched.h>
#endif

#if defined(__x86_64__)
#include <cpuid.h>

/// XCR0: which register states the operating system saves on a context switch.
static unsigned long long read_xcr0(void) {
    unsigned int low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return ((unsigned long long)high << 32) | low;
}
#endif

void hardware_detect_cpu(hardware_cpu_features *features) {
    memset(features, 0, sizeof *features);
#if defined(__x86_64__)
    features->x86 = true;
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return;
    unsigned int highest = eax;
    memcpy(features->vendor, &ebx, 4);
    memcpy(features->vendor + 4, &edx, 4);
    memcpy(features->vendor + 8, &ecx, 4);

    __get_cpuid(1, &eax, &ebx, &ecx, &edx);
    unsigned int baseFamily = (eax >> 8) & 0xf, baseModel = (eax >> 4) & 0xf;
    features->family = (int)(baseFamily == 0xf ? baseFamily + ((eax >> 20) & 0xff) : baseFamily);
    features->model = (int)(baseFamily == 0x6 || baseFamily == 0xf ? (((eax >> 16) & 0xf) << 4) | baseModel : baseModel);
    bool fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    // SSE and AVX state (bits 1, 2); opmask and the upper 512-bit registers (bits 5, 6, 7); AMX tiles (17, 18).
    bool avxState = (xcr0 & 0x6) == 0x6;
    bool avx512State = avxState && (xcr0 & 0xe0) == 0xe0;
    bool amxState = (xcr0 & 0x60000) == 0x60000;

    if (highest >= 7) {
        __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
        features->avx2 = avx && avxState && ((ebx >> 5) & 1);
        features->fma = fma && avxState;
        features->avx512f = avx512State && ((ebx >> 16) & 1);
        features->avx512dq = avx512State && ((ebx >> 17) & 1);
        features->avx512bw = avx512State && ((ebx >> 30) & 1);
        features->avx512vl = avx512State && ((ebx >> 31) & 1);
        features->amxTile = amxState && ((edx >> 24) & 1);
        __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx);
        features->avx512bf16 = features->avx512f && ((eax >> 5) & 1);
    }
    if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) && eax >= 0x80000004) {
        unsigned int *brand = (unsigned int *)features->brand;
        for (unsigned int leaf = 0; leaf < 3; leaf++) {
            __get_cpuid(0x80000002 + leaf, &brand[leaf * 4], &brand[leaf * 4 + 1], &brand[leaf * 4 + 2], &brand[leaf * 4 + 3]);
        }
        features->brand[48] = 0;
    }
#endif
}

int hardware_affinity_cpu_count(void) {
#if defined(__linux__)
    // The kernel refuses a mask smaller than its own CPU count (EINVAL): double it until one fits.
    for (int cpus = 1024; cpus <= (1 << 20); cpus *= 2) {
        cpu_set_t *set = CPU_ALLOC(cpus);
        if (set == NULL) return 0;
        size_t size = CPU_ALLOC_SIZE(cpus);
        CPU_ZERO_S(size, set);
        int result = sched_getaffinity(0, size, set);
        int count = result == 0 ? CPU_COUNT_S(size, set) : 0;
        int error = errno;
        CPU_FREE(set);
        if (result == 0) return count;
        if (error != EINVAL) return 0;
    }
#endif
    return 0;
}
