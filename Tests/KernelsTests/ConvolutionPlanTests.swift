import Hardware
import TestSupport
import Testing
@testable import Kernels

/// The convolution planner: every algorithm of every phase, forced, against the naive twin on every shape of a
/// list that holds shapes the planner picks it for (and others it accepts); the planner's plans valid on a
/// grid of shapes and CPU levels; its picks following the shape; invalid plans refused.
@Suite struct ConvolutionPlanTests {
    typealias Numbers = KernelParityTests.Numbers
    typealias Algorithm = ConvolutionPlan.Algorithm
    typealias InputGradientAlgorithm = ConvolutionPlan.InputGradientAlgorithm

    /// The CPU levels the planner is asked about: this CPU's features capped at each level it has.
    static let cpus: [CPUFeatures] = CPUFeatures.Level.allCases.filter { $0 <= CPUFeatures.detected.level }
        .map { CPUFeatures.detected.capped(at: $0) }

    /// Shapes for the forced plans: the MNIST models' layers, the benchmarks' layers (smaller batches), and
    /// shapes at the edges of each algorithm's conditions and of the planner's rules.
    static let shapes: [Convolution2DShape] = [
        // 1 → 6, 5 × 5, padding 2, 28 × 28: the direct forward kernel with one input channel (blank spans skipped).
        shape(3, 1, 28, 28, 6, 5, padding: 2),
        // 6 → 16, 5 × 5, 14 × 14 (150 taps, 16 channels): channels in lanes.
        shape(3, 6, 14, 14, 16, 5),
        // 16 → 120, 5 × 5 on 5 × 5: fully connected.
        shape(3, 16, 5, 5, 120, 5),
        // 1 → 32, 5 × 5, 28 × 28: 32 channels but only 25 taps.
        shape(2, 1, 28, 28, 32, 5),
        // 32 → 32 and 32 → 64, 3 × 3, padding 1, 28 × 28 and 14 × 14; 64 → 64 on 28 × 28.
        shape(2, 32, 28, 28, 32, 3, padding: 1),
        shape(2, 32, 14, 14, 64, 3, padding: 1),
        shape(1, 64, 28, 28, 64, 3, padding: 1),
        shape(2, 64, 7, 7, 64, 3, padding: 1),
        // 3 → 7, 3 × 3, padding 1, 11 × 9; a 7 × 7 kernel with padding 3 on one image; 1 × 1 kernels.
        shape(2, 3, 11, 9, 7, 3, padding: 1),
        shape(1, 2, 12, 17, 5, 7, padding: 3),
        shape(5, 3, 9, 8, 9, 1),
        // Channels in lanes: two groups of sixteen, a short last block of positions; a 3 × 3 plane (7 × 7 input).
        shape(2, 3, 15, 12, 32, 5),
        shape(2, 16, 7, 7, 16, 5),
        // Fully connected with a rectangular kernel, and with a 1 × 1 input.
        shape(4, 2, 3, 4, 5, 3, kernelWidth: 4),
        shape(3, 8, 1, 1, 10, 1),
        // Fully connected with 16 output channels: the channels-in-lanes kernels take it too (one position).
        shape(2, 3, 7, 7, 16, 7),
        // Stride 2 and 3, a rectangular kernel, padding as large as the kernel: im2col and columns only.
        shape(2, 3, 9, 9, 4, 3, stride: 2, padding: 1),
        shape(2, 2, 13, 11, 3, 3, stride: 3),
        shape(2, 2, 10, 12, 3, 3, kernelWidth: 5, padding: 1),
        shape(2, 1, 5, 5, 2, 3, padding: 3),
        // Small planes: a 4 × 4 output, a 1 × 1 output with padding, an input narrower than 8.
        shape(3, 4, 6, 6, 6, 3),
        shape(2, 3, 1, 1, 4, 3, padding: 1),
        shape(2, 4, 6, 6, 8, 3, padding: 2),
        // The largest padding the direct kernels take (K − 1), and one output channel (the transposed input
        // gradient then has one input channel, whose blank spans it skips).
        shape(2, 2, 8, 8, 4, 3, padding: 2),
        shape(2, 3, 12, 12, 1, 5),
        // Rows wider than 64 values: no bit masks of nonzero columns.
        shape(1, 1, 9, 70, 3, 3, padding: 1),
        // The largest kernel the direct kernels take: 64 rows, every bit of the forward kernel's row mask.
        shape(1, 1, 70, 70, 2, 64, padding: 1),
    ]

