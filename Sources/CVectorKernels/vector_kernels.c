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

/// columns[k] lane i = rows[i] lane k: a 16 × 16 block transposed in registers, four rounds of sixteen shuffles.
static inline __attribute__((always_inline, target("avx512f"))) void transpose_sixteen(
    const __m512 *rows, __m512 *columns) {
    // After the 32- and 64-bit interleaves, quads[4m + q] holds in its 128-bit block j the lanes 4j + q of
    // rows 4m ..< 4m + 4.
    __m512 pairs[16], quads[16];
    for (int row = 0; row < 16; row += 2) {
        pairs[row] = _mm512_unpacklo_ps(rows[row], rows[row + 1]);
        pairs[row + 1] = _mm512_unpackhi_ps(rows[row], rows[row + 1]);
    }
    for (int row = 0; row < 16; row += 4) {
        __m512d first = _mm512_castps_pd(pairs[row]), second = _mm512_castps_pd(pairs[row + 1]);
        __m512d third = _mm512_castps_pd(pairs[row + 2]), fourth = _mm512_castps_pd(pairs[row + 3]);
        quads[row] = _mm512_castpd_ps(_mm512_unpacklo_pd(first, third));
        quads[row + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(first, third));
        quads[row + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(second, fourth));
        quads[row + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(second, fourth));
    }
    // Column 4j + q gathers block j of quads[q], quads[4 + q], quads[8 + q], quads[12 + q], in that order.
    for (int q = 0; q < 4; q++) {
        __m512 low01 = _mm512_shuffle_f32x4(quads[q], quads[4 + q], 0x44);
        __m512 high01 = _mm512_shuffle_f32x4(quads[q], quads[4 + q], 0xEE);
        __m512 low23 = _mm512_shuffle_f32x4(quads[8 + q], quads[12 + q], 0x44);
        __m512 high23 = _mm512_shuffle_f32x4(quads[8 + q], quads[12 + q], 0xEE);
        columns[q] = _mm512_shuffle_f32x4(low01, low23, 0x88);
        columns[4 + q] = _mm512_shuffle_f32x4(low01, low23, 0xDD);
        columns[8 + q] = _mm512_shuffle_f32x4(high01, high23, 0x88);
        columns[12 + q] = _mm512_shuffle_f32x4(high01, high23, 0xDD);
    }
}

/// Sixteen positions' sums of sixteen channels (position p's in sums[p], a channel per lane), the bias added,
/// transposed in registers (`transpose_sixteen`) so that each channel's positions go out in one store:
/// planes[c · plane_stride + p] for p < count (≤ 16).
static inline __attribute__((always_inline, target("avx512f"))) void store_channels(
    __m512 *sums, const float *bias, intptr_t count, float *planes, intptr_t plane_stride) {
    __m512 biasLanes = _mm512_loadu_ps(bias), channels[16];
    for (int position = 0; position < 16; position++) sums[position] = _mm512_add_ps(sums[position], biasLanes);
    transpose_sixteen(sums, channels);
    __mmask16 stored = count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1);
    for (int channel = 0; channel < 16; channel++) {
        _mm512_mask_storeu_ps(planes + channel * plane_stride, stored, channels[channel]);
    }
}

/// Sixteen accumulators, one per position, then `store_channels`.
__attribute__((target("avx512f"))) void vector_channels_in_lanes_forward(
    const float *source, const intptr_t *tap_offsets, intptr_t taps, const float *weights,
    const intptr_t *position_offsets, const float *bias, intptr_t count, float *planes, intptr_t plane_stride) {
    __m512 sum[16];
    for (int position = 0; position < 16; position++) sum[position] = _mm512_setzero_ps();
    for (intptr_t tap = 0; tap < taps; tap++) {
        const float *tapInput = source + tap_offsets[tap];
        __m512 tapWeights = _mm512_loadu_ps(weights + tap * 16);
        for (int position = 0; position < 16; position++) {
            __m512 value = _mm512_set1_ps(tapInput[position_offsets[position]]);
            sum[position] = _mm512_fmadd_ps(value, tapWeights, sum[position]);
        }
    }
    store_channels(sum, bias, count, planes, plane_stride);
}

