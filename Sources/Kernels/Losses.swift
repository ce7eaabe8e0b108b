import Foundation
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

public enum SoftmaxCrossEntropy {
    /// Mean cross-entropy of logits[N, C] against class indices labels[N], computed through a fused,
    /// max-shifted log-softmax (stable for logits of any size). With `labelSmoothing` ε the target of each
    /// row is (1 − ε) · onehot + ε / C, as PyTorch's `label_smoothing`: the row's loss is
    /// (1 − ε) · −log p[label] + ε · mean over classes of −log p. When `logitsGradient` is given it receives
    /// d(loss)/d(logits) = (softmax − target) / N, [N, C].
    public static func forward(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes: Int,
        labelSmoothing: Float = 0, logitsGradient: UnsafeMutablePointer<Float>?
    ) -> Float {
        var total: Double = 0
        let scale = 1 / Float(rows)
        let labelWeight = 1 - labelSmoothing
        let classWeight = labelSmoothing / Float(classes)
        for row in 0..<rows {
            let values = logits + row * classes
            var maximum = values[0]
            for column in 1..<classes { maximum = max(maximum, values[column]) }
            var sum: Float = 0
            for column in 0..<classes { sum += expf(values[column] - maximum) }
            // Everything relative to the row maximum: adding the maximum back before subtracting the
            // label's logit would lose the digits of a small loss next to logits of 1e4.
            let logSum = logf(sum)
            let label = Int(labels[row])
            var rowLoss = labelWeight * (logSum - (values[label] - maximum))
            if labelSmoothing != 0 {
                var shiftedSum: Float = 0
                for column in 0..<classes { shiftedSum += values[column] - maximum }
                rowLoss += labelSmoothing * (logSum - shiftedSum / Float(classes))
            }
            total += Double(rowLoss)
            if let logitsGradient {
                let gradientRow = logitsGradient + row * classes
                for column in 0..<classes {
                    let probability = expf(values[column] - maximum - logSum)
                    let target = (column == label ? labelWeight : 0) + classWeight
                    gradientRow[column] = (probability - target) * scale
                }
            }
        }
        return Float(total / Double(rows))
    }
}

public enum Activation {
    /// y = max(x, 0), elementwise over `count` values.
    public static func reluForward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int) {
        forEachChunk(count: count) { range in
            for index in range { output[index] = max(input[index], 0) }
        }
    }

    /// dx = dy where y > 0, else 0.
    public static func reluBackward(
        output: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        forEachChunk(count: count) { range in
            for index in range { inputGradient[index] = output[index] > 0 ? outputGradient[index] : 0 }
        }
    }

    /// y = tanh(x), elementwise, through `tanhApproximation` (within a few ulp of libm's `tanhf`).
    public static func tanhForward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int) {
        forEachChunk(count: count) { range in
            for index in range { output[index] = tanhApproximation(input[index]) }
        }
    }

    /// tanh(x) through Eigen's `ptanh_float` rational function (odd, degree 13 over degree 6), evaluated as
    /// x · (P(x²) / Q(x²)) on x clamped to ±9, the result clamped to ±1. P's constant term is Q's, so the ratio
    /// is exactly 1 near 0 and tiny inputs (denormals too) come back unchanged; past the clamp the result is
    /// ±1 (the ratio reaches 1 from |x| ≈ 7.93). No branches or selections, so loops over it vectorise and it
    /// costs two thirds of a blended version's time; NaN propagates through both clamps. Horner steps are
    /// fused multiply-adds. Measured over every Float in [0, 9] (and odd by construction): at most 3.1e-7
    /// from the exact tanh, so a [−1, 1] output is off by under 1e-6.
    @inline(__always)
    public static func tanhApproximation(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, -9), 9)
        let square = clamped * clamped
        var numerator: Float = -2.76076847742355e-16
        numerator = (2.00018790482477e-13 as Float).addingProduct(numerator, square)
        numerator = (-8.60467152213735e-11 as Float).addingProduct(numerator, square)
        numerator = (5.12229709037114e-08 as Float).addingProduct(numerator, square)
        numerator = (1.48572235717979e-05 as Float).addingProduct(numerator, square)
        numerator = (6.37261928875436e-04 as Float).addingProduct(numerator, square)
        numerator = (4.89352518554385e-03 as Float).addingProduct(numerator, square)
        var denominator: Float = 1.19825839466702e-06
        denominator = (1.18534705686654e-04 as Float).addingProduct(denominator, square)
        denominator = (2.26843463243900e-03 as Float).addingProduct(denominator, square)
        denominator = (4.89352518554385e-03 as Float).addingProduct(denominator, square)
        return Swift.max(Swift.min(clamped * (numerator / denominator), 1), -1)
    }

    /// `tanhApproximation` on eight lanes at once, the same bits lane for lane (NaN, ±∞, ±0 and tiny values
    /// included), for kernels that hold their values in vectors. On x86 the clamps are min/max instructions,
    /// which return their second operand when either is NaN, so a NaN passes as through the scalar clamps
    /// (Swift's generic `pointwiseMin` does not compile to one instruction here).
    @inline(__always)
    public static func tanhApproximation(_ x: SIMD8<Float>) -> SIMD8<Float> {
        #if arch(x86_64)
        let limit = SIMD8<Float>(repeating: 9)
        let clamped = _mm256_min_ps(limit, _mm256_max_ps(-limit, x))
        let square = clamped * clamped
        var numerator = SIMD8<Float>(repeating: 2.00018790482477e-13).addingProduct(
            SIMD8(repeating: -2.76076847742355e-16), square)
        numerator = SIMD8(repeating: -8.60467152213735e-11).addingProduct(numerator, square)
        numerator = SIMD8(repeating: 5.12229709037114e-08).addingProduct(numerator, square)
        numerator = SIMD8(repeating: 1.48572235717979e-05).addingProduct(numerator, square)
        numerator = SIMD8(repeating: 6.37261928875436e-04).addingProduct(numerator, square)
        numerator = SIMD8(repeating: 4.89352518554385e-03).addingProduct(numerator, square)
        var denominator = SIMD8<Float>(repeating: 1.18534705686654e-04).addingProduct(
            SIMD8(repeating: 1.19825839466702e-06), square)
        denominator = SIMD8(repeating: 2.26843463243900e-03).addingProduct(denominator, square)
        denominator = SIMD8(repeating: 4.89352518554385e-03).addingProduct(denominator, square)
        let one = SIMD8<Float>(repeating: 1)
        return _mm256_max_ps(-one, _mm256_min_ps(one, clamped * (numerator / denominator)))
        #else
        var result = SIMD8<Float>()
        for lane in 0..<8 { result[lane] = tanhApproximation(x[lane]) }
        return result
        #endif
    }

    /// dx = dy · (1 − y²).
    public static func tanhBackward(
        output: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        forEachChunk(count: count) { range in
            for index in range { inputGradient[index] = outputGradient[index] * (1 - output[index] * output[index]) }
        }
    }

    /// Elementwise work below this many elements stays on the calling thread: waking another costs more.
    static let parallelThreshold = 1 << 16

    /// Calls `body` on `0..<count` whole, or split across threads when there is enough work.
    @inline(__always)
    static func forEachChunk(count: Int, _ body: (Range<Int>) -> Void) {
        if count < parallelThreshold {
            body(0..<count)
        } else {
            Parallel.forEachChunk(of: count, body)
        }
    }
}