    static func shape(
        _ batch: Int, _ inputChannels: Int, _ height: Int, _ width: Int, _ outputChannels: Int, _ kernel: Int,
        kernelWidth: Int? = nil, stride: Int = 1, padding: Int = 0
    ) -> Convolution2DShape {
        Convolution2DShape(
            batch: batch, inputChannels: inputChannels, height: height, width: width, outputChannels: outputChannels,
            kernelHeight: kernel, kernelWidth: kernelWidth ?? kernel, stride: stride, padding: padding)
    }

    /// The random shapes of `KernelParityTests.convolutionMatchesDirectDefinition`.
    static func randomShape(seed: Int) -> Convolution2DShape {
        var numbers = Numbers(state: UInt64(seed + 1))
        let kernel = numbers.int(1...5)
        return Convolution2DShape(
            batch: numbers.int(1...5), inputChannels: numbers.int(1...4), height: kernel + numbers.int(0...9),
            width: kernel + numbers.int(0...9), outputChannels: numbers.int(1...6), kernelHeight: kernel,
            kernelWidth: kernel, stride: numbers.int(1...3), padding: numbers.int(0...2))
    }

    static func validForward(_ shape: Convolution2DShape) -> [Algorithm] {
        Algorithm.allCases.filter { ConvolutionPlan.problem(running: $0, on: shape) == nil }
    }

    static func validInputGradient(_ shape: Convolution2DShape) -> [InputGradientAlgorithm] {
        InputGradientAlgorithm.allCases.filter {
            ConvolutionPlan(forward: .imageToColumns, weightGradient: .imageToColumns, inputGradient: $0).isValid(
                for: shape)
        }
    }

