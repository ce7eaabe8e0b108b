import Foundation
import Kernels
import Preconditions

extension Tensor {
    /// Mean cross-entropy of logits [N, C] against class indices `labels` (N of them, each in 0..<C),
    /// PyTorch's `F.cross_entropy` with mean reduction. Fused with a max-shifted log-softmax, so logits of
    /// ±1e4 give finite results. `labelSmoothing` ε in 0…1 (PyTorch's `label_smoothing`) trains towards
    /// (1 − ε) on the label and ε / C on every class instead of the label alone.
    public func crossEntropy(labels: [Int32], labelSmoothing: Float = 0) -> Tensor {
        let (rows, classes) = checkClassification(labels: labels, operation: "crossEntropy")
        checkPrecondition(
            labelSmoothing >= 0 && labelSmoothing <= 1,
            "crossEntropy: labelSmoothing must be in 0…1, got \(labelSmoothing)")
        var logitsGradient = [Float](repeating: 0, count: count)
        let needsGradient = GradientMode.isEnabled && requiresGrad
        let loss = data.withUnsafeBufferPointer { logits in
            labels.withUnsafeBufferPointer { labelPointer in
                logitsGradient.withUnsafeMutableBufferPointer { gradient in
                    SoftmaxCrossEntropy.forward(
                        logits: logits.baseAddress!, labels: labelPointer.baseAddress!, rows: rows, classes: classes,
                        labelSmoothing: labelSmoothing, logitsGradient: needsGradient ? gradient.baseAddress! : nil)
                }
            }
        }
        return Tensor.result(shape: [], data: [loss], operation: "crossEntropy", inputs: [self]) { gradient in
            [mapElements(logitsGradient) { $0 * gradient[0] }]
        }
    }

    /// log(softmax(x)) along `dim` (negative counts from the end; the last by default), any shape: for
    /// [N, C] and the default, each row's log-probabilities. Computed stably, the largest element of each
    /// slice subtracted first, so logits of ±1e4 give finite results.
    public func logSoftmax(dim: Int = -1) -> Tensor {
        let dimension = normalizedDimension(dim, operation: "logSoftmax")
        let (outer, size, inner) = splitAround(dimension)
        let output = makeBuffer(count: count) { y in
            data.withUnsafeBufferPointer { x in
                for outerIndex in 0..<outer where size > 0 {
                    for innerIndex in 0..<inner {
                        // The slice along `dim`: elements base, base + inner, … (contiguous for the last dim).
                        let base = outerIndex * size * inner + innerIndex
                        var maximum = x[base]
                        for position in 1..<size { maximum = Swift.max(maximum, x[base + position * inner]) }
                        var sum: Float = 0
                        for position in 0..<size { sum += expf(x[base + position * inner] - maximum) }
                        let logSum = logf(sum)
                        for position in 0..<size {
                            y[base + position * inner] = (x[base + position * inner] - maximum) - logSum
                        }
                    }
                }
            }
        }
        return Tensor.result(shape: shape, data: output, operation: "logSoftmax", inputs: [self]) { gradient in
            // dx = dy − softmax · Σ dy, slice by slice
            var inputGradient = gradient
            for outerIndex in 0..<outer {
                for innerIndex in 0..<inner {
                    let base = outerIndex * size * inner + innerIndex
                    var total: Float = 0
                    for position in 0..<size { total += gradient[base + position * inner] }
                    for position in 0..<size {
                        inputGradient[base + position * inner] -= expf(output[base + position * inner]) * total
                    }
                }
            }
            return [inputGradient]
        }
    }

    /// softmax along `dim` (negative counts from the end; the last by default), any shape: exp of the
    /// stable `logSoftmax(dim:)`, so each slice sums to 1.
    public func softmax(dim: Int = -1) -> Tensor {
        logSoftmax(dim: dim).exp()
    }

    /// Mean negative log-likelihood of log-probabilities [N, C] for class indices `labels`
    /// (PyTorch's `F.nll_loss`, mean reduction).
    public func nllLoss(labels: [Int32]) -> Tensor {
        let (rows, classes) = checkClassification(labels: labels, operation: "nllLoss")
        var total: Double = 0
        for row in 0..<rows { total -= Double(data[row * classes + Int(labels[row])]) }
        let inputCount = count
        return Tensor.result(shape: [], data: [Float(total / Double(rows))], operation: "nllLoss", inputs: [self]) {
            gradient in
            var inputGradient = [Float](repeating: 0, count: inputCount)
            for row in 0..<rows { inputGradient[row * classes + Int(labels[row])] = -gradient[0] / Float(rows) }
            return [inputGradient]
        }
    }

    private func checkClassification(labels: [Int32], operation: String) -> (rows: Int, classes: Int) {
        checkPrecondition(
            rank == 2 && shape[0] > 0 && shape[1] > 0, "\(operation) needs [N, C] with N, C > 0, got \(shape)")
        checkPrecondition(labels.count == shape[0], "\(operation): \(labels.count) labels for \(shape[0]) rows")
        checkPrecondition(
            labels.allSatisfy { $0 >= 0 && Int($0) < shape[1] }, "\(operation): labels must be in 0..<\(shape[1])")
        return (shape[0], shape[1])
    }
}
