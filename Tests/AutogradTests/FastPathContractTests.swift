import Foundation
import Kernels
import TestSupport
import Testing
@testable import Autograd

/// The fused-kernel contract: every fast path that evaluation or training takes instead of plain operations
/// (the sparse product of inference, the fused convolution + tanh + pooling passes, each convolution plan,
/// the batch-normalisation kernels, the fused softmax cross-entropy, the bias inside the linear product) is
/// held, by one table-driven check, to the composed operations it replaces: the same values and, where it
/// records a pullback, the same gradients, within a float tolerance that a NaN or an infinity fails, on
/// several shapes with their edge cases. So evaluation never silently computes something else than training.
@Suite struct FastPathContractTests {
    /// How a case runs its fast path.
    enum Mode: String, Sendable {
        /// Nothing recorded (`withoutGradients`), as evaluation runs: the values alone are compared.
        case inference
        /// Recorded, as training runs: the values and every input's gradient are compared.
        case training
    }

    /// One set of inputs: made afresh for each run, so the two sides share no tensor.
    struct Trial: Sendable {
        let label: String
        /// The inputs (seeded), all leaves.
        let make: @Sendable () -> [Tensor]
        /// Inputs that are data, not parameters (labels, running statistics): no gradient asked for.
        var constants: Set<Int> = []
    }

    /// A fast path and the composed operations it replaces.
    struct FastPathCase: Sendable, CustomTestStringConvertible {
        let name: String
        let modes: [Mode]
        let trials: [Trial]
        /// Whether the inputs take the fast path in inference (the choice is made on the data for some);
        /// nil when it is always taken.
        var takesFastPath: (@Sendable ([Tensor]) -> Bool)? = nil
        let fast: @Sendable ([Tensor]) -> Tensor
        let composed: @Sendable ([Tensor]) -> Tensor
        /// |fast − composed| ≤ tolerance · max|composed|, element by element, for the values and for each
        /// input's gradient (`defaultTolerance` unless given).
        var tolerance = FastPathCase.defaultTolerance

        /// Measured over every case and trial below (AMD EPYC Zen 4, AVX-512, with a tolerance of 0): values
        /// at most 2.7e-7 of the largest (a convolution plan against the composed sum over taps), gradients
        /// 3.8e-7 (a convolution's input gradient; batch normalisation's scale gradient 3.5e-7); the fused
        /// pooling passes equal their operations bit for bit. Float32 sums in different orders differ by about
        /// that; a wrong kernel differs by far more (the check's own test: one value or a gradient 1% off, a NaN).
        static let defaultTolerance = 1e-5

        var testDescription: String { name }
    }

    // MARK: The contract check

    /// The output and the gradients of Σ output · projection with respect to each non-constant input (nil
    /// in inference, and for constants), of `function` on fresh inputs of `trial`.
    static func run(
        _ function: ([Tensor]) -> Tensor, on trial: Trial, recorded: Bool
    ) -> (output: Tensor, gradients: [[Float]?]) {
        let inputs = trial.make()
        // Parameters require gradients in evaluation too (it runs inside `withoutGradients`).
        for (index, input) in inputs.enumerated() { input.requiresGrad = !trial.constants.contains(index) }
        guard recorded else {
            let output = withoutGradients { function(inputs) }
            return (output, inputs.map { _ in nil })
        }
        let output = function(inputs)
        var generator = RandomGenerator(seed: 17)
        let projection = (0..<output.count).map { _ in generator.nextUniform(low: -1, high: 1) }
        output.backward(seed: projection)
        return (output, inputs.enumerated().map { trial.constants.contains($0.offset) ? nil : $0.element.grad?.data })
    }

