/// Batch normalisation over layouts [batch, channels, plane] (plane = H·W for [N, C, H, W], 1 for [N, C]):
/// every channel normalised with its statistics over the batch and the plane. Work is split over the
/// channels; each plane's sums run in Float vectors and are added up across the batch in Double.
/// `Reference.batchNormalization…` is the naive twin.
public enum BatchNormalization {
    /// Each channel's mean and biased variance (two passes: the mean, then the mean squared deviation).
    ///
    /// input: [batch, channels, plane]; mean, variance: [channels].
    public static func statistics(
        input: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        let count = Double(batch * plane)
        Parallel.forEachChunk(of: channels) { channelRange in
            for channel in channelRange {
                var sum: Double = 0
                for item in 0..<batch {
                    sum += Double(sumOfPlane(input + (item * channels + channel) * plane, plane) { $0 })
                }
                let channelMean = Float(sum / count)
                var squares: Double = 0
                for item in 0..<batch {
                    squares += Double(
                        sumOfPlane(input + (item * channels + channel) * plane, plane) {
                            ($0 - channelMean) * ($0 - channelMean)
                        })
                }
                mean[channel] = channelMean
                variance[channel] = Float(squares / count)
            }
        }
    }

    /// normalized = (input − mean) · inverseDeviation, output = normalized · scale + shift, per channel. The
    /// planes run in memory order, split over threads by image, so that each thread writes one long stretch
    /// (by channel, every write jumped to another image's plane: the forward pass's 7–9% of `FastCNN`'s
    /// training samples on an Intel Xeon were stalls on those writes).
    ///
    /// input, normalized, output: [batch, channels, plane]; mean, inverseDeviation, scale, shift: [channels].
    public static func normalize(
        input: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
        mean: UnsafePointer<Float>, inverseDeviation: UnsafePointer<Float>, scale: UnsafePointer<Float>,
        shift: UnsafePointer<Float>,
        normalized: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(of: batch) { items in
            for planeIndex in (items.lowerBound * channels)..<(items.upperBound * channels) {
                let channel = planeIndex % channels
                let (channelMean, deviation) = (mean[channel], inverseDeviation[channel])
                let (gamma, beta) = (scale[channel], shift[channel])
                let start = planeIndex * plane
                forEachOfPlane(plane) { offset, load, store in
                    let value = (load(input + start, offset) - channelMean) * deviation
                    store(normalized + start, offset, value)
                    store(output + start, offset, value * gamma + beta)
                }
            }
        }
    }

    /// output = input · factors + offsets, per channel (evaluation mode, with the running statistics folded
    /// into `factors` and `offsets`).
    ///
    /// input, output: [batch, channels, plane]; factors, offsets: [channels].
    public static func affine(
        input: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
        factors: UnsafePointer<Float>, offsets: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        if plane == 1 {
            // [N, C]: rows of channels, so the inner loop runs along a row.
            Parallel.forEachChunk(of: batch) { items in
                for item in items {
                    for channel in 0..<channels {
                        output[item * channels + channel] =
                            input[item * channels + channel] * factors[channel] + offsets[channel]
                    }
                }
            }
            return
        }
        Parallel.forEachChunk(of: batch * channels) { planes in
            for planeIndex in planes {
                let channel = planeIndex % channels
                let (factor, offset) = (factors[channel], offsets[channel])
                let start = planeIndex * plane
                for index in start..<(start + plane) { output[index] = input[index] * factor + offset }
            }
        }
    }

