import CVectorKernels

#if arch(x86_64)
import _Builtin_intrinsics.intel
import Preconditions
#endif

/// The geometry of 2-D pooling over [batch·channels, height, width] planes (no padding, PyTorch's floor
/// rounding of the output size).
public struct Pooling2DShape: Equatable, Sendable {
    /// Independent planes: batch · channels.
    public var planes: Int
    public var height: Int
    public var width: Int
    public var kernelSize: Int
    public var stride: Int

    public init(planes: Int, height: Int, width: Int, kernelSize: Int, stride: Int) {
        self.planes = planes
        self.height = height
        self.width = width
        self.kernelSize = kernelSize
        self.stride = stride
    }

    public var outputHeight: Int { (height - kernelSize) / stride + 1 }
    public var outputWidth: Int { (width - kernelSize) / stride + 1 }
    public var inputPlaneSize: Int { height * width }
    public var outputPlaneSize: Int { outputHeight * outputWidth }
}

public enum MaxPool2D {
    /// output[P, OH, OW] = max over each window of input[P, H, W]; indices[P, OH, OW] records where in its
    /// plane each maximum came from (the first one on ties, as PyTorch), for the backward pass.
    public static func forward(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>,
        shape: Pooling2DShape
    ) {
        if shape.kernelSize == 2 && shape.stride == 2 {
            return forwardTwoByTwo(input: input, output: output, indices: indices, shape: shape)
        }
        Parallel.forEachChunk(of: shape.planes) { planes in
            for plane in planes {
                let source = input + plane * shape.inputPlaneSize
                let target = plane * shape.outputPlaneSize
                for outputY in 0..<shape.outputHeight {
                    for outputX in 0..<shape.outputWidth {
                        var bestIndex = outputY * shape.stride * shape.width + outputX * shape.stride
                        var best = source[bestIndex]
                        for kernelY in 0..<shape.kernelSize {
                            let rowStart = (outputY * shape.stride + kernelY) * shape.width + outputX * shape.stride
                            for kernelX in 0..<shape.kernelSize {
                                let value = source[rowStart + kernelX]
                                // PyTorch's rule: a NaN wins and then stays (nothing compares greater).
                                if value > best || value.isNaN {
                                    best = value
                                    bestIndex = rowStart + kernelX
                                }
                            }
                        }
                        output[target + outputY * shape.outputWidth + outputX] = best
                        indices[target + outputY * shape.outputWidth + outputX] = Int32(bestIndex)
                    }
                }
            }
        }
    }

    /// Where `values` beat `best` (greater, or NaN: PyTorch's rule, a NaN wins and then stays since nothing
    /// compares greater), `best` takes them and `bestIndex` takes `candidates`. On x86-64 the two selects are
    /// `vblendvps` on the mask's bits: written with `SIMDMask` (`.|`, `replace(with:where:)`), the compiler
    /// rebuilt the mask lane by lane inside the pooling loops (the simple CNN's 2 × 2 max pooling forward pass:
    /// 14.2–14.6% of its training samples on an Intel Xeon, 5.7–5.9% with the blends; the same results).
    @inline(__always)
    static func selectWinners(
        _ values: SIMD8<Float>, _ candidates: SIMD8<Int32>, _ best: inout SIMD8<Float>, _ bestIndex: inout SIMD8<Int32>
    ) {
        #if arch(x86_64)
        let wins = _mm256_or_ps(
            unsafeBitCast(values .> best, to: SIMD8<Float>.self),
            unsafeBitCast(values .!= values, to: SIMD8<Float>.self))
        bestIndex = unsafeBitCast(
            _mm256_blendv_ps(
                unsafeBitCast(bestIndex, to: SIMD8<Float>.self), unsafeBitCast(candidates, to: SIMD8<Float>.self), wins),
            to: SIMD8<Int32>.self)
        best = _mm256_blendv_ps(best, values, wins)
        #else
        let wins = (values .> best) .| (values .!= values)
        best.replace(with: values, where: wins)
        bestIndex.replace(with: candidates, where: wins)
        #endif
    }