    /// Every valid algorithm of every phase on `shape`, forced, against `Reference`: the forward pass; the
    /// weight and bias gradients with each input-gradient algorithm (im2col with columns shares a loop), and
    /// without an input gradient (the same values bit for bit); the input gradient alone (`inputGradient`).
    /// Outputs start as NaN, so an element a kernel does not write fails.
    func checkEveryValidPlan(on shape: Convolution2DShape) {
        var numbers = Numbers(state: UInt64(shape.weightCount &* 31 &+ shape.batch &* shape.inputImageSize))
        // Blank margins and zeros, as in MNIST (`sparseImages`), so the direct kernels' skipping runs.
        let input = FusedConvolutionTests().sparseImages(shape, numbers: &numbers)
        let weight = numbers.array(shape.weightCount)
        let bias = numbers.array(shape.outputChannels)
        // Output gradients with blank first rows, for the transposed input gradient's skipping.
        let outputGradient = numbers.array(shape.batch * shape.outputImageSize).enumerated().map { index, value in
            index / shape.outputWidth % shape.outputHeight < shape.outputHeight / 3 ? 0 : value
        }
        let expectedOutput = Reference.convolution2DForward(input: input, weight: weight, bias: bias, shape: shape)
        let expected = Reference.convolution2DBackward(
            input: input, weight: weight, outputGradient: outputGradient, shape: shape)
        let tolerance = 1e-5

        for algorithm in Self.validForward(shape) {
            let plan = ConvolutionPlan(forward: algorithm, weightGradient: .imageToColumns, inputGradient: .columns)
            var output = [Float](repeating: .nan, count: expectedOutput.count)
            Convolution2D.forward(input: input, weight: weight, bias: bias, output: &output, shape: shape, plan: plan)
            expectClose(output, expectedOutput, relativeToLargest: tolerance, "forward \(algorithm) on \(shape)")
        }
        for weightAlgorithm in Self.validForward(shape) {
            for inputAlgorithm in Self.validInputGradient(shape) {
                let plan = ConvolutionPlan(
                    forward: .imageToColumns, weightGradient: weightAlgorithm, inputGradient: inputAlgorithm)
                var inputGradient = [Float](repeating: .nan, count: input.count)
                var weightGradient = [Float](repeating: .nan, count: weight.count)
                var biasGradient = [Float](repeating: .nan, count: bias.count)
                Convolution2D.backward(
                    input: input, weight: weight, outputGradient: outputGradient, inputGradient: &inputGradient,
                    weightGradient: &weightGradient, biasGradient: &biasGradient, shape: shape, plan: plan)
                for (name, values, reference) in [
                    ("input", inputGradient, expected.input), ("weight", weightGradient, expected.weight),
                    ("bias", biasGradient, expected.bias),
                ] {
                    expectClose(
                        values, reference, relativeToLargest: tolerance, "\(name) gradient, \(plan), on \(shape)")
                }
                if inputAlgorithm == Self.validInputGradient(shape).first {
                    var alone = [Float](repeating: .nan, count: weight.count),
                        aloneBias = [Float](repeating: .nan, count: bias.count)
                    Convolution2D.backward(
                        input: input, weight: weight, outputGradient: outputGradient, inputGradient: nil,
                        weightGradient: &alone, biasGradient: &aloneBias, shape: shape, plan: plan)
                    #expect(
                        alone.map(\.bitPattern) == weightGradient.map(\.bitPattern),
                        "weight gradient without dX, \(plan), on \(shape)")
                    #expect(
                        aloneBias.map(\.bitPattern) == biasGradient.map(\.bitPattern),
                        "bias gradient without dX, \(plan), on \(shape)")
                }
                if weightAlgorithm == .imageToColumns {
                    var alone = [Float](repeating: .nan, count: input.count)
                    Convolution2D.inputGradient(
                        weight: weight, outputGradient: outputGradient, inputGradient: &alone, shape: shape, plan: plan)
                    #expect(
                        alone.map(\.bitPattern) == inputGradient.map(\.bitPattern),
                        "input gradient alone, \(plan), on \(shape)")
                }
            }
        }
    }

    @Test(arguments: shapes)
    func everyValidPlanMatchesTheDefinition(shape: Convolution2DShape) {
        checkEveryValidPlan(on: shape)
    }

    @Test(arguments: 0..<12)
    func everyValidPlanMatchesTheDefinitionOnRandomShapes(seed: Int) {
        checkEveryValidPlan(on: Self.randomShape(seed: seed))
    }

    /// The list above is the one the forced plans run on: for every algorithm of every phase, it holds shapes
    /// the planner picks it for (on each CPU level here), and more that the algorithm accepts.
    @Test func theShapesCoverEveryPickOfThePlanner() {
        for cpu in Self.cpus {
            let plans = Self.shapes.map { ConvolutionPlan(shape: $0, cpu: cpu) }
            for algorithm in Algorithm.allCases {
                let accepted = Self.shapes.filter { ConvolutionPlan.problem(running: algorithm, on: $0) == nil }.count
                #expect(
                    plans.contains { $0.forward == algorithm },
                    "no shape on which the planner picks forward \(algorithm) (\(cpu.level))")
                #expect(
                    plans.contains { $0.weightGradient == algorithm },
                    "no shape on which the planner picks weight gradient \(algorithm) (\(cpu.level))")
                #expect(accepted >= 4, "\(algorithm): \(accepted) shapes")
            }
            for algorithm in InputGradientAlgorithm.allCases {
                #expect(
                    plans.contains { $0.inputGradient == algorithm },
                    "no shape on which the planner picks input gradient \(algorithm) (\(cpu.level))")
                #expect(
                    Self.shapes.filter { Self.validInputGradient($0).contains(algorithm) }.count >= 4, "\(algorithm)")
            }
        }
    }

    /// The planner's plan is valid on every shape of a grid, on every CPU level; and a fused inference kernel is
    /// only offered where the plan's forward algorithm is the one it reproduces bit for bit.
    @Test func thePlannerOnlyMakesValidPlans() {
        var checked = 0
        for cpu in Self.cpus {
            for batch in [1, 64] {
                for inputChannels in [1, 3, 16, 64] {
                    for size in [1, 2, 5, 7, 8, 13, 14, 28, 29, 70] {
                        for outputChannels in [1, 6, 16, 120] {
                            for kernel in [1, 3, 5, 7] {
                                for stride in [1, 2, 3] {
                                    for padding in [0, 1, 2, 3, 6] {
                                        let shape = Self.shape(
                                            batch, inputChannels, size, size + 1, outputChannels, kernel,
                                            stride: stride, padding: padding)
                                        guard ConvolutionPlan.shapeProblem(shape) == nil else { continue }
                                        let plan = ConvolutionPlan(shape: shape, cpu: cpu)
                                        if let problem = plan.problem(for: shape) {
                                            Issue.record(
                                                "the planner's plan (\(plan)) for \(shape) on \(cpu.level): \(problem)")
                                        }
                                        switch ConvolutionPlan.fusedTanhAveragePool(for: shape, plan: plan) {
                                        case .oneChannel?: #expect(plan.forward == .direct && shape.inputChannels == 1)
                                        case .channelsInLanes?: #expect(plan.forward == .directChannelsInLanes)
                                        case nil: break
                                        }
                                        checked += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(checked > 10_000)
    }

    /// The planner picks by shape: the same channels and kernel pick differently at different sizes.
    @Test func thePlannerPicksByShape() {
        for cpu in Self.cpus {
            func plan(_ shape: Convolution2DShape) -> ConvolutionPlan { ConvolutionPlan(shape: shape, cpu: cpu) }
            // 16 → 120, 5 × 5: the kernel covers a 5 × 5 input (one product over the batch); a 5 × 5 output of
            // a 9 × 9 input is too narrow for the direct kernels' runs of sixteen; 14 × 14 is wide enough.
            #expect(
                plan(Self.shape(64, 16, 5, 5, 120, 5))
                    == ConvolutionPlan(
                        forward: .fullyConnected, weightGradient: .fullyConnected, inputGradient: .fullyConnected))
            #expect(plan(Self.shape(64, 16, 9, 9, 120, 5)).forward == .imageToColumns)
            #expect(plan(Self.shape(64, 16, 9, 9, 120, 5)).inputGradient == .columns)
            #expect(plan(Self.shape(64, 16, 14, 14, 120, 5)).forward == .direct)
            // 6 → 16, 5 × 5: channels in the lanes on 14 × 14 (150 taps), im2col on 8 × 8 (a 4 × 4 output),
            // and the plain direct kernel once padded.
            #expect(plan(Self.shape(64, 6, 14, 14, 16, 5)).forward == .directChannelsInLanes)
            #expect(plan(Self.shape(64, 6, 14, 14, 16, 5)).weightGradient == .directChannelsInLanes)
            #expect(plan(Self.shape(64, 6, 8, 8, 16, 5)).forward == .imageToColumns)
            #expect(plan(Self.shape(64, 6, 14, 14, 16, 5, padding: 2)).forward == .direct)
            // 32 output channels, 5 × 5: 25 and 50 taps are too few for channels in the lanes, 75 are enough.
            #expect(plan(Self.shape(64, 1, 28, 28, 32, 5)).forward == .direct)
            #expect(plan(Self.shape(64, 2, 28, 28, 32, 5)).forward == .direct)
            #expect(plan(Self.shape(64, 3, 28, 28, 32, 5)).forward == .directChannelsInLanes)
            // Stride 2: im2col whatever the size.
            #expect(
                plan(Self.shape(64, 6, 28, 28, 16, 5, stride: 2))
                    == ConvolutionPlan(
                        forward: .imageToColumns, weightGradient: .imageToColumns, inputGradient: .columns))
            // 3 × 3 with padding 2 on 6 × 6: an 8 × 8 output (direct forward) of a 6 × 6 input (columns for dX).
            #expect(
                plan(Self.shape(64, 8, 6, 6, 8, 3, padding: 2))
                    == ConvolutionPlan(forward: .direct, weightGradient: .direct, inputGradient: .columns))
            // The weight gradient: the plain direct kernel up to 8,192 weights, im2col beyond (padded 3 × 3
            // layers: 16 → 32 has 4,608, 32 → 64 has 18,432); channels in the lanes whatever the count.
            #expect(
                plan(Self.shape(64, 16, 14, 14, 32, 3, padding: 1))
                    == ConvolutionPlan(forward: .direct, weightGradient: .direct, inputGradient: .directTransposed))
            #expect(
                plan(Self.shape(64, 32, 14, 14, 64, 3, padding: 1))
                    == ConvolutionPlan(
                        forward: .direct, weightGradient: .imageToColumns, inputGradient: .directTransposed))
            #expect(plan(Self.shape(64, 64, 10, 10, 64, 3)).weightGradient == .directChannelsInLanes)
            // The input gradient through the direct kernel needs enough input channels: never one, always six,
            // three below AVX-512 only.
            #expect(
                plan(Self.shape(64, 1, 28, 28, 6, 5, padding: 2))
                    == ConvolutionPlan(forward: .direct, weightGradient: .direct, inputGradient: .columns))
            #expect(plan(Self.shape(64, 6, 28, 28, 16, 5, padding: 2)).inputGradient == .directTransposed)
            #expect(
                plan(Self.shape(64, 3, 28, 28, 16, 5, padding: 2)).inputGradient
                    == (cpu.level >= .avx512 ? .columns : .directTransposed))
        }
    }

    /// The tutorial's models keep the kernels they had before the planner (the README's figures were
    /// measured with them): LeNet-5's, the simple CNN's and the VGG-style network's layers, on every level.
    @Test func theModelsLayersKeepTheirKernels() {
        for cpu in Self.cpus {
            func plan(_ shape: Convolution2DShape) -> ConvolutionPlan { ConvolutionPlan(shape: shape, cpu: cpu) }
            let (direct, lanes) = (Algorithm.direct, Algorithm.directChannelsInLanes)
            // First layers: their input gradient is never asked for.
            for first in [
                Self.shape(32, 1, 28, 28, 6, 5, padding: 2), Self.shape(32, 1, 28, 28, 32, 5),
                Self.shape(64, 1, 28, 28, 32, 3),
            ] {
                #expect(plan(first).forward == direct && plan(first).weightGradient == direct, "\(first)")
            }
            #expect(
                plan(Self.shape(32, 6, 14, 14, 16, 5))
                    == ConvolutionPlan(forward: lanes, weightGradient: lanes, inputGradient: .directTransposed))
            #expect(
                plan(Self.shape(32, 16, 5, 5, 120, 5))
                    == ConvolutionPlan(
                        forward: .fullyConnected, weightGradient: .fullyConnected, inputGradient: .fullyConnected))
            for vgg in [
                Self.shape(64, 32, 26, 26, 32, 3), Self.shape(64, 32, 12, 12, 64, 3), Self.shape(64, 64, 10, 10, 64, 3),
            ] {
                #expect(
                    plan(vgg)
                        == ConvolutionPlan(forward: lanes, weightGradient: lanes, inputGradient: .directTransposed),
                    "\(vgg)")
            }
        }
    }

    @Test func invalidPlansAreRefusedWithTheReason() {
        let strided = Self.shape(1, 2, 9, 9, 16, 3, stride: 2)
        let direct = ConvolutionPlan(forward: .direct, weightGradient: .imageToColumns, inputGradient: .columns)
        #expect(!direct.isValid(for: strided))
        #expect(direct.problem(for: strided) == "forward direct: needs stride 1, not 2")
        let padded = Self.shape(1, 2, 9, 9, 16, 3, padding: 1)
        let lanes = ConvolutionPlan(
            forward: .imageToColumns, weightGradient: .directChannelsInLanes, inputGradient: .columns)
        #expect(lanes.problem(for: padded) == "weight gradient directChannelsInLanes: needs no padding, not 1")
        #expect(
            lanes.problem(for: Self.shape(1, 2, 9, 9, 24, 3))
                == "weight gradient directChannelsInLanes: needs a multiple of 16 output channels, not 24")
        let transposed = ConvolutionPlan(
            forward: .imageToColumns, weightGradient: .imageToColumns, inputGradient: .directTransposed)
        #expect(
            transposed.problem(for: Self.shape(1, 2, 9, 9, 4, 3, padding: 3))
                == "input gradient directTransposed: needs padding below the kernel size 3, not 3")
        #expect(
            transposed.problem(for: Self.shape(1, 2, 9, 9, 4, 3, kernelWidth: 5))
                == "input gradient directTransposed: needs a square kernel, not 3×5")
        // The direct forward kernel keeps a block's kernel rows as the bits of a 64-bit mask.
        let wide = Self.shape(1, 1, 70, 70, 2, 65, padding: 1)
        #expect(direct.problem(for: wide) == "forward direct: needs a kernel of at most 64 rows, not 65")
        #expect(ConvolutionPlan(shape: wide).forward == .imageToColumns)
        #expect(direct.isValid(for: Self.shape(1, 1, 70, 70, 2, 64, padding: 1)))
        let fullyConnected = ConvolutionPlan(
            forward: .fullyConnected, weightGradient: .fullyConnected, inputGradient: .fullyConnected)
        #expect(
            fullyConnected.problem(for: Self.shape(1, 2, 9, 9, 4, 3))?.hasPrefix(
                "forward fullyConnected: needs an unpadded kernel") == true)
        #expect(fullyConnected.isValid(for: Self.shape(1, 2, 9, 9, 4, 9)))
        #expect(
            ConvolutionPlan.shapeProblem(Self.shape(1, 2, 2, 2, 4, 5)) == "the kernel does not fit the padded input")
    }

    /// A forced plan that cannot run the shape stops the program, with the plan, the shape and the reason. The
    /// kernels are optimised in debug builds too, so this also shows the message surviving `-O`.
    @Test func aForcedInvalidPlanStopsTheProgram() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let shape = Convolution2DShape(
                batch: 1, inputChannels: 1, height: 9, width: 9, outputChannels: 2,
                kernelHeight: 3, kernelWidth: 3, stride: 2)
            let input = [Float](repeating: 1, count: shape.inputImageSize),
                weight = [Float](repeating: 1, count: shape.weightCount)
            var output = [Float](repeating: 0, count: shape.outputImageSize)
            let plan = ConvolutionPlan(forward: .direct, weightGradient: .direct, inputGradient: .directTransposed)
            Convolution2D.forward(input: input, weight: weight, bias: nil, output: &output, shape: shape, plan: plan)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("convolution plan (") && message.contains("cannot run"), "\(message)")
        #expect(message.contains("forward direct: needs stride 1"), "\(message)")
    }
}
