// OpenBLAS, loaded with dlopen on first use rather than linked, so its core type (which kernels it runs) can
// be chosen for the CPU before the library's constructor reads OPENBLAS_CORETYPE: Debian's OpenBLAS 0.3.21
// does not know recent CPUs (Emerald Rapids, say) and otherwise falls back to its generic Prescott kernels.
#ifndef MNIST_OPENBLAS_LOADER_H
#define MNIST_OPENBLAS_LOADER_H

/// CBLAS's values for row-major order and for (not) transposing an operand.
enum { openblas_row_major = 101, openblas_no_transpose = 111, openblas_transpose = 112 };

/// Sets OPENBLAS_CORETYPE to `core_type` unless it is already set (or `core_type` is NULL), then loads
/// OpenBLAS and resolves its functions. Returns 0, or -1 with the reason in `message`. Call once, before any
/// other function here.
int openblas_load(const char *core_type, char *message, int message_length);

/// The core OpenBLAS runs ("Haswell", "SkylakeX", "Prescott", …) and its build configuration.
const char *openblas_core_name(void);
const char *openblas_configuration(void);

void openblas_set_threads(int count);

/// cblas_sgemm, cblas_sgemv and cblas_somatcopy, with their CBLAS arguments.
void openblas_sgemm(int order, int transpose_a, int transpose_b, int m, int n, int k, float alpha,
                    const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
void openblas_sgemv(int order, int transpose, int m, int n, float alpha, const float *a, int lda,
                    const float *x, int increment_x, float beta, float *y, int increment_y);
void openblas_somatcopy(int order, int transpose, int rows, int columns, float alpha, const float *a, int lda,
                        float *b, int ldb);

#endif
