import Foundation
import Kernels

extension Tensor {
    /// Mean cross-entropy of logits [N, C] against class indices `labels` (N of them, each in 0..<C),
    /// PyTorch's `F.cross_entropy` with mean reduction. Fused with a max-shifted log-softmax, so logits of
    /// ±1e4 give finite results.
    public func crossEntropy(labels: [Int32]) -> Tensor {
        let (rows, classes) = checkClassification(labels: labels, operation: "crossEntropy")
        var logitsGradient = [Float](repeating: 0, count: count)
        let needsGradient = GradientMode.isEnabled && requiresGrad
        let loss = data.withUnsafeBufferPointer { logits in
            labels.withUnsafeBufferPointer { labelPointer in
                logitsGradient.withUnsafeMutableBufferPointer { gradient in
                    SoftmaxCrossEntropy.forward(
                        logits: logits.baseAddress!, labels: labelPointer.baseAddress!, rows: rows, classes: classes,
                        logitsGradient: needsGradient ? gradient.baseAddress! : nil)
                }
            }
        }
        return Tensor.result(shape: [], data: [loss], operation: "crossEntropy", inputs: [self]) { gradient in
            [mapElements(logitsGradient) { $0 * gradient[0] }]
        }
    }

    /// log(softmax(x)) along the last dimension of [N, C], computed stably.
    public func logSoftmax() -> Tensor {
        precondition(rank == 2, "logSoftmax needs [N, C], got \(shape)")
        let (rows, classes) = (shape[0], shape[1])
        let output = makeBuffer(count: count) { y in
            data.withUnsafeBufferPointer { x in
                for row in 0..<rows {
                    let values = x.baseAddress! + row * classes
                    var maximum = values[0]
                    for column in 1..<classes { maximum = Swift.max(maximum, values[column]) }
                    var sum: Float = 0
                    for column in 0..<classes { sum += expf(values[column] - maximum) }
                    let logSum = logf(sum)
                    for column in 0..<classes { y[row * classes + column] = (values[column] - maximum) - logSum }
                }
            }
        }
        return Tensor.result(shape: shape, data: output, operation: "logSoftmax", inputs: [self]) { gradient in
            // dx = dy − softmax · Σ dy, row by row
            var inputGradient = gradient
            for row in 0..<rows {
                var total: Float = 0
                for column in 0..<classes { total += gradient[row * classes + column] }
                for column in 0..<classes {
                    inputGradient[row * classes + column] -= expf(output[row * classes + column]) * total
                }
            }
            return [inputGradient]
        }
    }

    /// softmax along the last dimension of [N, C].
    public func softmax() -> Tensor {
        logSoftmax().exp()
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
        precondition(rank == 2 && shape[0] > 0 && shape[1] > 0, "\(operation) needs [N, C] with N, C > 0, got \(shape)")
        precondition(labels.count == shape[0], "\(operation): \(labels.count) labels for \(shape[0]) rows")
        precondition(
            labels.allSatisfy { $0 >= 0 && Int($0) < shape[1] }, "\(operation): labels must be in 0..<\(shape[1])")
        return (shape[0], shape[1])
    }
}
