// Kernels in 512-bit vectors (AVX-512), compiled for AVX-512 function by function
// (`__attribute__((target))`) inside a package whose baseline is AVX2: Swift has no per-function target, C
// does, and a C target needs no unsafe flags for it. The caller calls them only on a CPU with AVX-512
// (`Hardware.CPUFeatures`); each computes, bit for bit, what the Swift kernel it stands in for computes.
// Off x86-64 they are not compiled, and `vector_kernels_available` is false.
#ifndef MNIST_VECTOR_KERNELS_H
#define MNIST_VECTOR_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/// Whether this build holds the AVX-512 kernels (x86-64 only). The CPU must still be asked.
bool vector_kernels_available(void);

/// The inner block of `Convolution2D.directForward` for six output channels: for each output channel c < 6
/// and position i < 16 · blocks,
///     runs[c · run_stride + i] = Σ over taps t of the kernel rows in `kernel_rows`, in order,
///                                start[tap_offsets[t] + i] · weights[t · 6 + c]
/// as one fused multiply-add per tap from zero, the same operations in the same order as the Swift kernel's
/// 8-lane vectors. Kernel row r (bit r of `kernel_rows`, rows taken from the lowest) owns taps
/// r · taps_per_kernel_row ..< (r + 1) · taps_per_kernel_row. `blocks` is 1 or 2 (16 or 32 positions; two
/// blocks keep twelve accumulators in flight). Reads start[tap_offsets[t] ..< + 16 · blocks].
void vector_direct_forward_six_channels(
    const float *start, const intptr_t *tap_offsets, const float *weights, uint64_t kernel_rows,
    intptr_t taps_per_kernel_row, int blocks, float *runs, intptr_t run_stride);

/// The inner block of `Convolution2D.directForwardChannelsInLanes` for sixteen output positions of one group of
/// sixteen output channels, written to the channels' planes: for position p < count (≤ 16) and channel c < 16,
///     planes[c · plane_stride + p] = (Σ over taps t < taps, in order,
///                                     source[tap_offsets[t] + position_offsets[p]] · weights[t · 16 + c]) + bias[c]
/// the sum as one fused multiply-add per tap from zero, as the Swift kernel's two 8-lane vectors do. Reads
/// position_offsets[0 ..< 16] and the sources they name (a short block repeats a position); writes nothing past
/// position count − 1 of a plane.
void vector_channels_in_lanes_forward(
    const float *source, const intptr_t *tap_offsets, intptr_t taps, const float *weights,
    const intptr_t *position_offsets, const float *bias, intptr_t count, float *planes, intptr_t plane_stride);

/// `Convolution2D.directForwardChannelsInLanes` for one image and one block of 32 output channels (two groups of
/// sixteen), positions taken along each output row in equal blocks of at most twelve: for output position
/// p = y · output_width + x and channel c < 32,
///     planes[c · plane_stride + p] = (Σ over taps t < taps, in order,
///                                     source[tap_offsets[t] + y · width + x] · weights[t · 32 + c]) + bias[c]
/// the sum as one fused multiply-add per tap from zero, as the Swift kernel's two 8-lane vectors per group do.
void vector_channels_in_lanes_forward_rows(
    const float *source, const intptr_t *tap_offsets, intptr_t taps, const float *weights, const float *bias,
    intptr_t width, intptr_t output_height, intptr_t output_width, float *planes, intptr_t plane_stride);

/// An image's output gradient made channels-last for `Convolution2D.directWeightGradientChannelsInLanes`:
/// rows[p · channels + c] = planes[c · positions + p] for channel c < channels (a multiple of 16) and position
/// p < positions, in 16 × 16 blocks transposed in registers.
void vector_transpose_channels_last(const float *planes, intptr_t channels, intptr_t positions, float *rows);