    /// What breaks the contract for `fastPath`, one line per trial and mode: a path not taken, values or
    /// gradients out of tolerance (a NaN anywhere is out), a gradient missing on either side. Empty when
    /// the contract holds.
    static func contractFailures(of fastPath: FastPathCase) -> [String] {
        var failures: [String] = []
        for trial in fastPath.trials {
            // The reference: the composed operations, recorded, as training runs them.
            let (expected, expectedGradients) = run(fastPath.composed, on: trial, recorded: true)
            for mode in fastPath.modes {
                let context = "\(fastPath.name), \(trial.label), \(mode.rawValue)"
                if mode == .inference, let takesFastPath = fastPath.takesFastPath, !takesFastPath(trial.make()) {
                    failures.append("\(context): the inputs do not take the fast path")
                }
                let (output, gradients) = run(fastPath.fast, on: trial, recorded: mode == .training)
                if let failure = closenessFailure(
                    output.data, expected.data, relativeToLargest: fastPath.tolerance,
                    shapes: (output.shape, expected.shape))
                {
                    failures.append("\(context), values: \(failure)")
                }
                guard mode == .training else { continue }
                for (index, (gradient, expectedGradient)) in zip(gradients, expectedGradients).enumerated() {
                    switch (gradient, expectedGradient) {
                    case (nil, nil): continue
                    case (let gradient?, let expectedGradient?):
                        if let failure = closenessFailure(
                            gradient, expectedGradient, relativeToLargest: fastPath.tolerance)
                        {
                            failures.append("\(context), gradient of input \(index): \(failure)")
                        }
                    default:
                        failures.append(
                            "\(context), gradient of input \(index): \(gradient == nil ? "none" : "one") from the "
                                + "fast path, \(expectedGradient == nil ? "none" : "one") from the composed operations")
                    }
                }
            }
        }
        return failures
    }

    @Test(arguments: cases)
    func fastPathEqualsTheComposedOperations(_ fastPath: FastPathCase) {
        for failure in Self.contractFailures(of: fastPath) { Issue.record(Comment(rawValue: failure)) }
    }

    /// Every combination of the algorithms is a plan in the table, each on at least two shapes it runs.
    @Test func everyConvolutionPlanIsInTheTable() {
        let planCases = Self.cases.filter { $0.name.hasPrefix("conv2d by plan") }
        let combinations =
            ConvolutionPlan.Algorithm.allCases.count * ConvolutionPlan.Algorithm.allCases.count
            * ConvolutionPlan.InputGradientAlgorithm.allCases.count
        #expect(planCases.count == combinations && Self.validPlans.count == combinations)
        for planCase in planCases { #expect(planCase.trials.count >= 2, "\(planCase.name)") }
    }

    /// The check checks: a fast path whose values have one NaN, whose values are 1% off in one element, whose
    /// gradient is 1% off, or whose inputs do not take it, breaks the contract, and each is named.
    @Test func aBrokenFastPathBreaksTheContract() throws {
        let linear = try #require(Self.cases.first { $0.name == "linear, bias in the product" })
        #expect(Self.contractFailures(of: linear).isEmpty)

        var broken = FastPathCase(
            name: "NaN", modes: linear.modes, trials: linear.trials,
            fast: { inputs in
                let output = linear.fast(inputs)
                var poison = [Float](repeating: 0, count: output.count)
                poison[poison.count / 2] = .nan
                return output + Tensor(shape: output.shape, data: poison)
            }, composed: linear.composed)
        // One failure per trial and mode.
        let runs = linear.trials.count * linear.modes.count
        var failures = Self.contractFailures(of: broken)
        #expect(failures.count == runs, "\(failures)")
        #expect(failures.allSatisfy { $0.contains("values: 1 of") && $0.contains("actual nan") }, "\(failures)")

        broken = FastPathCase(
            name: "one value 1% off", modes: linear.modes, trials: linear.trials,
            fast: { inputs in
                let output = linear.fast(inputs)
                let largest = output.data.map(abs).max() ?? 0
                var shift = [Float](repeating: 0, count: output.count)
                shift[0] = largest / 100
                return output + Tensor(shape: output.shape, data: shift)
            }, composed: linear.composed)
        failures = Self.contractFailures(of: broken)
        #expect(failures.count == runs, "\(failures)")
        #expect(failures.allSatisfy { $0.contains("values: 1 of") }, "\(failures)")

        // The values right, the gradient 1% too large: only the gradients fail.
        broken = FastPathCase(
            name: "gradient 1% off", modes: linear.modes, trials: linear.trials,
            fast: { inputs in
                let output = linear.fast(inputs)
                return Tensor.result(shape: output.shape, data: output.data, operation: "broken", inputs: [output]) {
                    gradient in [gradient.map { $0 * 1.01 }]
                }
            }, composed: linear.composed)
        failures = Self.contractFailures(of: broken)
        #expect(failures.count >= linear.trials.count, "\(failures)")
        #expect(failures.allSatisfy { $0.contains(", training, gradient of input") }, "\(failures)")

        // Dense inputs do not take the sparse product: the case would test nothing, and says so.
        let sparse = try #require(Self.cases.first { $0.name == "linear, sparse product" })
        broken = FastPathCase(
            name: "dense", modes: sparse.modes,
            trials: [
                Trial(label: "dense", make: { [randomTensor([4, 80], seed: 5), randomTensor([3, 80], seed: 6)] })
            ],
            takesFastPath: sparse.takesFastPath, fast: sparse.fast, composed: sparse.composed)
        failures = Self.contractFailures(of: broken)
        #expect(failures == ["dense, dense, inference: the inputs do not take the fast path"], "\(failures)")
    }

    // MARK: The table

    static let cases: [FastPathCase] =
        [
            linearCases, convolutionPlanCases, fusedPoolingCases, batchNormalizationCases, [crossEntropyCase],
        ].flatMap { $0 }

    /// Inputs like MNIST's: most elements exactly 0, the rest in 0…1.
    static func sparseTensor(_ shape: [Int], seed: UInt64, nonzero: Float = 0.2) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor(
            shape: shape,
            data: (0..<shape.reduce(1, *)).map { _ in
                let (keep, value) = (generator.nextUniform(), generator.nextUniform())
                return keep < nonzero ? value : 0
            })
    }