    /// The training-mode backward pass, from the output gradient and the forward pass's normalized input:
    /// shiftGradient = Σ dy, scaleGradient = Σ dy · x̂, and
    /// inputGradient = γ · inverseDeviation · (dy − mean(dy) − x̂ · mean(dy · x̂)).
    ///
    /// outputGradient, normalized, inputGradient: [batch, channels, plane];
    /// scale, inverseDeviation, scaleGradient, shiftGradient: [channels].
    public static func backward(
        outputGradient: UnsafePointer<Float>, normalized: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
        scale: UnsafePointer<Float>, inverseDeviation: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, scaleGradient: UnsafeMutablePointer<Float>,
        shiftGradient: UnsafeMutablePointer<Float>
    ) {
        let count = Double(batch * plane)
        // Per channel: mean(dy) and mean(dy · x̂), then the elementwise pass in memory order (as `normalize`).
        let means = UnsafeMutablePointer<(gradient: Float, gradientNormalized: Float)>.allocate(capacity: channels)
        defer { means.deallocate() }
        Parallel.forEachChunk(of: channels) { channelRange in
            for channel in channelRange {
                var sumGradient: Double = 0, sumGradientNormalized: Double = 0
                for item in 0..<batch {
                    let start = (item * channels + channel) * plane
                    sumGradient += Double(sumOfPlane(outputGradient + start, plane) { $0 })
                    sumGradientNormalized += Double(sumOfProducts(outputGradient + start, normalized + start, plane))
                }
                scaleGradient[channel] = Float(sumGradientNormalized)
                shiftGradient[channel] = Float(sumGradient)
                means[channel] = (Float(sumGradient / count), Float(sumGradientNormalized / count))
            }
        }
        Parallel.forEachChunk(of: batch) { items in
            for planeIndex in (items.lowerBound * channels)..<(items.upperBound * channels) {
                let channel = planeIndex % channels
                let (meanGradient, meanGradientNormalized) = means[channel]
                let factor = scale[channel] * inverseDeviation[channel]
                let start = planeIndex * plane
                forEachOfPlane(plane) { offset, load, store in
                    let gradient = load(outputGradient + start, offset), value = load(normalized + start, offset)
                    store(
                        inputGradient + start, offset,
                        factor * (gradient - meanGradient - value * meanGradientNormalized))
                }
            }
        }
    }

    /// Calls `body` on a plane's elements eight at a time, then one at a time for the rest: `body(offset, load,
    /// store)` reads its inputs through `load(pointer, offset)` and writes through `store(pointer, offset, value)`,
    /// which move eight lanes or, for the rest, lane 0 (the others ignored). Elementwise work written once for
    /// both, where the compiler's own vectorisation left the planes' 16 (144 = 4 · 32 + 16) or 25 last elements
    /// to a 4-lane loop (batch normalisation's forward pass: 7% of `FastCNN`'s training samples on an Intel
    /// Xeon).
    @inline(__always)
    static func forEachOfPlane(
        _ count: Int,
        _ body: (
            Int, (UnsafePointer<Float>, Int) -> SIMD8<Float>, (UnsafeMutablePointer<Float>, Int, SIMD8<Float>) -> Void
        ) -> Void
    ) {
        var index = 0
        while index + 8 <= count {
            body(
                index, { UnsafeRawPointer($0 + $1).loadUnaligned(as: SIMD8<Float>.self) },
                { UnsafeMutableRawPointer($0 + $1).storeBytes(of: $2, as: SIMD8<Float>.self) })
            index += 8
        }
        while index < count {
            body(index, { SIMD8(repeating: $0[$1]) }, { $0[$1] = $2[0] })
            index += 1
        }
    }

    /// Σ transform(values[i]) over one plane, in eight Float lanes.
    @inline(__always)
    static func sumOfPlane(
        _ values: UnsafePointer<Float>, _ count: Int, _ transform: (SIMD8<Float>) -> SIMD8<Float>
    ) -> Float {
        var lanes = SIMD8<Float>()
        var index = 0
        while index + 8 <= count {
            lanes += transform(UnsafeRawPointer(values + index).loadUnaligned(as: SIMD8<Float>.self))
            index += 8
        }
        var sum = lanes.sum()
        while index < count {
            sum += transform(SIMD8(repeating: values[index]))[0]
            index += 1
        }
        return sum
    }

    /// Σ a[i] · b[i] over one plane, in eight Float lanes.
    @inline(__always)
    static func sumOfProducts(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var index = 0
        while index + 8 <= count {
            lanes +=
                UnsafeRawPointer(a + index).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(b + index).loadUnaligned(as: SIMD8<Float>.self)
            index += 8
        }
        var sum = lanes.sum()
        while index < count {
            sum += a[index] * b[index]
            index += 1
        }
        return sum
    }
}
