import Testing
@testable import Autograd

/// Checks `function`'s analytic gradients against central finite differences.
///
/// The scalar probed is L = Σ output · R for a fixed random R (so every output element matters), summed
/// in Double. Each input element is perturbed by ±step and the analytic gradient must satisfy
/// |numeric − analytic| ≤ tolerance · (|analytic| + max|analytic|).
/// With step 1e-2 the central difference's truncation error is ~step²/6 · |L'''| ≈ 2e-5 for the unit-scale
/// smooth functions used here, and Float32 rounding of L adds ~1e-7 · |L| / step ≈ 1e-5 · |L|; a tolerance
/// of 1e-2 is far above both yet far below any real mistake (a wrong sign, factor or index).
func checkGradients(
    of inputs: [Tensor], step: Float = 1e-2, tolerance: Float = 1e-2, seed: UInt64 = 99,
    sourceLocation: SourceLocation = #_sourceLocation, _ function: ([Tensor]) -> Tensor
) {
    for input in inputs { input.requiresGrad = true; input.grad = nil }
    let output = function(inputs)
    var generator = RandomGenerator(seed: seed)
    let projection = (0..<output.count).map { _ in generator.nextUniform(low: -1, high: 1) }
    output.backward(seed: projection)

    func probe() -> Double {
        let value = withoutGradients { function(inputs) }
        return zip(value.data, projection).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    for (inputIndex, input) in inputs.enumerated() {
        guard let analytic = input.grad?.data else {
            Issue.record("input \(inputIndex) received no gradient", sourceLocation: sourceLocation)
            continue
        }
        let scale = analytic.map(abs).max() ?? 0
        var worst: (element: Int, numeric: Double, analytic: Float)?
        for element in 0..<input.count {
            let original = input.data[element]
            input.data[element] = original + step
            let plus = probe()
            input.data[element] = original - step
            let minus = probe()
            input.data[element] = original
            let numeric = (plus - minus) / Double(2 * step)
            let allowed = Double(tolerance) * Double(abs(analytic[element]) + scale) + 1e-6
            if abs(numeric - Double(analytic[element])) > allowed, worst == nil {
                worst = (element, numeric, analytic[element])
            }
        }
        if let worst {
            Issue.record(
                "input \(inputIndex) \(input.shape), element \(worst.element): numeric \(worst.numeric), analytic \(worst.analytic)",
                sourceLocation: sourceLocation)
        }
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, generator: &generator)
}