/// The inner loops of `Convolution2D.directWeightGradientChannelsInLanes` for one image, every tap and channel:
/// blocks of up to twelve taps by 32 channels (two 16-lane groups; the last 16 alone where the count is odd in
/// groups). For tap k < taps and channel c < channels (a multiple of 16), the image's sum
///     s = Σ over output rows y < output_height, then columns x < output_width, in order,
///         source[y · width + x + tap_offsets[k]] · gradients[(y · output_width + x) · channels + c]
/// as one fused multiply-add per position from zero, as the Swift kernel's two 8-lane vectors do; then
/// sums[k · channels + c] = s, or sums[k · channels + c] + s when `accumulate` (the images of a chunk added in
/// order).
void vector_channels_in_lanes_weight_gradient(
    const float *source, const intptr_t *tap_offsets, intptr_t taps, intptr_t width, intptr_t output_height,
    intptr_t output_width, const float *gradients, intptr_t channels, bool accumulate, float *sums);

/// The inner loops of `Convolution2D.directWeightGradient` for one image: output channels in pairs, channel
/// 2p's eight lanes of a position vector beside channel 2p + 1's in one 16-lane vector (a last pair of an odd
/// count repeats its channel), each tap's eight inputs in both halves. For pair p, tap t < taps and lane
/// l < 16 (channel c = 2p + l / 8, or 2p where that is past the last), with i = l % 8, the image's sum
///     s = Σ over vectors v < vectors, in order, gradients[c · gradient_plane + 8v + i] · input[tap_offsets[t] + 8v + i]
/// as one fused multiply-add per vector from zero, as the Swift kernel's 8-lane accumulators do; then
/// totals[(p · taps + t) · 16 + l] += s. `paired` is scratch for ⌈channels / 2⌉ · vectors · 16 floats.
void vector_direct_weight_gradient(
    const float *gradients, intptr_t gradient_plane, intptr_t channels, intptr_t vectors, const float *input,
    const intptr_t *tap_offsets, intptr_t taps, float *paired, float *totals);

/// The inner loops of `AvgPool2D.tanhForwardTwoByTwo` for `planes` planes of height × width, width ≤ 32:
/// activated[i] = `Activation.tanhApproximation`(input[i]) for every element, bit for bit (NaN, ±∞, ±0
/// included), then output[P, H / 2, W / 2] = each 2 × 2 window's mean, ((top-left + top-right) + bottom-left)
/// + bottom-right times 1/4, as `AvgPool2D.forward` sums it (an odd last row or column is in no window).
void vector_tanh_average_pool(
    const float *input, float *activated, float *output, intptr_t planes, intptr_t height, intptr_t width);

/// The blocks of 128 outputs of `SparseLinear.forward` for one group of `rows` rows: for range k < ranges, block
/// b < blocks, row r < rows and output o of the block (o = 128 · b + j, j < 128),
///     output[r · outputs + o] = (k == 0 ? bias[o] (0 when bias is NULL) : output[r · outputs + o])
///                               + Σ over the row's entries e of range k, in order, values[e] · transposed[positions[e] + o]
/// as one fused multiply-add per entry, as the Swift kernel's 8-lane vectors do. Row r's entries of range k are
/// range_starts[r · (ranges + 1) + k] ..< range_starts[r · (ranges + 1) + k + 1]; `output` is the group's
/// first row.
void vector_sparse_forward_blocks(
    const float *values, const intptr_t *positions, const intptr_t *range_starts, intptr_t rows, intptr_t ranges,
    const float *transposed, const float *bias, intptr_t outputs, intptr_t blocks, float *output);

/// The nonzero entries of source[0 ..< count] (a row's range of inputs starting at input `first_index`), in
/// order: for each, values[n] = the value and positions[n] = its input's index · `stride`; returns how many.
/// Writes up to 16 elements past the last entry of each array (the caller's buffers leave room for them). A NaN
/// counts as nonzero, as in Swift's `!= 0`.
intptr_t vector_sparse_list(
    const float *source, intptr_t count, intptr_t first_index, intptr_t stride, float *values, intptr_t *positions);

#endif