/// One block of `vector_channels_in_lanes_forward_rows`: `positions` neighbouring positions of a row by two
/// groups of sixteen channels (up to 24 accumulators), each position's input at a constant offset from `start`
/// (no table of offsets to load), each tap's 32 weights in two loads; each group's sums then go out through
/// `store_channels`. Called with constant sizes, so each call unrolls into its own registers.
static inline __attribute__((always_inline, target("avx512f"))) void channels_in_lanes_row_block(
    const float *start, const intptr_t *tap_offsets, intptr_t taps, const float *weights, const float *bias,
    float *planes, intptr_t plane_stride, const int positions) {
    __m512 sum[2][12];
    for (int group = 0; group < 2; group++) {
        for (int position = 0; position < positions; position++) sum[group][position] = _mm512_setzero_ps();
    }
    for (intptr_t tap = 0; tap < taps; tap++) {
        const float *tapInput = start + tap_offsets[tap];
        __m512 first = _mm512_loadu_ps(weights + tap * 32), second = _mm512_loadu_ps(weights + tap * 32 + 16);
#pragma clang loop unroll(full)
        for (int position = 0; position < positions; position++) {
            __m512 value = _mm512_set1_ps(tapInput[position]);
            sum[0][position] = _mm512_fmadd_ps(value, first, sum[0][position]);
            sum[1][position] = _mm512_fmadd_ps(value, second, sum[1][position]);
        }
    }
    for (int group = 0; group < 2; group++) {
        __m512 rows[16];
        for (int position = 0; position < 16; position++) {
            rows[position] = position < positions ? sum[group][position] : _mm512_setzero_ps();
        }
        store_channels(rows, bias + group * 16, positions, planes + group * 16 * plane_stride, plane_stride);
    }
}

#define CHANNELS_IN_LANES_ROW_BLOCK(positions)                                                                   \
    case positions:                                                                                              \
        channels_in_lanes_row_block(start, tap_offsets, taps, weights, bias, target, plane_stride, positions);   \
        break;

__attribute__((target("avx512f"))) void vector_channels_in_lanes_forward_rows(
    const float *source, const intptr_t *tap_offsets, intptr_t taps, const float *weights, const float *bias,
    intptr_t width, intptr_t output_height, intptr_t output_width, float *planes, intptr_t plane_stride) {
    // Each row in equal blocks of at most twelve positions (the last one shorter).
    intptr_t row_blocks = (output_width + 11) / 12, block_size = (output_width + row_blocks - 1) / row_blocks;
    for (intptr_t outputY = 0; outputY < output_height; outputY++) {
        for (intptr_t outputX = 0; outputX < output_width; outputX += block_size) {
            const float *start = source + outputY * width + outputX;
            float *target = planes + outputY * output_width + outputX;
            switch (output_width - outputX < block_size ? output_width - outputX : block_size) {
                CHANNELS_IN_LANES_ROW_BLOCK(1)
                CHANNELS_IN_LANES_ROW_BLOCK(2)
                CHANNELS_IN_LANES_ROW_BLOCK(3)
                CHANNELS_IN_LANES_ROW_BLOCK(4)
                CHANNELS_IN_LANES_ROW_BLOCK(5)
                CHANNELS_IN_LANES_ROW_BLOCK(6)
                CHANNELS_IN_LANES_ROW_BLOCK(7)
                CHANNELS_IN_LANES_ROW_BLOCK(8)
                CHANNELS_IN_LANES_ROW_BLOCK(9)
                CHANNELS_IN_LANES_ROW_BLOCK(10)
                CHANNELS_IN_LANES_ROW_BLOCK(11)
                default: channels_in_lanes_row_block(start, tap_offsets, taps, weights, bias, target, plane_stride, 12);
            }
        }
    }
}