    /// The sparse product of inference against x · Wᵀ + b; the bias added inside the BLAS product
    /// (training, and dense inputs in inference) against the same.
    static var linearCases: [FastPathCase] {
        @Sendable func composed(_ inputs: [Tensor]) -> Tensor {
            let product = inputs[0].matmul(inputs[1].transpose(0, 1))
            return inputs.count > 2 ? product + inputs[2] : product
        }
        @Sendable func fast(_ inputs: [Tensor]) -> Tensor {
            inputs[0].linear(weight: inputs[1], bias: inputs.count > 2 ? inputs[2] : nil)
        }
        // [rows, inputs] → outputs: one image; more rows than a group of 64 and outputs past the last 64
        // and past the last 8; an empty row; a single output; no bias.
        let sparseTrials = [
            Trial(
                label: "1 × 784 → 10",
                make: {
                    [
                        sparseTensor([1, 784], seed: 1), randomTensor([10, 784], seed: 2),
                        randomTensor([10], seed: 3),
                    ]
                }),
            Trial(
                label: "70 × 100 → 75",
                make: {
                    [sparseTensor([70, 100], seed: 4), randomTensor([75, 100], seed: 5), randomTensor([75], seed: 6)]
                }),
            Trial(
                label: "3 × 64 → 1, a row of zeros",
                make: {
                    let x = sparseTensor([3, 64], seed: 7)
                    for index in 64..<128 { x.data[index] = 0 }
                    return [x, randomTensor([1, 64], seed: 8), randomTensor([1], seed: 9)]
                }),
            Trial(
                label: "5 × 200 → 9, no bias",
                make: { [sparseTensor([5, 200], seed: 10), randomTensor([9, 200], seed: 11)] }),
        ]
        let denseTrials = [
            Trial(
                label: "4 × 7 → 3",
                make: {
                    [randomTensor([4, 7], seed: 12), randomTensor([3, 7], seed: 13), randomTensor([3], seed: 14)]
                }),
            Trial(
                label: "1 × 120 → 84",
                make: {
                    [
                        randomTensor([1, 120], seed: 15), randomTensor([84, 120], seed: 16),
                        randomTensor([84], seed: 17),
                    ]
                }),
            Trial(
                label: "65 × 784 → 10, sparse",
                make: {
                    [
                        sparseTensor([65, 784], seed: 18), randomTensor([10, 784], seed: 19),
                        randomTensor([10], seed: 20),
                    ]
                }),
            Trial(
                label: "2 × 5 → 4, no bias",
                make: { [randomTensor([2, 5], seed: 21), randomTensor([4, 5], seed: 22)] }),
        ]
        return [
            FastPathCase(
                name: "linear, sparse product", modes: [.inference], trials: sparseTrials,
                takesFastPath: { inputs in
                    inputs[0].data.withUnsafeBufferPointer {
                        SparseLinear.isWorthwhile(
                            input: $0.baseAddress!, rows: inputs[0].shape[0], inputs: inputs[0].shape[1])
                    }
                }, fast: fast, composed: composed),
            FastPathCase(
                name: "linear, bias in the product", modes: [.training, .inference], trials: denseTrials, fast: fast,
                composed: composed),
        ]
    }

