// What the CPU can do, read with CPUID (x86-64) in plain C that any CPU of the architecture runs: the
// baseline check must not itself need the baseline.
#ifndef MNIST_HARDWARE_H
#define MNIST_HARDWARE_H

#include <stdbool.h>

/// The instruction-set features the kernels and OpenBLAS care about. A vector feature counts only when the
/// operating system also saves its registers (XGETBV), as a CPU's CPUID bits alone do not say that.
typedef struct {
    /// True on x86-64, where the other flags mean something.
    bool x86;
    bool avx2;
    bool fma;
    bool avx512f;
    bool avx512bw;
    bool avx512dq;
    bool avx512vl;
    bool avx512bf16;
    bool amxTile;
    /// CPUID's vendor ("GenuineIntel", "AuthenticAMD"), empty where there is none.
    char vendor[13];
    /// CPUID's brand string ("AMD EPYC 7B13"), empty where there is none.
    char brand[49];
    /// CPUID's display family and model (family 25 model 17 is AMD Zen 4), 0 where there are none.
    int family;
    int model;
} hardware_cpu_features;

/// Reads the features of the CPU this runs on.
void hardware_detect_cpu(hardware_cpu_features *features);

/// How many CPUs the calling thread may run on: its affinity mask (`taskset`, a container's cpuset), which
/// threads it starts inherit. 0 where that cannot be read (not Linux).
int hardware_affinity_cpu_count(void);

#endif