    /// Eight 2 × 2 windows side by side: `top` and `bottom` hold their two rows' sixteen inputs each, and the
    /// first window's top-left input has index `topLeftIndex` in a plane `width` wide. The maxima go to
    /// output[0 ..< 8] and their indices to indices[0 ..< 8], compared in `forward`'s order (top left, top right,
    /// bottom left, bottom right) as selects.
    @inline(__always)
    static func poolEightWindows(
        top: SIMD16<Float>, bottom: SIMD16<Float>, topLeftIndex: Int, width: Int,
        output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>
    ) {
        // Window x's top-left input is column 2x: lane l of a vector starting at window x is column 2(x + l).
        let topLeftIndices =
            SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: topLeftIndex)) &+ SIMD8(0, 2, 4, 6, 8, 10, 12, 14)
        var best = top.evenHalf, bestIndex = topLeftIndices
        @inline(__always) func consider(_ values: SIMD8<Float>, _ offset: Int) {
            selectWinners(values, topLeftIndices &+ Int32(truncatingIfNeeded: offset), &best, &bestIndex)
        }
        consider(top.oddHalf, 1)
        consider(bottom.evenHalf, width)
        consider(bottom.oddHalf, width + 1)
        UnsafeMutableRawPointer(output).storeBytes(of: best, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(indices).storeBytes(of: bestIndex, as: SIMD8<Int32>.self)
    }

    /// `forward` for 2 × 2 windows with stride 2: the same comparisons in the same order (top left, top
    /// right, bottom left, bottom right), as selects instead of branches, eight windows at a time. A row's
    /// sixteen top and sixteen bottom inputs are two loads, split into even and odd columns; a row whose
    /// width is not a multiple of 8 ends with a vector that overlaps the one before (those windows are
    /// computed twice, the same way). A row of fewer than 8 windows (a deep layer's 10 × 10 → 5 × 5) is one
    /// vector whose extra lanes read on past the row and write over the windows that follow it, which are
    /// computed after it and overwrite them; where those reads would leave the input or those writes the
    /// thread's planes (the last rows of a chunk), the row takes the scalar loop. (Gathering eight windows
    /// across row ends lane by lane instead, `FastCNN`'s 5 × 5 pooling took 8.4% of its training samples on
    /// an Intel Xeon, three times the 12 × 12 pooling with twice the windows.)
    static func forwardTwoByTwo(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>,
        shape: Pooling2DShape
    ) {
        let inputEnd = input + shape.planes * shape.inputPlaneSize
        Parallel.forEachChunk(of: shape.planes) { planes in
            let outputEnd = output + planes.upperBound * shape.outputPlaneSize
            for plane in planes {
                forwardTwoByTwoPlane(
                    source: input + plane * shape.inputPlaneSize, readableEnd: inputEnd,
                    output: output + plane * shape.outputPlaneSize, indices: indices + plane * shape.outputPlaneSize,
                    writableEnd: outputEnd, shape: shape)
            }
        }
    }

    /// `forwardTwoByTwo`'s work on one plane at `source` [H, W], its windows' maxima to `output` and their
    /// indices to `indices` [OH, OW]: a narrow row's vector may read up to `readableEnd` and write up to
    /// `writableEnd` (the indices as far past `indices`), else the row takes the scalar loop.
    @inline(__always)
    static func forwardTwoByTwoPlane(
        source: UnsafePointer<Float>, readableEnd: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        indices: UnsafeMutablePointer<Int32>, writableEnd: UnsafeMutablePointer<Float>, shape: Pooling2DShape
    ) {
        let (outputHeight, outputWidth, width) = (shape.outputHeight, shape.outputWidth, shape.width)
        /// Windows first ..< first + 8 of the row starting at input topStart, written at outputRow + first.
        @inline(__always) func poolEight(topStart: Int, outputRow: Int, first: Int) {
            let topLeft = topStart + 2 * first
            poolEightWindows(
                top: UnsafeRawPointer(source + topLeft).loadUnaligned(as: SIMD16<Float>.self),
                bottom: UnsafeRawPointer(source + topLeft + width).loadUnaligned(as: SIMD16<Float>.self),
                topLeftIndex: topLeft, width: width, output: output + outputRow + first,
                indices: indices + outputRow + first)
        }
        for outputY in 0..<outputHeight {
            let topStart = 2 * outputY * width
            let outputRow = outputY * outputWidth
            var outputX = 0
            if outputWidth >= 8 {
                while outputX < outputWidth {
                    // The last vector of a row ends at the row's last window.
                    let first = min(outputX, outputWidth - 8)
                    poolEight(topStart: topStart, outputRow: outputRow, first: first)
                    outputX = first + 8
                }
            } else if source + topStart + width + 16 <= readableEnd && output + outputRow + 8 <= writableEnd {
                poolEight(topStart: topStart, outputRow: outputRow, first: 0)
                outputX = outputWidth
            }
            for outputX in outputX..<outputWidth {
                let topLeft = topStart + 2 * outputX
                var best = source[topLeft], bestIndex = topLeft
                @inline(__always) func consider(_ candidate: Int) {
                    let value = source[candidate]
                    // PyTorch's rule: a NaN wins and then stays (nothing compares greater).
                    let wins = value > best || value.isNaN
                    best = wins ? value : best
                    bestIndex = wins ? candidate : bestIndex
                }
                consider(topLeft + 1)
                consider(topLeft + width)
                consider(topLeft + width + 1)
                output[outputRow + outputX] = best
                indices[outputRow + outputX] = Int32(truncatingIfNeeded: bestIndex)
            }
        }
    }

    /// inputGradient[P, H, W] (overwritten) receives each outputGradient[P, OH, OW] at its window's maximum.
    public static func backward(
        outputGradient: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
        inputGradient: UnsafeMutablePointer<Float>, shape: Pooling2DShape
    ) {
        #if arch(x86_64)
        if shape.kernelSize == 2 && shape.stride == 2 && shape.outputWidth >= 8 {
            return backwardTwoByTwo(
                outputGradient: outputGradient, indices: indices, inputGradient: inputGradient, shape: shape)
        }
        #endif
        Parallel.forEachChunk(of: shape.planes) { planes in
            for plane in planes {
                let target = inputGradient + plane * shape.inputPlaneSize
                target.update(repeating: 0, count: shape.inputPlaneSize)
                let offset = plane * shape.outputPlaneSize
                for position in 0..<shape.outputPlaneSize {
                    target[Int(indices[offset + position])] += outputGradient[offset + position]
                }
            }
        }
    }

    #if arch(x86_64)
    /// `backward` for 2 × 2 windows with stride 2 and rows of at least 8 windows: the windows do not overlap,
    /// so every input element is written once, eight windows' two rows at a time, 0 + the window's gradient
    /// where the window's index names the element and 0 + 0 elsewhere (the zeroed element plus the one
    /// addition the scatter makes, so a −0 gradient arrives as +0 in both). The row's last vector overlaps the
    /// one before and writes the same values; a column or row no window covers (odd sizes) is zeroed. (Zeroing
    /// the planes, then scattering: `FastCNN`'s pooling backward took 4.8% of its training samples on an
    /// Intel Xeon.)
    static func backwardTwoByTwo(
        outputGradient: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
        inputGradient: UnsafeMutablePointer<Float>, shape: Pooling2DShape
    ) {
        let (outputHeight, outputWidth, width) = (shape.outputHeight, shape.outputWidth, shape.width)
        let laneColumns = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        /// Elements 0 ..< 16 of target: the windows' values for even columns (`even`) and odd ones, interleaved.
        @inline(__always) func storeInterleaved(
            _ even: SIMD8<Float>, _ odd: SIMD8<Float>, _ target: UnsafeMutablePointer<Float>
        ) {
            // Per 128-bit half: low = even0 odd0 even1 odd1 | even4 odd4 …, high = even2 odd2 even3 odd3 | even6 ….
            let low = SIMD8<Float>(_mm256_unpacklo_ps(even, odd)), high = SIMD8<Float>(_mm256_unpackhi_ps(even, odd))
            UnsafeMutableRawPointer(target).storeBytes(
                of: SIMD8(lowHalf: low.lowHalf, highHalf: high.lowHalf), as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(target + 8).storeBytes(
                of: SIMD8(lowHalf: low.highHalf, highHalf: high.highHalf), as: SIMD8<Float>.self)
        }
        Parallel.forEachChunk(of: shape.planes) { planes in
            for plane in planes {
                let target = inputGradient + plane * shape.inputPlaneSize
                let source = plane * shape.outputPlaneSize
                for outputY in 0..<outputHeight {
                    let topStart = 2 * outputY * width
                    let outputRow = source + outputY * outputWidth
                    var outputX = 0
                    while outputX < outputWidth {
                        let first = min(outputX, outputWidth - 8)
                        let gradient = UnsafeRawPointer(outputGradient + outputRow + first).loadUnaligned(
                            as: SIMD8<Float>.self)
                        let winners = UnsafeRawPointer(indices + outputRow + first).loadUnaligned(
                            as: SIMD8<Int32>.self)
                        let topLeft = topStart + 2 * first
                        let topLeftIndices = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: topLeft)) &+ laneColumns
                        @inline(__always) func share(_ offset: Int) -> SIMD8<Float> {
                            let mask = unsafeBitCast(
                                winners .== topLeftIndices &+ Int32(truncatingIfNeeded: offset), to: SIMD8<Float>.self)
                            return SIMD8<Float>() + _mm256_and_ps(gradient, mask)
                        }
                        storeInterleaved(share(0), share(1), target + topLeft)
                        storeInterleaved(share(width), share(width + 1), target + topLeft + width)
                        outputX = first + 8
                    }
                    if width > 2 * outputWidth {
                        target[topStart + width - 1] = 0
                        target[topStart + 2 * width - 1] = 0
                    }
                }
                let covered = 2 * outputHeight * width
                (target + covered).update(repeating: 0, count: shape.inputPlaneSize - covered)
            }
        }
    }
    #endif
}