    /// Every plan the planner can make or a test can force, on each shape it can run.
    static let validPlans: [ConvolutionPlan] = {
        var plans: [ConvolutionPlan] = []
        for forward in ConvolutionPlan.Algorithm.allCases {
            for weightGradient in ConvolutionPlan.Algorithm.allCases {
                for inputGradient in ConvolutionPlan.InputGradientAlgorithm.allCases {
                    let plan = ConvolutionPlan(
                        forward: forward, weightGradient: weightGradient, inputGradient: inputGradient)
                    if convolutionShapes.contains(where: { plan.isValid(for: $0.shape) }) { plans.append(plan) }
                }
            }
        }
        return plans
    }()

    /// Convolutions (with their stride and padding) that between them let every algorithm run on several
    /// shapes: LeNet-5's first layers, output channels in two groups of 16, a fully connected shape, stride
    /// 2, a 1 × 1 and a non-square kernel, a batch of 5 (uneven chunks), one image, odd sizes.
    static let convolutionShapes: [(label: String, shape: Convolution2DShape)] = [
        ("2 × 1 × 12 × 12, 6 × 5 × 5, padding 2", shape(2, 1, 12, 12, 6, 5, 5, padding: 2)),
        ("2 × 6 × 9 × 9, 16 × 5 × 5", shape(2, 6, 9, 9, 16, 5, 5)),
        ("1 × 3 × 10 × 10, 32 × 3 × 3", shape(1, 3, 10, 10, 32, 3, 3)),
        ("3 × 4 × 3 × 3, 5 × 3 × 3 (fully connected)", shape(3, 4, 3, 3, 5, 3, 3)),
        ("2 × 16 × 5 × 5, 16 × 5 × 5 (fully connected, 16 channels)", shape(2, 16, 5, 5, 16, 5, 5)),
        ("1 × 2 × 3 × 3, 32 × 3 × 3 (fully connected, 32 channels)", shape(1, 2, 3, 3, 32, 3, 3)),
        ("2 × 2 × 7 × 7, 3 × 3 × 3, stride 2, padding 1", shape(2, 2, 7, 7, 3, 3, 3, stride: 2, padding: 1)),
        ("5 × 2 × 11 × 9, 4 × 3 × 3, padding 1", shape(5, 2, 11, 9, 4, 3, 3, padding: 1)),
        ("2 × 3 × 5 × 5, 4 × 1 × 1", shape(2, 3, 5, 5, 4, 1, 1)),
        ("2 × 2 × 6 × 7, 4 × 2 × 3", shape(2, 2, 6, 7, 4, 2, 3)),
        ("1 × 32 × 6 × 6, 16 × 3 × 3", shape(1, 32, 6, 6, 16, 3, 3)),
    ]

    static func shape(
        _ batch: Int, _ inputChannels: Int, _ height: Int, _ width: Int, _ outputChannels: Int, _ kernelHeight: Int,
        _ kernelWidth: Int, stride: Int = 1, padding: Int = 0
    ) -> Convolution2DShape {
        Convolution2DShape(
            batch: batch, inputChannels: inputChannels, height: height, width: width, outputChannels: outputChannels,
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: stride, padding: padding)
    }

