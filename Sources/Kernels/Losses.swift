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

    /// y = tanh(x), elementwise.
    public static func tanhForward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(of: count) { range in
            for index in range { output[index] = tanhf(input[index]) }
        }
    }

    /// dx = dy · (1 − y²).
    public static func tanhBackward(
        output: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        for index in 0..<count { inputGradient[index] = outputGradient[index] * (1 - output[index] * output[index]) }
    }
}