public enum AvgPool2D {
    /// output[P, OH, OW] = mean of each kernelSize × kernelSize window of input[P, H, W].
    public static func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, shape: Pooling2DShape)
    {
        let scale = 1 / Float(shape.kernelSize * shape.kernelSize)
        if shape.kernelSize == 2 && shape.stride == 2 {
            Parallel.forEachChunk(of: shape.planes) { planes in
                for plane in planes {
                    poolPlaneTwoByTwo(
                        input + plane * shape.inputPlaneSize, output + plane * shape.outputPlaneSize, shape: shape)
                }
            }
            return
        }
        Parallel.forEachChunk(of: shape.planes) { planes in
            for plane in planes {
                let source = input + plane * shape.inputPlaneSize
                let target = output + plane * shape.outputPlaneSize
                for outputY in 0..<shape.outputHeight {
                    for outputX in 0..<shape.outputWidth {
                        var sum: Float = 0
                        for kernelY in 0..<shape.kernelSize {
                            let rowStart = (outputY * shape.stride + kernelY) * shape.width + outputX * shape.stride
                            for kernelX in 0..<shape.kernelSize { sum += source[rowStart + kernelX] }
                        }
                        target[outputY * shape.outputWidth + outputX] = sum * scale
                    }
                }
            }
        }
    }

    /// output[P, OH, OW] = mean of each 2 × 2 window (stride 2) of tanh(input[P, H, W]): `Activation.tanhForward`
    /// then `forward`, bit for bit, in one pass. The tanh of a group of planes (about 2,048 values: LeNet-5's
    /// conv2 planes are 100) is pooled while it is still in L1: in inference (`activated` nil) it goes to a
    /// scratch buffer, so the full-size activation is never written out and read back; in training it goes to
    /// `activated` [P, H, W], which the backward pass (`tanhBackwardTwoByTwo`) needs, and is not read back
    /// from memory. One long loop keeps the pipeline full where a plane's own would spend much of its time
    /// starting, ending and in its scalar tail. Splits the planes over threads only when there is enough work
    /// (`Activation.parallelThreshold`), as the elementwise kernels do.
    ///
    /// With `wideVectors` (default: `VectorKernels.enabled`, on CPUs with AVX-512) and rows of at most 32 values,
    /// each group goes through `vector_tanh_average_pool`: the tanh in 16 lanes, and each output row's windows
    /// from two vectors per input row, their even and odd columns gathered by two permutes (the compiler's loop
    /// pooled one window at a time). The same operations in the same order, so the same output bit for bit.
    public static func tanhForwardTwoByTwo(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, shape: Pooling2DShape,
        activated kept: UnsafeMutablePointer<Float>? = nil, wideVectors: Bool = VectorKernels.enabled
    ) {
        checkPrecondition(
            shape.kernelSize == 2 && shape.stride == 2, "tanhForwardTwoByTwo needs 2 × 2 windows, stride 2")
        let planeSize = shape.inputPlaneSize
        let groupPlanes = max(1, 2048 / planeSize)
        // Rows of up to 32 values are pooled two vectors at a time by the AVX-512 kernel.
        let wide = wideVectors && shape.width <= 32
        func run(_ planes: Range<Int>) {
            let scratch = kept == nil ? UnsafeMutablePointer<Float>.allocate(capacity: groupPlanes * planeSize) : nil
            defer { scratch?.deallocate() }
            for group in stride(from: planes.lowerBound, to: planes.upperBound, by: groupPlanes) {
                let groupEnd = min(group + groupPlanes, planes.upperBound)
                let source = input + group * planeSize
                let activated = kept.map { $0 + group * planeSize } ?? scratch!
                if wide {
                    vector_tanh_average_pool(
                        source, activated, output + group * shape.outputPlaneSize, groupEnd - group, shape.height,
                        shape.width)
                    continue
                }
                for index in 0..<((groupEnd - group) * planeSize) {
                    activated[index] = Activation.tanhApproximation(source[index])
                }
                for plane in group..<groupEnd {
                    poolPlaneTwoByTwo(
                        activated + (plane - group) * planeSize, output + plane * shape.outputPlaneSize, shape: shape)
                }
            }
        }
        forEachChunkOfPlanes(shape, run)
    }

    /// Calls `body` on `0..<shape.planes` whole, or split across threads when the planes hold enough values
    /// (`Activation.parallelThreshold`), as the elementwise kernels do.
    @inline(__always)
    static func forEachChunkOfPlanes(_ shape: Pooling2DShape, _ body: (Range<Int>) -> Void) {
        if shape.planes * shape.inputPlaneSize < Activation.parallelThreshold {
            body(0..<shape.planes)
        } else {
            Parallel.forEachChunk(of: shape.planes, body)
        }
    }

    /// inputGradient[P, H, W] (overwritten) = each outputGradient[P, OH, OW] spread evenly over its 2 × 2
    /// window (stride 2), times tanh's derivative 1 − activated², where activated[P, H, W] = tanh(input) as
    /// `tanhForwardTwoByTwo` kept it: `backward` then `Activation.tanhBackward`, bit for bit, in one pass, so
    /// the pooling's full-size gradient is never written out and read back. Even heights and widths only
    /// (every input in a window). Splits the planes over threads as `tanhForwardTwoByTwo` does.
    public static func tanhBackwardTwoByTwo(
        outputGradient: UnsafePointer<Float>, activated: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, shape: Pooling2DShape
    ) {
        checkPrecondition(
            shape.kernelSize == 2 && shape.stride == 2 && shape.height % 2 == 0 && shape.width % 2 == 0,
            "tanhBackwardTwoByTwo needs 2 × 2 windows, stride 2, on even heights and widths")
        let (outputWidth, width) = (shape.outputWidth, shape.width)
        func run(_ planes: Range<Int>) {
            for plane in planes {
                let source = outputGradient + plane * shape.outputPlaneSize
                let (output, target) = (
                    activated + plane * shape.inputPlaneSize, inputGradient + plane * shape.inputPlaneSize
                )
                for y in 0..<shape.height {
                    let row = source + (y / 2) * outputWidth
                    let (outputRow, targetRow) = (output + y * width, target + y * width)
                    // The two operations' arithmetic: the share g · ¼, then share · (1 − t · t); eight inputs
                    // (four windows) at a time, each share duplicated for its window's two columns.
                    var x = 0
                    while x + 8 <= width {
                        let shares = UnsafeRawPointer(row + x / 2).loadUnaligned(as: SIMD4<Float>.self) * 0.25
                        let spread = SIMD8(
                            shares[0], shares[0], shares[1], shares[1], shares[2], shares[2], shares[3], shares[3])
                        let activation = UnsafeRawPointer(outputRow + x).loadUnaligned(as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(targetRow + x).storeBytes(
                            of: spread * (1 - activation * activation), as: SIMD8<Float>.self)
                        x += 8
                    }
                    for x in x..<width {
                        targetRow[x] = (row[x / 2] * 0.25) * (1 - outputRow[x] * outputRow[x])
                    }
                }
            }
        }
        forEachChunkOfPlanes(shape, run)
    }

    /// One plane's 2 × 2 means (stride 2), LeNet-5's pooling: each output the mean of two pairs from two
    /// rows, summed in the general loop's order (row 0's pair, then row 1's). plane: [H, W] → target: [OH, OW].
    @inline(__always)
    static func poolPlaneTwoByTwo(
        _ plane: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, shape: Pooling2DShape
    ) {
        let (outputWidth, width) = (shape.outputWidth, shape.width)
        for outputY in 0..<shape.outputHeight {
            let top = plane + 2 * outputY * width, bottom = top + width
            let row = target + outputY * outputWidth
            for outputX in 0..<outputWidth {
                row[outputX] =
                    (((top[2 * outputX] + top[2 * outputX + 1]) + bottom[2 * outputX]) + bottom[2 * outputX + 1]) * 0.25
            }
        }
    }

    /// inputGradient[P, H, W] (overwritten): each outputGradient spread evenly over its window.
    public static func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>, shape: Pooling2DShape
    ) {
        let scale = 1 / Float(shape.kernelSize * shape.kernelSize)
        if shape.kernelSize == 2 && shape.stride == 2 {
            // Non-overlapping 2 × 2 windows: every input gets at most one share, written once (an odd last
            // row or column, outside every window, gets zero).
            let (outputHeight, outputWidth, width) = (shape.outputHeight, shape.outputWidth, shape.width)
            Parallel.forEachChunk(of: shape.planes) { planes in
                for plane in planes {
                    let source = outputGradient + plane * shape.outputPlaneSize
                    let target = inputGradient + plane * shape.inputPlaneSize
                    if shape.height % 2 != 0 || width % 2 != 0 {
                        target.update(repeating: 0, count: shape.inputPlaneSize)
                    }
                    for outputY in 0..<outputHeight {
                        let top = target + 2 * outputY * width, bottom = top + width
                        let row = source + outputY * outputWidth
                        for outputX in 0..<outputWidth {
                            let share = row[outputX] * scale
                            top[2 * outputX] = share
                            top[2 * outputX + 1] = share
                            bottom[2 * outputX] = share
                            bottom[2 * outputX + 1] = share
                        }
                    }
                }
            }
            return
        }
        Parallel.forEachChunk(of: shape.planes) { planes in
            for plane in planes {
                let source = outputGradient + plane * shape.outputPlaneSize
                let target = inputGradient + plane * shape.inputPlaneSize
                target.update(repeating: 0, count: shape.inputPlaneSize)
                for outputY in 0..<shape.outputHeight {
                    for outputX in 0..<shape.outputWidth {
                        let share = source[outputY * shape.outputWidth + outputX] * scale
                        for kernelY in 0..<shape.kernelSize {
                            let rowStart = (outputY * shape.stride + kernelY) * shape.width + outputX * shape.stride
                            for kernelX in 0..<shape.kernelSize { target[rowStart + kernelX] += share }
                        }
                    }
                }
            }
        }
    }
}