    /// The convolution that `convolutionInputs` describe: input, weight, bias and [stride, padding].
    @Sendable static func convolutionShape(of inputs: [Tensor]) -> Convolution2DShape {
        let (x, w) = (inputs[0], inputs[1])
        return Convolution2DShape(
            batch: x.shape[0], inputChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
            outputChannels: w.shape[0], kernelHeight: w.shape[2], kernelWidth: w.shape[3],
            stride: Int(inputs[3].data[0]), padding: Int(inputs[3].data[1]))
    }

    /// Input, weight and bias of `shape`, seeded, and its stride and padding as a constant [2].
    static func convolutionInputs(_ shape: Convolution2DShape, seed: UInt64) -> [Tensor] {
        [
            randomTensor([shape.batch, shape.inputChannels, shape.height, shape.width], seed: seed),
            randomTensor(
                [shape.outputChannels, shape.inputChannels, shape.kernelHeight, shape.kernelWidth], seed: seed + 1),
            randomTensor([shape.outputChannels], seed: seed + 2),
            Tensor(shape: [2], data: [Float(shape.stride), Float(shape.padding)]),
        ]
    }

    /// A convolution composed of plain operations: the padded input (zeros joined on), and for each tap
    /// (ky, kx) the input positions it reads, [N, Cin, OH, OW] (a `narrow`, or a `select` per row and column
    /// for stride > 1), times that tap's weights [Cin, Cout] as one matrix product; the taps' products added,
    /// then the bias.
    static func composedConvolution(
        _ input: Tensor, _ weight: Tensor, _ bias: Tensor?, stride: Int, padding: Int
    )
        -> Tensor
    {
        let (batch, inputChannels) = (input.shape[0], input.shape[1])
        let (outputChannels, kernelHeight, kernelWidth) = (weight.shape[0], weight.shape[2], weight.shape[3])
        var padded = input
        if padding > 0 {
            let rows = Tensor.zeros([batch, inputChannels, padding, input.shape[3]])
            padded = Tensor.cat([rows, padded, rows], dim: 2)
            let columns = Tensor.zeros([batch, inputChannels, padded.shape[2], padding])
            padded = Tensor.cat([columns, padded, columns], dim: 3)
        }
        let outputHeight = (padded.shape[2] - kernelHeight) / stride + 1
        let outputWidth = (padded.shape[3] - kernelWidth) / stride + 1
        func positions(_ tensor: Tensor, dim: Int, start: Int, count: Int) -> Tensor {
            guard stride > 1 else { return tensor.narrow(dim: dim, start: start, length: count) }
            return Tensor.stack((0..<count).map { tensor.select(dim: dim, index: start + $0 * stride) }, dim: dim)
        }
        var sum: Tensor?
        for kernelY in 0..<kernelHeight {
            let rows = positions(padded, dim: 2, start: kernelY, count: outputHeight)
            for kernelX in 0..<kernelWidth {
                let window = positions(rows, dim: 3, start: kernelX, count: outputWidth) // [N, Cin, OH, OW]
                let tap = weight[.all, .all, kernelY, kernelX] // [Cout, Cin]
                let product = window.permute(0, 2, 3, 1).reshaped([-1, inputChannels]).matmul(tap.transpose(0, 1))
                sum = sum.map { $0 + product } ?? product
            }
        }
        let output = sum!.reshaped([batch, outputHeight, outputWidth, outputChannels]).permute(0, 3, 1, 2)
        return bias.map { output + $0.reshaped([outputChannels, 1, 1]) } ?? output
    }

    /// Each valid plan on every shape it runs, forward and gradients, against `composedConvolution`.
    static var convolutionPlanCases: [FastPathCase] {
        validPlans.map { plan in
            let trials = convolutionShapes.enumerated().filter { plan.isValid(for: $0.element.shape) }.map {
                index, shape in
                Trial(
                    label: shape.label, make: { convolutionInputs(shape.shape, seed: UInt64(100 + 10 * index)) },
                    constants: [3])
            }
            return FastPathCase(
                name: "conv2d by plan (\(plan))", modes: [.training], trials: trials,
                fast: { inputs in
                    inputs[0].conv2d(
                        weight: inputs[1], bias: inputs[2], stride: Int(inputs[3].data[0]),
                        padding: Int(inputs[3].data[1]), plan: plan)
                },
                composed: { inputs in
                    composedConvolution(
                        inputs[0], inputs[1], inputs[2], stride: Int(inputs[3].data[0]),
                        padding: Int(inputs[3].data[1]))
                })
        }
    }