__attribute__((target("avx512f"))) void vector_transpose_channels_last(
    const float *planes, intptr_t channels, intptr_t positions, float *rows) {
    for (intptr_t group = 0; group < channels; group += 16) {
        for (intptr_t first = 0; first < positions; first += 16) {
            intptr_t count = positions - first < 16 ? positions - first : 16;
            __mmask16 inside = (__mmask16)((1u << count) - 1);
            __m512 channelRows[16], positionRows[16];
            for (int channel = 0; channel < 16; channel++) {
                channelRows[channel] = _mm512_maskz_loadu_ps(inside, planes + (group + channel) * positions + first);
            }
            transpose_sixteen(channelRows, positionRows);
            for (intptr_t position = 0; position < count; position++) {
                _mm512_storeu_ps(rows + (first + position) * channels + group, positionRows[position]);
            }
        }
    }
}

/// One block of `vector_channels_in_lanes_weight_gradient`: `taps` taps by `groups` groups of sixteen channels
/// (up to 24 accumulators) over the image's positions, each tap's input broadcast once for both groups.
/// Called with constant sizes, so each call unrolls into its own register allocation.
static inline __attribute__((always_inline, target("avx512f"))) void channels_in_lanes_weight_gradient_block(
    const float *source, const intptr_t *tap_offsets, intptr_t width, intptr_t output_height, intptr_t output_width,
    const float *gradients, intptr_t channels, bool accumulate, float *sums, const int groups, const int taps) {
    __m512 sum[2][12];
    const float *tapInputs[12];
    for (int tap = 0; tap < taps; tap++) {
        tapInputs[tap] = source + tap_offsets[tap];
        for (int group = 0; group < groups; group++) sum[group][tap] = _mm512_setzero_ps();
    }
    for (intptr_t outputY = 0; outputY < output_height; outputY++) {
        const float *rowGradients = gradients + outputY * output_width * channels;
        intptr_t row = outputY * width;
        for (intptr_t outputX = 0; outputX < output_width; outputX++) {
            __m512 gradient[2];
            for (int group = 0; group < groups; group++) {
                gradient[group] = _mm512_loadu_ps(rowGradients + outputX * channels + group * 16);
            }
#pragma clang loop unroll(full)
            for (int tap = 0; tap < taps; tap++) {
                __m512 value = _mm512_set1_ps(tapInputs[tap][row + outputX]);
                for (int group = 0; group < groups; group++) {
                    sum[group][tap] = _mm512_fmadd_ps(value, gradient[group], sum[group][tap]);
                }
            }
        }
    }
    for (int tap = 0; tap < taps; tap++) {
        for (int group = 0; group < groups; group++) {
            float *total = sums + tap * channels + group * 16;
            _mm512_storeu_ps(total, accumulate ? _mm512_add_ps(_mm512_loadu_ps(total), sum[group][tap]) : sum[group][tap]);
        }
    }
}

// The block's tap count as a constant too.
#define CHANNELS_IN_LANES_WEIGHT_GRADIENT_TAPS(groups)                                                           \
    switch (block_taps) {                                                                                        \
    case 1: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 1) break;                                           \
    case 2: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 2) break;                                           \
    case 3: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 3) break;                                           \
    case 4: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 4) break;                                           \
    case 5: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 5) break;                                           \
    case 6: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 6) break;                                           \
    case 7: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 7) break;                                           \
    case 8: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 8) break;                                           \
    case 9: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 9) break;                                           \
    case 10: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 10) break;                                         \
    case 11: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 11) break;                                         \
    default: CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, 12) break;                                         \
    }
#define CHANNELS_IN_LANES_WEIGHT_GRADIENT_BLOCK(groups, taps)                                                    \
    channels_in_lanes_weight_gradient_block(source, tap_offsets + first_tap, width, output_height, output_width,  \
        gradients + first_channel, channels, accumulate, sums + first_tap * channels + first_channel, groups, taps);

