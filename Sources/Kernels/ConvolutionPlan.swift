import Hardware

/// Which kernel computes each phase of a convolution: the forward pass, the weight (and bias) gradient and the
/// input gradient. `ConvolutionPlan(shape:cpu:)` is the planner, the one place that chooses; `Convolution2D`'s
/// `forward` and `backward` run the plan they are given, or the planner's.
///
/// Every algorithm computes the same convolution (the tests run each one, forced, against
/// `Reference.convolution2DForward/Backward` on every shape it accepts); they differ in speed, and in the
/// order of their floating-point sums. A plan is valid for a shape when each of its kernels can run it
/// (`isValid(for:)`, `problem(for:)`); the planner only makes valid plans, and a forced invalid one stops
/// the program with a message.
///
/// The planner's rules are on shape quantities (output width, channel counts, taps, weights, padding,
/// stride), and on the CPU's vector level (`CPUFeatures.level`, nothing else of the CPU) where that changes
/// the winner: never on a model's or a layer's name. A run capped with `MNIST_CPU_LEVEL` therefore plans as
/// the CPUs it imitates. The measurements behind each rule are in Benchmarks/README.md
/// (`swift package benchmark` in Benchmarks/).
public struct ConvolutionPlan: Sendable, Hashable, CustomStringConvertible {
    /// How the forward pass, or the weight and bias gradients, are computed.
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        /// im2col: each image unfolded into columns [Cin·KH·KW × OH·OW], then one BLAS product per image
        /// (parallel over the batch). Runs any shape.
        case imageToColumns
        /// The register-blocked direct kernels (`directForward`, `directWeightGradient`): six output channels
        /// by sixteen positions (or four channels by two taps) in fused multiply-adds on zero-padded rows, no
        /// columns. Stride 1, a square kernel, padding below the kernel size.
        case direct
        /// The direct kernels with sixteen output channels in the vector lanes
        /// (`directForwardChannelsInLanes`, `directWeightGradientChannelsInLanes`): only valid output
        /// positions computed. Stride 1, a square kernel, no padding, a multiple of 16 output channels.
        case directChannelsInLanes
        /// The kernel covers the whole unpadded input (a 1 × 1 output): each image is one patch, and the
        /// convolution is one matrix product over the batch.
        case fullyConnected
    }

    /// How the input gradient is computed.
    public enum InputGradientAlgorithm: String, Sendable, Hashable, CaseIterable {
        /// dcol = Wᵀ · dY per image through BLAS, scattered back into the image (col2im). Runs any shape.
        case columns
        /// The input gradient as a convolution of dY with the flipped, transposed kernel and padding
        /// K − 1 − p, through `directForward`. Stride 1, a square kernel, padding below the kernel size.
        case directTransposed
        /// dX = dY · W, one matrix product over the batch, for fully connected shapes.
        case fullyConnected
    }

    public var forward: Algorithm
    public var weightGradient: Algorithm
    public var inputGradient: InputGradientAlgorithm

    /// A plan as given, valid or not: a forced plan, for tests and benchmarks. `isValid(for:)` tells.
    public init(forward: Algorithm, weightGradient: Algorithm, inputGradient: InputGradientAlgorithm) {
        self.forward = forward
        self.weightGradient = weightGradient
        self.inputGradient = inputGradient
    }

    /// The planner: the fastest valid algorithm of each phase for `shape` on `cpu`, by the rules below.
    ///
    /// 1. A kernel that covers the unpadded input (1 × 1 output) is a fully connected layer: one product
    ///    over the batch in every phase (`prefersFullyConnected`).
    /// 2. Otherwise the direct kernels where they run and their blocks are well filled (`prefersDirect`),
    ///    with channels in the lanes for the unpadded multiples of 16 channels with enough taps
    ///    (`prefersChannelsInLanes`). The weight gradient leaves the plain direct kernel for im2col once
    ///    the layer has many weights (`prefersDirectWeightGradient`); the input gradient goes through the
    ///    direct kernel when the input is large enough and has enough channels (`prefersDirectInputGradient`).
    /// 3. Otherwise im2col and BLAS, which run anything.
    public init(shape: Convolution2DShape, cpu: CPUFeatures = .current) {
        if Self.prefersFullyConnected(shape) {
            self.init(forward: .fullyConnected, weightGradient: .fullyConnected, inputGradient: .fullyConnected)
            return
        }
        let forward: Algorithm, weightGradient: Algorithm
        if !Self.prefersDirect(shape, cpu: cpu) {
            (forward, weightGradient) = (.imageToColumns, .imageToColumns)
        } else if Self.prefersChannelsInLanes(shape, cpu: cpu) {
            (forward, weightGradient) = (.directChannelsInLanes, .directChannelsInLanes)
        } else {
            forward = .direct
            weightGradient = Self.prefersDirectWeightGradient(shape, cpu: cpu) ? .direct : .imageToColumns
        }
        let inputGradient: InputGradientAlgorithm =
            Self.prefersDirectInputGradient(shape, cpu: cpu) ? .directTransposed : .columns
        self.init(forward: forward, weightGradient: weightGradient, inputGradient: inputGradient)
    }

    /// "forward direct, weight gradient direct, input gradient directTransposed".
    public var description: String {
        "forward \(forward.rawValue), weight gradient \(weightGradient.rawValue), input gradient \(inputGradient.rawValue)"
    }

    // MARK: Validity: what each kernel can run

    /// Whether every kernel of this plan can run `shape`.
    public func isValid(for shape: Convolution2DShape) -> Bool { problem(for: shape) == nil }

    /// Why this plan cannot run `shape`, or nil when it can.
    public func problem(for shape: Convolution2DShape) -> String? {
        if let problem = Self.shapeProblem(shape) { return problem }
        if let problem = Self.problem(running: forward, on: shape) { return "forward \(forward.rawValue): \(problem)" }
        if let problem = Self.problem(running: weightGradient, on: shape) {
            return "weight gradient \(weightGradient.rawValue): \(problem)"
        }
        let inputProblem: String? =
            switch inputGradient {
            case .columns: nil
            case .directTransposed: Self.directProblem(shape)
            case .fullyConnected: Self.fullyConnectedProblem(shape)
            }
        return inputProblem.map { "input gradient \(inputGradient.rawValue): \($0)" }
    }

    /// Stops the program with a message naming the plan, the shape and the reason when the plan cannot run it.
    func require(validFor shape: Convolution2DShape) {
        if let problem = problem(for: shape) {
            fatalError("convolution plan (\(self)) cannot run \(shape): \(problem)")
        }
    }

    /// Why `algorithm` (forward or weight gradient) cannot run `shape`, or nil.
    static func problem(running algorithm: Algorithm, on shape: Convolution2DShape) -> String? {
        switch algorithm {
        case .imageToColumns: nil
        case .direct: directProblem(shape)
        case .directChannelsInLanes:
            directProblem(shape)
                ?? (shape.padding != 0 ? "needs no padding, not \(shape.padding)" : nil)
                ?? (shape.outputChannels % 16 != 0
                    ? "needs a multiple of 16 output channels, not \(shape.outputChannels)" : nil)
        case .fullyConnected: fullyConnectedProblem(shape)
        }
    }

    /// A shape no kernel runs: no channels or pixels, or a kernel that does not fit. (An empty batch is
    /// allowed, as it was before plans.)
    static func shapeProblem(_ shape: Convolution2DShape) -> String? {
        guard shape.batch >= 0, shape.inputChannels >= 1, shape.outputChannels >= 1, shape.height >= 1,
            shape.width >= 1,
            shape.kernelHeight >= 1, shape.kernelWidth >= 1, shape.stride >= 1, shape.padding >= 0
        else {
            return "sizes must be positive (batch and padding non-negative)"
        }
        guard shape.height + 2 * shape.padding >= shape.kernelHeight,
            shape.width + 2 * shape.padding >= shape.kernelWidth
        else {
            return "the kernel does not fit the padded input"
        }
        return nil
    }

    /// The direct kernels' conditions: stride 1 (each output row is a run of the padded row), a square kernel
    /// of at most 64 rows, and padding below the kernel size (`Convolution2D.paddedWidth`: an output row then
    /// fits in W + p).
    static func directProblem(_ shape: Convolution2DShape) -> String? {
        if shape.stride != 1 { return "needs stride 1, not \(shape.stride)" }
        if shape.kernelHeight != shape.kernelWidth {
            return "needs a square kernel, not \(shape.kernelHeight)×\(shape.kernelWidth)"
        }
        if shape.padding >= shape.kernelHeight {
            return "needs padding below the kernel size \(shape.kernelHeight), not \(shape.padding)"
        }
        // `directForward` keeps the kernel rows a block runs as the bits of a 64-bit mask.
        if shape.kernelHeight > 64 { return "needs a kernel of at most 64 rows, not \(shape.kernelHeight)" }
        return nil
    }

    /// A fully connected shape: no padding and a kernel as large as the input.
    static func fullyConnectedProblem(_ shape: Convolution2DShape) -> String? {
        shape.padding == 0 && shape.kernelHeight == shape.height && shape.kernelWidth == shape.width
            ? nil : "needs an unpadded kernel as large as the input (a 1 × 1 output)"
    }

    // MARK: The planner's rules: what is fastest where

    /// Rule 1: a fully connected shape always runs as one product over the batch. The columns of im2col
    /// would be the input itself, copied; the direct kernels would compute one position of sixteen.
    /// Measured: 5–30× faster than either, in every phase.
    public static func prefersFullyConnected(_ shape: Convolution2DShape) -> Bool {
        fullyConnectedProblem(shape) == nil
    }

    /// Rule 2: the direct kernels, where they run (`Algorithm.direct`), for output planes of at least 8 × 8.
    /// The direct forward kernel computes runs of sixteen positions along the padded rows, so a narrower
    /// plane wastes most of each vector. Measured (Benchmarks/README.md), its forward pass beats im2col and
    /// OpenBLAS on every such layer there but one-channel inputs to 32 channels (9 and 25 taps), where
    /// neither wins consistently.
    public static func prefersDirect(_ shape: Convolution2DShape, cpu: CPUFeatures = .current) -> Bool {
        directProblem(shape) == nil && shape.outputWidth >= 8 && shape.outputHeight >= 8
    }

    /// Rule 2a: output channels in the vector lanes for an unpadded layer with a multiple of 16 output
    /// channels and at least 64 taps (Cin·K·K), forward and weight gradient: each block of six positions by
    /// sixteen channels then has enough multiply-adds to outweigh writing its 96 sums out one by one.
    /// Measured: 150 to 576 taps win (or tie) over the plain direct kernel and im2col in both phases; 9 and
    /// 25 lose or tie.
    public static func prefersChannelsInLanes(_ shape: Convolution2DShape, cpu: CPUFeatures = .current) -> Bool {
        problem(running: .directChannelsInLanes, on: shape) == nil && shape.patchSize >= 64
    }

    /// The most weights (Cout·Cin·K·K) for which the plain direct weight gradient beats im2col.
    public static let directWeightGradientWeightLimit = 8192

    /// Rule 2b: the plain direct weight gradient (where the lanes do not apply) up to
    /// `directWeightGradientWeightLimit` weights, im2col beyond. The direct kernel passes over the batch's
    /// inputs and output gradients once per four channels by two taps, at a rate that does not grow with the
    /// layer; im2col's product dW[Cout × CKK] runs nearer the multiply-add peak the larger it is. Measured:
    /// 150 to 4,608 weights, direct wins by 1.1–2.9×; 18,432 weights (32→64, 3 × 3, padded), im2col by
    /// 1.03–1.2×; 36,864 (64→64), im2col by 1.7–1.8×. The limit is a round number near 9,216, the middle
    /// of 4,608 and 18,432 on a log scale.
    public static func prefersDirectWeightGradient(_ shape: Convolution2DShape, cpu: CPUFeatures = .current) -> Bool {
        shape.weightCount <= directWeightGradientWeightLimit
    }

    /// The fewest input channels for which the input gradient goes through the direct kernel on `cpu`: the
    /// input channels are that convolution's output channels, which the kernel computes six at a time. With
    /// AVX-512, OpenBLAS's kernels (SkylakeX) make the columns product of a thin Wᵀ fast, and the direct
    /// kernel needs its block of six full: measured, three channels lose by 1.3×, six win by 1.5×. With AVX2
    /// only (OpenBLAS's Haswell and Zen kernels) three channels already win by 1.3×; one or two lose by 1.1–3.4×.
    public static func directInputGradientChannelMinimum(cpu: CPUFeatures = .current) -> Int {
        cpu.level >= .avx512 ? 6 : 3
    }

    /// Rule 2c: the input gradient through the direct kernel (a convolution of dY, padded by K − 1 − p) where
    /// the direct kernels are preferred, the input (that convolution's output) is at least 8 × 8 for the same
    /// reason as rule 2, and has at least `directInputGradientChannelMinimum` channels; otherwise Wᵀ · dY
    /// through BLAS and col2im.
    public static func prefersDirectInputGradient(_ shape: Convolution2DShape, cpu: CPUFeatures = .current) -> Bool {
        prefersDirect(shape, cpu: cpu) && shape.width >= 8 && shape.height >= 8
            && shape.inputChannels >= directInputGradientChannelMinimum(cpu: cpu)
    }

    // MARK: Fused inference: convolution, tanh and 2 × 2 average pooling in one pass

    /// The fused inference kernels of `Convolution2D.forwardTanhAveragePool`: each is bit for bit one forward
    /// algorithm followed by tanh and 2 × 2 average pooling, so it may replace those three steps only where
    /// the plan's forward algorithm is that one.
    public enum FusedTanhAveragePool: String, Sendable, Hashable, CaseIterable {
        /// `directForward`'s sums for a one-channel input, in blocks of two rows by eight columns by six
        /// channels, skipping windows of blank input (`oneChannelForwardTanhAveragePool`).
        case oneChannel
        /// `directForwardChannelsInLanes`'s sums, by pooling window (`channelsInLanesForwardTanhAveragePool`).
        case channelsInLanes
    }

    /// The fused kernel that replaces convolution (by `plan`), tanh and 2 × 2 average pooling on `shape`, or nil:
    /// - the output must be even both ways, so 2 × 2 pooling drops nothing;
    /// - `.oneChannel` where the forward algorithm is `.direct`, the input has one channel and a padded row
    ///   (`Convolution2D.fusedRowStride`) holds at most 64 values, one bit each in the masks of nonzero inputs;
    /// - `.channelsInLanes` where the forward algorithm is `.directChannelsInLanes`.
    public static func fusedTanhAveragePool(
        for shape: Convolution2DShape, plan: ConvolutionPlan
    ) -> FusedTanhAveragePool? {
        guard plan.isValid(for: shape), shape.outputHeight % 2 == 0, shape.outputWidth % 2 == 0 else { return nil }
        switch plan.forward {
        case .direct where shape.inputChannels == 1 && Convolution2D.fusedRowStride(shape) <= 64: return .oneChannel
        case .directChannelsInLanes: return .channelsInLanes
        default: return nil
        }
    }
}