    /// The fused convolution + tanh + 2 × 2 average pooling of inference (LeNet-5's stages) against
    /// `conv2d`, `tanh` and `avgPool2d` as training runs them; the fused convolution + 2 × 2 max pooling
    /// (`FastCNN`'s two stages and the simple CNN's first) against `conv2d` and `maxPool2d`; and the fused tanh +
    /// pooling alone.
    static var fusedPoolingCases: [FastPathCase] {
        // One-channel inputs like MNIST's (mostly zeros, so blank windows are skipped), output channels in
        // the lanes, no bias.
        let convolutionTrials: [(String, Convolution2DShape, Bool)] = [
            ("2 × 1 × 28 × 28, 6 × 5 × 5, padding 2 (LeNet-5's conv1)", shape(2, 1, 28, 28, 6, 5, 5, padding: 2), true),
            ("3 × 1 × 12 × 12, 8 × 3 × 3, padding 1", shape(3, 1, 12, 12, 8, 3, 3, padding: 1), true),
            ("2 × 1 × 16 × 16, 6 × 5 × 5, padding 2, no bias", shape(2, 1, 16, 16, 6, 5, 5, padding: 2), false),
            ("2 × 6 × 14 × 14, 16 × 5 × 5 (LeNet-5's conv2)", shape(2, 6, 14, 14, 16, 5, 5), true),
            ("1 × 8 × 12 × 10, 32 × 3 × 3", shape(1, 8, 12, 10, 32, 3, 3), true),
        ]
        let trials = convolutionTrials.enumerated().map { index, trial in
            let (label, shape, hasBias) = trial
            return Trial(
                label: label,
                make: {
                    var inputs = convolutionInputs(shape, seed: UInt64(300 + 10 * index))
                    if shape.inputChannels == 1 {
                        inputs[0] = sparseTensor(inputs[0].shape, seed: UInt64(301 + 10 * index), nonzero: 0.3)
                    }
                    if !hasBias { inputs[2] = Tensor.zeros([0]) }
                    return inputs
                }, constants: [3])
        }
        @Sendable func bias(_ inputs: [Tensor]) -> Tensor? { inputs[2].count > 0 ? inputs[2] : nil }
        let poolingShapes: [[Int]] = [[2, 3, 6, 6], [1, 2, 5, 7], [1, 1, 2, 2], [1, 1, 50, 50], [3, 40, 4, 4]]
        /// An activation and 2 × 2 pooling of one input, in inference and training, on every pooling shape.
        func poolingCase(
            _ name: String, seed: Int, fast: @escaping @Sendable (Tensor) -> Tensor,
            composed: @escaping @Sendable (Tensor) -> Tensor
        ) -> FastPathCase {
            FastPathCase(
                name: name, modes: [.inference, .training],
                trials: poolingShapes.enumerated().map { index, shape in
                    Trial(
                        label: "\(shape)",
                        make: { [randomTensor(shape, seed: UInt64(seed + index), low: -3, high: 3)] })
                },
                fast: { fast($0[0]) }, composed: { composed($0[0]) })
        }
        return [
            FastPathCase(
                name: "conv2d + tanh + avgPool2d, fused", modes: [.inference, .training],
                trials: trials.map { trial in
                    // A trial without bias has none to differentiate: no input 2.
                    Trial(label: trial.label, make: trial.make, constants: [2, 3])
                },
                takesFastPath: { Convolution2D.usesFusedTanhAveragePool(convolutionShape(of: $0)) },
                fast: { inputs in
                    inputs[0].conv2dTanhAvgPool2d(
                        weight: inputs[1], bias: bias(inputs), stride: Int(inputs[3].data[0]),
                        padding: Int(inputs[3].data[1]))
                },
                composed: { inputs in
                    inputs[0].conv2d(
                        weight: inputs[1], bias: bias(inputs), stride: Int(inputs[3].data[0]),
                        padding: Int(inputs[3].data[1])
                    ).tanh().avgPool2d(kernelSize: 2)
                }),
            FastPathCase(
                name: "conv2d + maxPool2d, fused", modes: [.inference, .training],
                trials: [
                    ("2 × 1 × 28 × 28, 12 × 5 × 5 (FastCNN's conv1)", shape(2, 1, 28, 28, 12, 5, 5), true),
                    ("3 × 2 × 21 × 19, 7 × 3 × 3, padding 1", shape(3, 2, 21, 19, 7, 3, 3, padding: 1), true),
                    ("2 × 1 × 20 × 20, 7 × 3 × 3, no bias", shape(2, 1, 20, 20, 7, 3, 3), false),
                    ("3 × 12 × 12 × 12, 32 × 3 × 3 (FastCNN's conv2)", shape(3, 12, 12, 12, 32, 3, 3), true),
                    ("2 × 8 × 13 × 11, 32 × 3 × 3, no bias", shape(2, 8, 13, 11, 32, 3, 3), false),
                ].enumerated().map { index, trial in
                    let (label, shape, hasBias) = trial
                    return Trial(
                        label: label,
                        make: {
                            var inputs = convolutionInputs(shape, seed: UInt64(500 + 10 * index))
                            if !hasBias { inputs[2] = Tensor.zeros([0]) }
                            return inputs
                        }, constants: hasBias ? [3] : [2, 3])
                },
                takesFastPath: { Convolution2D.usesFusedMaxPool(convolutionShape(of: $0)) },
                fast: { inputs in
                    inputs[0].conv2dMaxPool2d(
                        weight: inputs[1], bias: bias(inputs), stride: Int(inputs[3].data[0]),
                        padding: Int(inputs[3].data[1]))
                },
                composed: { inputs in
                    inputs[0].conv2d(
                        weight: inputs[1], bias: bias(inputs), stride: Int(inputs[3].data[0]),
                        padding: Int(inputs[3].data[1])
                    ).maxPool2d(kernelSize: 2)
                }),
            poolingCase(
                "tanh + avgPool2d, fused", seed: 400, fast: { $0.tanhAvgPool2d(kernelSize: 2) },
                composed: { $0.tanh().avgPool2d(kernelSize: 2) }),
            poolingCase(
                "relu + maxPool2d, reordered", seed: 450, fast: { $0.reluMaxPool2d(kernelSize: 2) },
                composed: { $0.relu().maxPool2d(kernelSize: 2) }),
        ]
    }