__attribute__((target("avx512f"))) void vector_channels_in_lanes_weight_gradient(
    const float *source, const intptr_t *tap_offsets, intptr_t taps, intptr_t width, intptr_t output_height,
    intptr_t output_width, const float *gradients, intptr_t channels, bool accumulate, float *sums) {
    // Blocks of up to twelve taps, the taps split into equal blocks; channels 32 at a time, then 16.
    intptr_t tap_blocks = (taps + 11) / 12, block_size = (taps + tap_blocks - 1) / tap_blocks;
    for (intptr_t first_channel = 0; first_channel < channels; first_channel += 32) {
        for (intptr_t first_tap = 0; first_tap < taps; first_tap += block_size) {
            intptr_t block_taps = taps - first_tap < block_size ? taps - first_tap : block_size;
            if (channels - first_channel >= 32) {
                CHANNELS_IN_LANES_WEIGHT_GRADIENT_TAPS(2)
            } else {
                CHANNELS_IN_LANES_WEIGHT_GRADIENT_TAPS(1)
            }
        }
    }
}

/// One block of `vector_direct_weight_gradient`: `pairs` channel pairs by `taps` taps, held in registers over
/// the image's vectors. Called with constant sizes, so each call unrolls into its own register allocation.
static inline __attribute__((always_inline, target("avx512f"))) void direct_weight_gradient_block(
    const float *paired, intptr_t vectors, const float *input, const intptr_t *tap_offsets, float *totals,
    intptr_t total_taps, const int pairs, const int taps) {
    __m512 sum[3][6];
    for (int pair = 0; pair < pairs; pair++) {
        for (int tap = 0; tap < taps; tap++) sum[pair][tap] = _mm512_setzero_ps();
    }
    for (intptr_t vector = 0; vector < vectors; vector++) {
        __m512 gradient[3];
        for (int pair = 0; pair < pairs; pair++) {
            gradient[pair] = _mm512_loadu_ps(paired + (pair * vectors + vector) * 16);
        }
        for (int tap = 0; tap < taps; tap++) {
            // The tap's eight inputs in both halves (a 256-bit broadcast: one load, no shuffle).
            __m512 values = _mm512_castpd_ps(
                _mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(input + tap_offsets[tap] + vector * 8))));
            for (int pair = 0; pair < pairs; pair++) {
                sum[pair][tap] = _mm512_fmadd_ps(gradient[pair], values, sum[pair][tap]);
            }
        }
    }
    for (int pair = 0; pair < pairs; pair++) {
        for (int tap = 0; tap < taps; tap++) {
            float *total = totals + (pair * total_taps + tap) * 16;
            _mm512_storeu_ps(total, _mm512_add_ps(_mm512_loadu_ps(total), sum[pair][tap]));
        }
    }
}

// The block's tap count as a constant too.
#define DIRECT_WEIGHT_GRADIENT_TAPS(pairs)                                                                       \
    switch (block_taps) {                                                                                        \
    case 1: direct_weight_gradient_block(block_paired, vectors, input, offsets, block_totals, taps, pairs, 1); break; \
    case 2: direct_weight_gradient_block(block_paired, vectors, input, offsets, block_totals, taps, pairs, 2); break; \
    case 3: direct_weight_gradient_block(block_paired, vectors, input, offsets, block_totals, taps, pairs, 3); break; \
    case 4: direct_weight_gradient_block(block_paired, vectors, input, offsets, block_totals, taps, pairs, 4); break; \
    case 5: direct_weight_gradient_block(block_paired, vectors, input, offsets, block_totals, taps, pairs, 5); break; \
    default: direct_weight_gradient_block(block_paired, vectors, input, offsets, block_totals, taps, pairs, 6); break; \
    }

