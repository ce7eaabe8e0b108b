#include "openblas_loader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*sgemm_function)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                               float *, int);
typedef void (*sgemv_function)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*somatcopy_function)(int, int, int, int, float, const float *, int, float *, int);
typedef void (*set_threads_function)(int);
typedef char *(*name_function)(void);

static sgemm_function sgemm;
static sgemv_function sgemv;
static somatcopy_function somatcopy;
static set_threads_function set_threads;
static name_function core_name;
static name_function configuration;

int openblas_load(const char *core_type, char *message, int message_length) {
    if (core_type) setenv("OPENBLAS_CORETYPE", core_type, 0);
    // One thread from the start (BLAS.swift says why): otherwise OpenBLAS starts a server thread per core as it
    // loads, which spins for a while beside the kernels' own threads. Read as the library loads, and taken
    // away again after, so child processes (the PyTorch reference of `mnist bench`) do not inherit it.
    int sets_thread_count = getenv("OPENBLAS_NUM_THREADS") == NULL;
    if (sets_thread_count) setenv("OPENBLAS_NUM_THREADS", "1", 1);
    // Debian's runtime package installs libopenblas.so.0; the -dev package adds the unversioned name.
    const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    void *library = NULL;
    for (unsigned i = 0; i < sizeof names / sizeof names[0] && !library; i++) library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (sets_thread_count) unsetenv("OPENBLAS_NUM_THREADS");
    if (!library) {
        snprintf(message, (size_t)message_length, "cannot load OpenBLAS (libopenblas.so.0): %s", dlerror());
        return -1;
    }
    void *functions[6];
    const char *symbols[6] = {"cblas_sgemm", "cblas_sgemv", "cblas_somatcopy", "openblas_set_num_threads",
                              "openblas_get_corename", "openblas_get_config"};
    for (int index = 0; index < 6; index++) {
        functions[index] = dlsym(library, symbols[index]);
        if (!functions[index]) {
            snprintf(message, (size_t)message_length, "the loaded OpenBLAS has no %s", symbols[index]);
            return -1;
        }
    }
    sgemm = (sgemm_function)functions[0];
    sgemv = (sgemv_function)functions[1];
    somatcopy = (somatcopy_function)functions[2];
    set_threads = (set_threads_function)functions[3];
    core_name = (name_function)functions[4];
    configuration = (name_function)functions[5];
    return 0;
}

const char *openblas_core_name(void) { return core_name(); }
const char *openblas_configuration(void) { return configuration(); }
void openblas_set_threads(int count) { set_threads(count); }

void openblas_sgemm(int order, int transpose_a, int transpose_b, int m, int n, int k, float alpha,
                    const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm(order, transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void openblas_sgemv(int order, int transpose, int m, int n, float alpha, const float *a, int lda,
                    const float *x, int increment_x, float beta, float *y, int increment_y) {
    sgemv(order, transpose, m, n, alpha, a, lda, x, increment_x, beta, y, increment_y);
}

void openblas_somatcopy(int order, int transpose, int rows, int columns, float alpha, const float *a, int lda,
                        float *b, int ldb) {
    somatcopy(order, transpose, rows, columns, alpha, a, lda, b, ldb);
}