    /// Batch normalisation with the batch's statistics (training) and with running ones (evaluation),
    /// the kernels against the formula in plain operations: (x − mean) / √(variance + ε) · γ + β, over every
    /// dimension but 1; and the batch statistics the running ones are updated from.
    static var batchNormalizationCases: [FastPathCase] {
        let epsilon: Float = 1e-5
        /// The dimensions statistics are taken over, and the shape a per-channel [C] broadcasts as.
        @Sendable func layout(_ x: Tensor) -> (dimensions: [Int], channelShape: [Int]) {
            x.rank == 4 ? ([0, 2, 3], [1, x.shape[1], 1, 1]) : ([0], [1, x.shape[1]])
        }
        @Sendable func mean(_ x: Tensor) -> Tensor {
            layout(x).dimensions.reduce(x) { $0.mean(dim: $1, keepDim: true) }
        }
        @Sendable func composedStatistics(_ x: Tensor) -> (mean: Tensor, variance: Tensor) {
            let average = mean(x)
            return (average, mean((x - average).squared()))
        }
        @Sendable func normalized(_ x: Tensor, mean: Tensor, variance: Tensor, scale: Tensor, shift: Tensor) -> Tensor {
            let channelShape = layout(x).channelShape
            return (x - mean) / (variance + epsilon).sqrt() * scale.reshaped(channelShape)
                + shift.reshaped(channelShape)
        }
        // [N, C] and [N, C, H, W]; planes not a multiple of 8 (the kernels' vector tails), one image, a
        // batch of 2, planes of one element. (Not two elements per channel: the outputs are then ±1 whatever
        // x is, x's gradient is 0, and both sides return only their rounding.)
        let shapes: [[Int]] = [[8, 5], [3, 4], [2, 3, 5, 5], [1, 4, 3, 3], [3, 2, 8, 8], [4, 16, 1, 1]]
        let trials = shapes.enumerated().map { index, shape in
            Trial(
                label: "\(shape)",
                make: {
                    let x = randomTensor(shape, seed: UInt64(500 + 10 * index), low: -2, high: 3)
                    let channels = shape[1]
                    return [
                        x, randomTensor([channels], seed: UInt64(501 + 10 * index), low: 0.5, high: 1.5),
                        randomTensor([channels], seed: UInt64(502 + 10 * index)),
                        randomTensor([channels], seed: UInt64(503 + 10 * index)),
                        randomTensor([channels], seed: UInt64(504 + 10 * index), low: 0.2, high: 2),
                    ]
                }, constants: [3, 4])
        }
        return [
            FastPathCase(
                name: "batch normalisation, batch statistics", modes: [.training, .inference], trials: trials,
                fast: { inputs in
                    inputs[0].batchNormalized(scale: inputs[1], shift: inputs[2], epsilon: epsilon).output
                },
                composed: { inputs in
                    let (mean, variance) = composedStatistics(inputs[0])
                    return normalized(inputs[0], mean: mean, variance: variance, scale: inputs[1], shift: inputs[2])
                }),
            FastPathCase(
                name: "batch normalisation, the batch's mean and biased variance", modes: [.inference], trials: trials,
                fast: { inputs in
                    let (_, mean, variance) = inputs[0].batchNormalized(
                        scale: inputs[1], shift: inputs[2], epsilon: epsilon)
                    return Tensor(shape: [2, mean.count], data: mean + variance)
                },
                composed: { inputs in
                    let (mean, variance) = composedStatistics(inputs[0])
                    return Tensor.stack([mean.reshaped([-1]), variance.reshaped([-1])], dim: 0)
                }),
            FastPathCase(
                name: "batch normalisation, running statistics", modes: [.training, .inference], trials: trials,
                fast: { inputs in
                    inputs[0].batchNormalized(
                        scale: inputs[1], shift: inputs[2], mean: inputs[3].data, variance: inputs[4].data,
                        epsilon: epsilon)
                },
                composed: { inputs in
                    let channelShape = layout(inputs[0]).channelShape
                    return normalized(
                        inputs[0], mean: inputs[3].reshaped(channelShape), variance: inputs[4].reshaped(channelShape),
                        scale: inputs[1], shift: inputs[2])
                }),
        ]
    }