__attribute__((target("avx512f"))) void vector_direct_weight_gradient(
    const float *gradients, intptr_t gradient_plane, intptr_t channels, intptr_t vectors, const float *input,
    const intptr_t *tap_offsets, intptr_t taps, float *paired, float *totals) {
    intptr_t pairs = (channels + 1) / 2;
    for (intptr_t pair = 0; pair < pairs; pair++) {
        const float *first = gradients + 2 * pair * gradient_plane;
        const float *second = gradients + (2 * pair + 1 < channels ? 2 * pair + 1 : 2 * pair) * gradient_plane;
        for (intptr_t vector = 0; vector < vectors; vector++) {
            float *target = paired + (pair * vectors + vector) * 16;
            _mm256_storeu_ps(target, _mm256_loadu_ps(first + vector * 8));
            _mm256_storeu_ps(target + 8, _mm256_loadu_ps(second + vector * 8));
        }
    }
    // Blocks of up to three pairs by up to six taps (18 accumulators), the taps split into equal blocks.
    intptr_t tap_blocks = (taps + 5) / 6, block_size = (taps + tap_blocks - 1) / tap_blocks;
    for (intptr_t first_pair = 0; first_pair < pairs; first_pair += 3) {
        intptr_t block_pairs = pairs - first_pair < 3 ? pairs - first_pair : 3;
        for (intptr_t first_tap = 0; first_tap < taps; first_tap += block_size) {
            intptr_t block_taps = taps - first_tap < block_size ? taps - first_tap : block_size;
            const float *block_paired = paired + first_pair * vectors * 16;
            const intptr_t *offsets = tap_offsets + first_tap;
            float *block_totals = totals + (first_pair * taps + first_tap) * 16;
            if (block_pairs == 3) {
                DIRECT_WEIGHT_GRADIENT_TAPS(3)
            } else if (block_pairs == 2) {
                DIRECT_WEIGHT_GRADIENT_TAPS(2)
            } else {
                DIRECT_WEIGHT_GRADIENT_TAPS(1)
            }
        }
    }
}

/// `Activation.tanhApproximation` on sixteen lanes: the same operations in the same order as its 8-lane
/// version, min and max with the same operand order (each returns its second operand when either is NaN).
static inline __attribute__((always_inline, target("avx512f"))) __m512 tanh_sixteen(__m512 x) {
    const __m512 limit = _mm512_set1_ps(9), one = _mm512_set1_ps(1);
    __m512 clamped = _mm512_min_ps(limit, _mm512_max_ps(_mm512_set1_ps(-9), x));
    __m512 square = _mm512_mul_ps(clamped, clamped);
    __m512 numerator =
        _mm512_fmadd_ps(_mm512_set1_ps(-2.76076847742355e-16f), square, _mm512_set1_ps(2.00018790482477e-13f));
    numerator = _mm512_fmadd_ps(numerator, square, _mm512_set1_ps(-8.60467152213735e-11f));
    numerator = _mm512_fmadd_ps(numerator, square, _mm512_set1_ps(5.12229709037114e-08f));
    numerator = _mm512_fmadd_ps(numerator, square, _mm512_set1_ps(1.48572235717979e-05f));
    numerator = _mm512_fmadd_ps(numerator, square, _mm512_set1_ps(6.37261928875436e-04f));
    numerator = _mm512_fmadd_ps(numerator, square, _mm512_set1_ps(4.89352518554385e-03f));
    __m512 denominator =
        _mm512_fmadd_ps(_mm512_set1_ps(1.19825839466702e-06f), square, _mm512_set1_ps(1.18534705686654e-04f));
    denominator = _mm512_fmadd_ps(denominator, square, _mm512_set1_ps(2.26843463243900e-03f));
    denominator = _mm512_fmadd_ps(denominator, square, _mm512_set1_ps(4.89352518554385e-03f));
    __m512 ratio = _mm512_mul_ps(clamped, _mm512_div_ps(numerator, denominator));
    return _mm512_max_ps(_mm512_set1_ps(-1), _mm512_min_ps(one, ratio));
}

