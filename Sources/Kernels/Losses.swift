import Foundation

public enum SoftmaxCrossEntropy {
    /// Mean cross-entropy of logits[N, C] against class indices labels[N], computed through a fused,
    /// max-shifted log-softmax (stable for logits of any size). When `logitsGradient` is given it receives
    /// d(loss)/d(logits) = (softmax − onehot) / N, [N, C].
    public static func forward(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes: Int,
        logitsGradient: UnsafeMutablePointer<Float>?
    ) -> Float {
        var total: Double = 0
        let scale = 1 / Float(rows)
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
            total += Double(logSum - (values[label] - maximum))
            if let logitsGradient {
                let gradientRow = logitsGradient + row * classes
                for column in 0..<classes {
                    let probability = expf(values[column] - maximum - logSum)
                    gradientRow[column] = (probability - (column == label ? 1 : 0)) * scale
                }
            }
        }
        return Float(total / Double(rows))
    }
}

public enum Activation {
    /// y = max(x, 0), elementwise over `count` values.
    public static func reluForward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0..<count { output[index] = max(input[index], 0) }
    }

    /// dx = dy where y > 0, else 0.
    public static func reluBackward(
        output: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        for index in 0..<count { inputGradient[index] = output[index] > 0 ? outputGradient[index] : 0 }
    }

    /// y = tanh(x), elementwise, through `tanhApproximation` (within a few ulp of libm's `tanhf`).
    public static func tanhForward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int) {
        forEachChunk(count: count) { range in
            for index in range { output[index] = tanhApproximation(input[index]) }
        }
    }

    /// tanh(x) as Eigen's `ptanh_float`: an odd rational function, degree 13 over degree 6, on x clamped to
    /// ±7.905311 (beyond which tanh rounds to ±1 in Float); x itself below |x| < 0.0004. Branch-free, so
    /// loops over it vectorise; NaN propagates through the clamp. Measured over every Float: at most 4.2e-7 from
    /// the exact tanh (7 ulp, near ±5.8, where tanh is 0.99998), so a [−1, 1] output is off by under 1e-6.
    @inline(__always)
    public static func tanhApproximation(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, -7.90531110763549805), 7.90531110763549805)
        let square = clamped * clamped
        var numerator: Float = -2.76076847742355e-16
        numerator = numerator * square + 2.00018790482477e-13
        numerator = numerator * square - 8.60467152213735e-11
        numerator = numerator * square + 5.12229709037114e-08
        numerator = numerator * square + 1.48572235717979e-05
        numerator = numerator * square + 6.37261928875436e-04
        numerator = numerator * square + 4.89352455891786e-03
        numerator *= clamped
        var denominator: Float = 1.19825839466702e-06
        denominator = denominator * square + 1.18534705686654e-04
        denominator = denominator * square + 2.26843463243900e-03
        denominator = denominator * square + 4.89352518554385e-03
        let value = numerator / denominator
        return abs(x) < 0.0004 ? x : value
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