    /// The fused softmax cross-entropy against `logSoftmax` then `nllLoss`; labels are input 1 (constant).
    static var crossEntropyCase: FastPathCase {
        // One row, a batch of 64, logits of ±30 (the shift by the largest matters), one class.
        let shapes: [(rows: Int, classes: Int, scale: Float)] = [(1, 10, 1), (64, 10, 3), (5, 3, 30), (7, 1, 1)]
        let trials = shapes.enumerated().map { index, shape in
            Trial(
                label: "\(shape.rows) × \(shape.classes), logits ±\(shape.scale)",
                make: {
                    var generator = RandomGenerator(seed: UInt64(600 + index))
                    let labels = (0..<shape.rows).map { _ in Float(Int(generator.nextUniform() * Float(shape.classes)))
                    }
                    return [
                        randomTensor(
                            [shape.rows, shape.classes], seed: UInt64(610 + index), low: -shape.scale, high: shape.scale
                        ),
                        Tensor(shape: [shape.rows], data: labels),
                    ]
                }, constants: [1])
        }
        @Sendable func labels(_ inputs: [Tensor]) -> [Int32] { inputs[1].data.map { Int32($0) } }
        return FastPathCase(
            name: "crossEntropy, fused", modes: [.training, .inference], trials: trials,
            fast: { $0[0].crossEntropy(labels: labels($0)) },
            composed: { $0[0].logSoftmax(dim: 1).nllLoss(labels: labels($0)) })
    }
}