__attribute__((target("avx512f"))) void vector_tanh_average_pool(
    const float *input, float *activated, float *output, intptr_t planes, intptr_t height, intptr_t width) {
    intptr_t count = planes * height * width;
    for (intptr_t index = 0; index < count; index += 16) {
        __mmask16 inside = count - index >= 16 ? 0xFFFF : (__mmask16)((1u << (count - index)) - 1);
        _mm512_mask_storeu_ps(activated + index, inside, tanh_sixteen(_mm512_maskz_loadu_ps(inside, input + index)));
    }
    // A row of up to 32 values as two vectors; its even columns gathered in lanes 0 ..< 16, its odd ones likewise.
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    intptr_t pooledHeight = height / 2, pooledWidth = width / 2;
    __mmask16 low = width >= 16 ? 0xFFFF : (__mmask16)((1u << width) - 1);
    __mmask16 high = width > 16 ? (__mmask16)((1u << (width - 16)) - 1) : 0;
    __mmask16 pooled = (__mmask16)((1u << pooledWidth) - 1);
    const __m512 quarter = _mm512_set1_ps(0.25f);
    for (intptr_t plane = 0; plane < planes; plane++) {
        for (intptr_t row = 0; row < pooledHeight; row++) {
            const float *top = activated + (plane * height + 2 * row) * width, *bottom = top + width;
            __m512 topLow = _mm512_maskz_loadu_ps(low, top), topHigh = _mm512_maskz_loadu_ps(high, top + 16);
            __m512 bottomLow = _mm512_maskz_loadu_ps(low, bottom);
            __m512 bottomHigh = _mm512_maskz_loadu_ps(high, bottom + 16);
            // ((top[2x] + top[2x + 1]) + bottom[2x]) + bottom[2x + 1], times 1/4: `AvgPool2D.forward`'s order.
            __m512 sum = _mm512_add_ps(
                _mm512_permutex2var_ps(topLow, even, topHigh), _mm512_permutex2var_ps(topLow, odd, topHigh));
            sum = _mm512_add_ps(sum, _mm512_permutex2var_ps(bottomLow, even, bottomHigh));
            sum = _mm512_add_ps(sum, _mm512_permutex2var_ps(bottomLow, odd, bottomHigh));
            _mm512_mask_storeu_ps(
                output + (plane * pooledHeight + row) * pooledWidth, pooled, _mm512_mul_ps(sum, quarter));
        }
    }
}

/// Eight accumulators of 16 outputs: one broadcast and eight loads feed eight fused multiply-adds per entry. The
/// range's 96 × 128 weights (48 KB) stay in the first or second-level cache across the group's rows.
__attribute__((target("avx512f"))) void vector_sparse_forward_blocks(
    const float *values, const intptr_t *positions, const intptr_t *range_starts, intptr_t rows, intptr_t ranges,
    const float *transposed, const float *bias, intptr_t outputs, intptr_t blocks, float *output) {
    for (intptr_t range = 0; range < ranges; range++) {
        for (intptr_t block = 0; block < blocks; block++) {
            const float *columns = transposed + block * 128;
            for (intptr_t row = 0; row < rows; row++) {
                const intptr_t *starts = range_starts + row * (ranges + 1);
                float *target = output + row * outputs + block * 128;
                __m512 sum[8];
                for (int vector = 0; vector < 8; vector++) {
                    // The first range starts from the bias, the others from the sums stored before.
                    sum[vector] = range > 0 ? _mm512_loadu_ps(target + vector * 16)
                                  : bias   ? _mm512_loadu_ps(bias + block * 128 + vector * 16)
                                           : _mm512_setzero_ps();
                }
                for (intptr_t entry = starts[range]; entry < starts[range + 1]; entry++) {
                    __m512 value = _mm512_set1_ps(values[entry]);
                    const float *weights = columns + positions[entry];
                    for (int vector = 0; vector < 8; vector++) {
                        sum[vector] = _mm512_fmadd_ps(value, _mm512_loadu_ps(weights + vector * 16), sum[vector]);
                    }
                }
                for (int vector = 0; vector < 8; vector++) _mm512_storeu_ps(target + vector * 16, sum[vector]);
            }
        }
    }
}

