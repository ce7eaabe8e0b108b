import TestSupport
import Testing
@testable import Autograd

/// How far an analytic gradient element g may be from its finite-difference estimate n:
/// |g − n| ≤ `relative` · |n| + `relativeToLargest` · max|n|.
///
/// Measured over the 113 gradients GradientTests checks (step 4e-2, Richardson-extrapolated central
/// differences; float32 rounding of the outputs divided by the step dominates): |g − n| reached at most
/// 4.9e-4 · |n| on elements of at least 1% of the largest, 1.4e-5 · max|n| on any, and 0.26 of this bound
/// (batch normalisation's input gradient). A 1% error in one element is rejected whenever |g| is at least
/// 1.05e-3 · max|g| (measured by perturbing every element of those 113 gradients in turn; the old bound,
/// 1e-2 · (|g| + max|g|), let a 1% error through even in the largest element).
enum GradientTolerance {
    static let relative = 1e-3
    static let relativeToLargest = 1e-5
}

/// Nil when `analytic` matches the finite differences `numeric` within `GradientTolerance`; otherwise the
/// worst element and how many are out.
func gradientFailure(analytic: [Float], numeric: [Double]) -> String? {
    closenessFailure(
        analytic, numeric, relative: GradientTolerance.relative,
        relativeToLargest: GradientTolerance.relativeToLargest)
}

/// The gradient of L = Σ function(inputs) · projection (summed in Double) with respect to
/// `inputs[inputIndex]`, element by element, from central differences with steps h and 2h combined by
/// Richardson extrapolation, D = D(h) + (D(h) − D(2h)) / 3, whose truncation error is O(h⁴) rather than
/// O(h²). Each difference divides by the displacement float32 actually made, not the nominal one.
func numericGradient(
    of function: ([Tensor]) -> Tensor, inputs: [Tensor], inputIndex: Int, projection: [Float], step: Float
) -> [Double] {
    let input = inputs[inputIndex]
    func probe() -> Double {
        let value = withoutGradients { function(inputs) }
        return zip(value.data, projection).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    func difference(element: Int, step: Float) -> Double {
        let original = input.data[element]
        input.data[element] = original + step
        let (plus, plusPoint) = (probe(), Double(input.data[element]))
        input.data[element] = original - step
        let (minus, minusPoint) = (probe(), Double(input.data[element]))
        input.data[element] = original
        return (plus - minus) / (plusPoint - minusPoint)
    }
    return (0..<input.count).map { element in
        let near = difference(element: element, step: step), far = difference(element: element, step: 2 * step)
        return near + (near - far) / 3
    }
}

/// Checks `function`'s analytic gradients against finite differences (`numericGradient`) within
/// `GradientTolerance`, and checks the check on each input's gradient: 1% added to every element, to the
/// largest alone, or to the smallest of those at least 1% of the largest alone, must be rejected.
///
/// `step` is h: its double, 2h, must not cross a kink (ReLU at 0, a max-pooling tie).
func checkGradients(
    of inputs: [Tensor], step: Float = 4e-2, seed: UInt64 = 99, sourceLocation: SourceLocation = #_sourceLocation,
    _ function: ([Tensor]) -> Tensor
) {
    for input in inputs { input.requiresGrad = true; input.grad = nil }
    let output = function(inputs)
    var generator = RandomGenerator(seed: seed)
    let projection = (0..<output.count).map { _ in generator.nextUniform(low: -1, high: 1) }
    output.backward(seed: projection)

    for (inputIndex, input) in inputs.enumerated() {
        guard let analytic = input.grad?.data else {
            Issue.record("input \(inputIndex) received no gradient", sourceLocation: sourceLocation)
            continue
        }
        let numeric = numericGradient(
            of: function, inputs: inputs, inputIndex: inputIndex, projection: projection, step: step)
        let name = "input \(inputIndex) \(input.shape)"
        if let failure = gradientFailure(analytic: analytic, numeric: numeric) {
            Issue.record("\(name): \(failure)", sourceLocation: sourceLocation)
            continue
        }
        for (description, wrong) in onePercentErrors(in: analytic)
        where gradientFailure(analytic: wrong, numeric: numeric) == nil {
            Issue.record("\(name): \(description) 1% too large passes", sourceLocation: sourceLocation)
        }
    }
}

/// `gradient` with a 1% error: in every element, in the largest, and in the smallest of those at least 1%
/// of the largest.
func onePercentErrors(in gradient: [Float]) -> [(description: String, gradient: [Float])] {
    var errors = [("every element", gradient.map { $0 * 1.01 })]
    let largest = gradient.map(abs).max() ?? 0
    guard largest > 0 else { return errors }
    let byMagnitude = gradient.indices.filter { abs(gradient[$0]) >= largest / 100 }.sorted {
        abs(gradient[$0]) < abs(gradient[$1])
    }
    for index in Set([byMagnitude.first, byMagnitude.last].compactMap { $0 }).sorted() {
        var wrong = gradient
        wrong[index] *= 1.01
        errors.append(("element \(index) of \(gradient.count)", wrong))
    }
    return errors
}

func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, generator: &generator)
}
