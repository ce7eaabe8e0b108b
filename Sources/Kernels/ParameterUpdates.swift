/// Optimizer update rules over whole parameter buffers, in branch-free loops the compiler vectorises
/// (AVX-512 on hosts that have it), split across threads for large buffers. Every element is updated independently with the same
/// operations in the same order as the scalar `Reference` twins, so the results are bit-identical to them
/// whatever the split.
public enum ParameterUpdate {
    /// Buffers smaller than this are updated on the calling thread: waking a second one costs more.
    static let parallelThreshold = 1 << 15

    /// One Adam step (PyTorch's `torch.optim.Adam`/`AdamW` update) over `count` elements, in place:
    /// parameter, firstMoment and secondMoment are [count]; gradient is [count].
    ///
    /// g ← gradient (+ weightDecay · p unless decoupled; decoupled: p ← p · (1 − learningRate · weightDecay));
    /// m ← m + (g − m)(1 − β1); v ← v·β2 + (1 − β2)·g·g; p ← p − stepSize · m / (√v / secondCorrection + ε).
    public static func adam(
        parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, stepSize: Float, beta1: Float, beta2: Float, epsilon: Float, secondCorrection: Float,
        weightDecay: Float, decoupledWeightDecay: Bool
    ) {
        let decay = decoupledWeightDecay ? 1 - learningRate * weightDecay : 1
        let gradientDecay = decoupledWeightDecay ? 0 : weightDecay
        // The loops are written per element, without branches inside, so the compiler vectorises them
        // (SIMD16's own `squareRoot()` goes lane by lane); one loop per weight-decay mode.
        @inline(__always)
        func run(_ range: Range<Int>, decoupled: Bool, coupled: Bool) {
            for element in range {
                var p = parameter[element], g = gradient[element]
                if decoupled { p *= decay }
                if coupled { g += gradientDecay * p }
                let m = firstMoment[element] + (g - firstMoment[element]) * (1 - beta1)
                let v = secondMoment[element] * beta2 + (1 - beta2) * g * g
                let denominator = v.squareRoot() / secondCorrection + epsilon
                parameter[element] = p - stepSize * m / denominator
                firstMoment[element] = m
                secondMoment[element] = v
            }
        }
        forEachChunk(count: count) { range in
            if decoupledWeightDecay {
                run(range, decoupled: true, coupled: false)
            } else if gradientDecay != 0 {
                run(range, decoupled: false, coupled: true)
            } else {
                run(range, decoupled: false, coupled: false)
            }
        }
    }

    /// One SGD step (PyTorch's `torch.optim.SGD`) over `count` elements, in place. parameter and gradient
    /// are [count]; momentumBuffer is [count], or nil when momentum is 0.
    ///
    /// g ← gradient + weightDecay · p; with momentum: b ← g on the first step, else momentum · b + (1 − dampening) · g,
    /// and g ← g + momentum · b (Nesterov) or b; finally p ← p − learningRate · g.
    public static func sgd(
        parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        momentumBuffer: UnsafeMutablePointer<Float>?, count: Int, learningRate: Float, momentum: Float,
        dampening: Float, nesterov: Bool, weightDecay: Float, firstStep: Bool
    ) {
        @inline(__always)
        func run(_ range: Range<Int>, momentumBuffer: UnsafeMutablePointer<Float>?, nesterov: Bool) {
            for element in range {
                let p = parameter[element]
                var g = gradient[element] + weightDecay * p
                if let momentumBuffer {
                    let buffer = firstStep ? g : momentum * momentumBuffer[element] + (1 - dampening) * g
                    momentumBuffer[element] = buffer
                    g = nesterov ? g + momentum * buffer : buffer
                }
                parameter[element] = p - learningRate * g
            }
        }
        forEachChunk(count: count) { range in
            if let momentumBuffer {
                if nesterov {
                    run(range, momentumBuffer: momentumBuffer, nesterov: true)
                } else {
                    run(range, momentumBuffer: momentumBuffer, nesterov: false)
                }
            } else {
                run(range, momentumBuffer: nil, nesterov: false)
            }
        }
    }

    /// Calls `body` on `0..<count` whole, or split across threads when the buffer is large.
    @inline(__always)
    static func forEachChunk(count: Int, _ body: (Range<Int>) -> Void) {
        if count < parallelThreshold {
            body(0..<count)
        } else {
            Parallel.forEachChunk(of: count, body)
        }
    }
}