/// Sixteen inputs at a time, compressed in registers and stored whole (a compressing store to memory is slow on
/// some CPUs, Zen 4 among them).
__attribute__((target("avx512f"))) intptr_t vector_sparse_list(
    const float *source, intptr_t count, intptr_t first_index, intptr_t stride, float *values, intptr_t *positions) {
    intptr_t listed = 0;
    // Lane l's offset l · stride, for the first eight lanes and the last eight.
    const __m512i lowOffsets = _mm512_set_epi64(
        7 * stride, 6 * stride, 5 * stride, 4 * stride, 3 * stride, 2 * stride, stride, 0);
    const __m512i highOffsets = _mm512_add_epi64(lowOffsets, _mm512_set1_epi64(8 * stride));
    for (intptr_t index = 0; index < count; index += 16) {
        __mmask16 inside = count - index >= 16 ? 0xFFFF : (__mmask16)((1u << (count - index)) - 1);
        __m512 block = _mm512_maskz_loadu_ps(inside, source + index);
        __mmask16 nonzero = _mm512_mask_cmp_ps_mask(inside, block, _mm512_setzero_ps(), _CMP_NEQ_UQ);
        _mm512_storeu_ps(values + listed, _mm512_maskz_compress_ps(nonzero, block));
        __m512i first = _mm512_set1_epi64((first_index + index) * stride);
        __m512i low = _mm512_add_epi64(first, lowOffsets), high = _mm512_add_epi64(first, highOffsets);
        intptr_t lowCount = __builtin_popcount(nonzero & 0xFF);
        _mm512_storeu_si512(positions + listed, _mm512_maskz_compress_epi64((__mmask8)nonzero, low));
        _mm512_storeu_si512(
            positions + listed + lowCount, _mm512_maskz_compress_epi64((__mmask8)(nonzero >> 8), high));
        listed += __builtin_popcount(nonzero);
    }
    return listed;
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
    const intptr_t *position_offsets, const float *bias, intptr_t count, float *planes, intptr_t plane_stride) {
    (void)source, (void)tap_offsets, (void)taps, (void)weights, (void)position_offsets, (void)bias, (void)count;
    (void)planes, (void)plane_stride;
    __builtin_trap();
}

void vector_channels_in_lanes_forward_rows(
    const float *source, const intptr_t *tap_offsets, intptr_t taps, const float *weights, const float *bias,
    intptr_t width, intptr_t output_height, intptr_t output_width, float *planes, intptr_t plane_stride) {
    (void)source, (void)tap_offsets, (void)taps, (void)weights, (void)bias, (void)width, (void)output_height;
    (void)output_width, (void)planes, (void)plane_stride;
    __builtin_trap();
}

void vector_transpose_channels_last(const float *planes, intptr_t channels, intptr_t positions, float *rows) {
    (void)planes, (void)channels, (void)positions, (void)rows;
    __builtin_trap();
}

void vector_channels_in_lanes_weight_gradient(
    const float *source, const intptr_t *tap_offsets, intptr_t taps, intptr_t width, intptr_t output_height,
    intptr_t output_width, const float *gradients, intptr_t channels, bool accumulate, float *sums) {
    (void)source, (void)tap_offsets, (void)taps, (void)width, (void)output_height, (void)output_width;
    (void)gradients, (void)channels, (void)accumulate, (void)sums;
    __builtin_trap();
}

void vector_direct_weight_gradient(
    const float *gradients, intptr_t gradient_plane, intptr_t channels, intptr_t vectors, const float *input,
    const intptr_t *tap_offsets, intptr_t taps, float *paired, float *totals) {
    (void)gradients, (void)gradient_plane, (void)channels, (void)vectors, (void)input, (void)tap_offsets;
    (void)taps, (void)paired, (void)totals;
    __builtin_trap();
}

void vector_tanh_average_pool(
    const float *input, float *activated, float *output, intptr_t planes, intptr_t height, intptr_t width) {
    (void)input, (void)activated, (void)output, (void)planes, (void)height, (void)width;
    __builtin_trap();
}

void vector_sparse_forward_blocks(
    const float *values, const intptr_t *positions, const intptr_t *range_starts, intptr_t rows, intptr_t ranges,
    const float *transposed, const float *bias, intptr_t outputs, intptr_t blocks, float *output) {
    (void)values, (void)positions, (void)range_starts, (void)rows, (void)ranges, (void)transposed, (void)bias;
    (void)outputs, (void)blocks, (void)output;
    __builtin_trap();
}

intptr_t vector_sparse_list(
    const float *source, intptr_t count, intptr_t first_index, intptr_t stride, float *values, intptr_t *positions) {
    (void)source, (void)count, (void)first_index, (void)stride, (void)values, (void)positions;
    __builtin_trap();
}

#endif
