#include "vector_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

bool vector_kernels_available(void) { return true; }

/// Six accumulators per block of 16 positions; the second block's are only touched when `blocks` is 2, which
/// the compiler hoists out of the loop.
__attribute__((target("avx512f"))) void vector_direct_forward_six_channels(
    const float *start, const intptr_t *tap_offsets, const float *weights, uint64_t kernel_rows,
    intptr_t taps_per_kernel_row, int blocks, float *runs, intptr_t run_stride) {
    __m512 first[6], second[6];
    for (int channel = 0; channel < 6; channel++) {
        first[channel] = _mm512_setzero_ps();
        second[channel] = _mm512_setzero_ps();
    }
    while (kernel_rows != 0) {
        intptr_t row = __builtin_ctzll(kernel_rows);
        kernel_rows &= kernel_rows - 1;
        intptr_t end = (row + 1) * taps_per_kernel_row;
        if (blocks == 2) {
            for (intptr_t tap = row * taps_per_kernel_row; tap < end; tap++) {
                const float *values = start + tap_offsets[tap];
                __m512 valuesFirst = _mm512_loadu_ps(values), valuesSecond = _mm512_loadu_ps(values + 16);
                const float *tapWeights = weights + tap * 6;
                for (int channel = 0; channel < 6; channel++) {
                    __m512 weight = _mm512_set1_ps(tapWeights[channel]);
                    first[channel] = _mm512_fmadd_ps(valuesFirst, weight, first[channel]);
                    second[channel] = _mm512_fmadd_ps(valuesSecond, weight, second[channel]);
                }
            }
        } else {
            for (intptr_t tap = row * taps_per_kernel_row; tap < end; tap++) {
                __m512 values = _mm512_loadu_ps(start + tap_offsets[tap]);
                const float *tapWeights = weights + tap * 6;
                for (int channel = 0; channel < 6; channel++) {
                    first[channel] = _mm512_fmadd_ps(values, _mm512_set1_ps(tapWeights[channel]), first[channel]);
                }
            }
        }
    }
    for (int channel = 0; channel < 6; channel++) {
        _mm512_storeu_ps(runs + channel * run_stride, first[channel]);
        if (blocks == 2) _mm512_storeu_ps(runs + channel * run_stride + 16, second[channel]);
    }
}

__attribute__((target("avx512f"))) void vector_channels_in_lanes_forward(
    const float *source, const intptr_t *tap_offsets, intptr_t taps, const float *weights,
    const intptr_t *position_offsets, float *sums) {
    __m512 sum[12];
    for (int position = 0; position < 12; position++) sum[position] = _mm512_setzero_ps();
    for (intptr_t tap = 0; tap < taps; tap++) {
        const float *tapInput = source + tap_offsets[tap];
        __m512 tapWeights = _mm512_loadu_ps(weights + tap * 16);
        for (int position = 0; position < 12; position++) {
            __m512 value = _mm512_set1_ps(tapInput[position_offsets[position]]);
            sum[position] = _mm512_fmadd_ps(value, tapWeights, sum[position]);
        }
    }
    for (int position = 0; position < 12; position++) _mm512_storeu_ps(sums + position * 16, sum[position]);
}

__attribute__((target("avx512f"))) void vector_channels_in_lanes_weight_gradient(
    const float *source, const intptr_t *tap_offsets, intptr_t width, intptr_t output_height,
    intptr_t output_width, const float *gradients, intptr_t gradient_stride, bool accumulate, float *sums) {
    __m512 sum[12];
    for (int tap = 0; tap < 12; tap++) sum[tap] = _mm512_setzero_ps();
    for (intptr_t outputY = 0; outputY < output_height; outputY++) {
        for (intptr_t outputX = 0; outputX < output_width; outputX++) {
            const float *inputs = source + outputY * width + outputX;
            __m512 gradient = _mm512_loadu_ps(gradients + (outputY * output_width + outputX) * gradient_stride);
            for (int tap = 0; tap < 12; tap++) {
                sum[tap] = _mm512_fmadd_ps(_mm512_set1_ps(inputs[tap_offsets[tap]]), gradient, sum[tap]);
            }
        }
    }
    for (int tap = 0; tap < 12; tap++) {
        if (accumulate) sum[tap] = _mm512_add_ps(_mm512_loadu_ps(sums + tap * 16), sum[tap]);
        _mm512_storeu_ps(sums + tap * 16, sum[tap]);
    }
}

#else

bool vector_kernels_available(void) { return false; }

void vector_direct_forward_six_channels(
    const float *start, const intptr_t *tap_offsets, const float *weights, uint64_t kernel_rows,
    intptr_t taps_per_kernel_row, int blocks, float *runs, intptr_t run_stride) {
    (void)start, (void)tap_offsets, (void)weights, (void)kernel_rows, (void)taps_per_kernel_row, (void)blocks;
    (void)runs, (void)run_stride;
    __builtin_trap();  // never called: vector_kernels_available() is false
}

void vector_channels_in_lanes_forward(
    const float *source, const intptr_t *tap_offsets, intptr_t taps, const float *weights,
    const intptr_t *position_offsets, float *sums) {
    (void)source, (void)tap_offsets, (void)taps, (void)weights, (void)position_offsets, (void)sums;
    __builtin_trap();
}

void vector_channels_in_lanes_weight_gradient(
    const float *source, const intptr_t *tap_offsets, intptr_t width, intptr_t output_height,
    intptr_t output_width, const float *gradients, intptr_t gradient_stride, bool accumulate, float *sums) {
    (void)source, (void)tap_offsets, (void)width, (void)output_height, (void)output_width, (void)gradients;
    (void)gradient_stride, (void)accumulate, (void)sums;
    __builtin_trap();
}

#endif
