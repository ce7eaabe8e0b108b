import Foundation
import Kernels
import Preconditions

extension Tensor {
    /// x · Wᵀ + b, PyTorch's `F.linear`: input [N, in], weight [out, in], bias [out] → [N, out]. On mostly-zero
    /// inputs (`SparseLinear.isWorthwhile`), in training as in inference, the forward product and the weight
    /// gradient sum over the nonzero inputs only.
    public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
        checkPrecondition(
            rank == 2 && weight.rank == 2 && shape[1] == weight.shape[1],
            "linear needs input [N, in] and weight [out, in], got \(shape) and \(weight.shape)")
        let (rows, inputs, outputs) = (shape[0], shape[1], weight.shape[0])
        if let bias {
            checkPrecondition(bias.shape == [outputs], "linear bias must be [\(outputs)], got \(bias.shape)")
        }
        let (x, w) = (data, weight.data)
        // Mostly-zero inputs (the MLP's first layer on MNIST): products over the nonzeros only, the forward one
        // reading the weights transposed (kept on the weight until it changes, so one image is cheap too; in
        // training, where the weights change every step, one transpose per step).
        let recorded = GradientMode.isEnabled && (requiresGrad || weight.requiresGrad || bias?.requiresGrad == true)
        let sparse =
            recorded
            ? SparseLinear.isWorthwhileInTraining(input: x, rows: rows, inputs: inputs, outputs: outputs)
            : SparseLinear.isWorthwhile(input: x, rows: rows, inputs: inputs)
        let output = makeBuffer(count: rows * outputs) { y in
            if sparse {
                weight.transposedMatrix().withUnsafePointer { transposed in
                    x.withUnsafeBufferPointer { input in
                        func forward(bias: UnsafePointer<Float>?) {
                            SparseLinear.forward(
                                input: input.baseAddress!, rows: rows, inputs: inputs, transposedWeight: transposed,
                                bias: bias, outputs: outputs, output: y)
                        }
                        guard let bias else { return forward(bias: nil) }
                        bias.data.withUnsafeBufferPointer { forward(bias: $0.baseAddress!) }
                    }
                }
                return
            }
            if let bias {
                for row in 0..<rows { (y + row * outputs).update(from: bias.data, count: outputs) }
            }
            BLAS.parallelGemm(
                transposeB: true, m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: w, ldb: inputs,
                beta: bias == nil ? 0 : 1, c: y, ldc: outputs)
        }
        let inputs3: [Tensor] = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.result(shape: [rows, outputs], data: output, operation: "linear", inputs: inputs3) {
            [requiresGrad] gradient in
            // dX[N×in] = dY[N×out] · W[out×in]; dW[out×in] = dYᵀ · X; db[out] = Σ_rows dY
            let inputGradient: [Float]? =
                requiresGrad
                ? makeBuffer(count: rows * inputs) { target in
                    BLAS.parallelGemm(
                        m: rows, n: inputs, k: outputs, a: gradient, lda: outputs, b: w, ldb: inputs, c: target,
                        ldc: inputs)
                } : nil
            let weightGradient: [Float]? =
                weight.requiresGrad
                ? makeBuffer(count: outputs * inputs) { target in
                    if sparse {
                        SparseLinear.weightGradient(
                            input: x, rows: rows, inputs: inputs, outputGradient: gradient, outputs: outputs,
                            weightGradient: target)
                    } else {
                        BLAS.parallelGemm(
                            transposeA: true, m: outputs, n: inputs, k: rows, a: gradient, lda: outputs, b: x,
                            ldb: inputs, c: target, ldc: inputs)
                    }
                } : nil
            var gradients = [inputGradient, weightGradient]
            if let bias {
                gradients.append(bias.requiresGrad ? columnSums(gradient, rows: rows, columns: outputs) : nil)
            }
            return gradients
        }
    }

    /// 2-D convolution, PyTorch's `F.conv2d`: input [N, Cin, H, W], weight [Cout, Cin, KH, KW], bias [Cout]
    /// → [N, Cout, OH, OW] with OH = (H + 2·padding − KH) / stride + 1.
    public func conv2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        conv2d(weight: weight, bias: bias, stride: stride, padding: padding, plan: nil)
    }

    /// `conv2d` by `plan` (nil: the planner's), for the tests that hold every plan to the composed operations.
    func conv2d(weight: Tensor, bias: Tensor?, stride: Int, padding: Int, plan: ConvolutionPlan?) -> Tensor {
        checkPrecondition(
            rank == 4 && weight.rank == 4 && shape[1] == weight.shape[1],
            "conv2d needs input [N, Cin, H, W] and weight [Cout, Cin, KH, KW], got \(shape) and \(weight.shape)")
        checkPrecondition(stride >= 1 && padding >= 0, "conv2d needs stride ≥ 1 and padding ≥ 0")
        let geometry = convolutionShape(weight: weight, stride: stride, padding: padding)
        checkPrecondition(
            geometry.outputHeight >= 1 && geometry.outputWidth >= 1,
            "conv2d kernel \(weight.shape[2])×\(weight.shape[3]) does not fit input \(shape) with padding \(padding)")
        if let bias {
            checkPrecondition(
                bias.shape == [geometry.outputChannels],
                "conv2d bias must be [\(geometry.outputChannels)], got \(bias.shape)")
        }
        let (x, w, b) = (data, weight.data, bias?.data)
        // The planner chooses each phase's kernel once, for the forward pass and the pullback.
        let plan = plan ?? ConvolutionPlan(shape: geometry)
        let output = makeBuffer(count: geometry.batch * geometry.outputImageSize) { y in
            withKernelPointers(x, w, b) {
                Convolution2D.forward(input: $0, weight: $1, bias: $2, output: y, shape: geometry, plan: plan)
            }
        }
        let operationInputs: [Tensor] = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.result(
            shape: [geometry.batch, geometry.outputChannels, geometry.outputHeight, geometry.outputWidth],
            data: output, operation: "conv2d", inputs: operationInputs
        ) { [requiresGrad] gradient in
            Self.convolutionGradients(
                input: x, weight: weight, weightData: w, bias: bias, inputRequiresGrad: requiresGrad,
                outputGradient: gradient, shape: geometry, plan: plan)
        }
    }

    /// The gradients `conv2d`'s pullback returns for (input, weight[, bias]) from the output gradient `gradient`
    /// [N, Cout, OH, OW]: nil for each that needs none. `x` and `w` are the forward pass's input and weight data.
    private static func convolutionGradients(
        input x: [Float], weight: Tensor, weightData w: [Float], bias: Tensor?, inputRequiresGrad: Bool,
        outputGradient gradient: [Float], shape geometry: Convolution2DShape, plan: ConvolutionPlan
    ) -> [[Float]?] {
        // Uninitialised: the kernel overwrites every element.
        var inputGradient: [Float]? = inputRequiresGrad ? makeBuffer(count: x.count) { _ in } : nil
        var weightGradient = makeBuffer(count: w.count) { _ in }
        var biasGradient = [Float](repeating: 0, count: geometry.outputChannels)
        x.withUnsafeBufferPointer { xs in
            w.withUnsafeBufferPointer { ws in
                gradient.withUnsafeBufferPointer { dy in
                    weightGradient.withUnsafeMutableBufferPointer { dw in
                        biasGradient.withUnsafeMutableBufferPointer { db in
                            func run(_ dx: UnsafeMutablePointer<Float>?) {
                                Convolution2D.backward(
                                    input: xs.baseAddress!, weight: ws.baseAddress!, outputGradient: dy.baseAddress!,
                                    inputGradient: dx, weightGradient: dw.baseAddress!, biasGradient: db.baseAddress!,
                                    shape: geometry, plan: plan)
                            }
                            if inputGradient != nil {
                                inputGradient!.withUnsafeMutableBufferPointer { run($0.baseAddress!) }
                            } else {
                                run(nil)
                            }
                        }
                    }
                }
            }
        }
        var gradients: [[Float]?] = [inputGradient, weight.requiresGrad ? weightGradient : nil]
        if let bias { gradients.append(bias.requiresGrad ? biasGradient : nil) }
        return gradients
    }

    /// `conv2d(weight:bias:stride:padding:).maxPool2d(kernelSize: 2)`. Where the kernels fuse the two
    /// (`Convolution2D.usesFusedMaxPool` with the planner's plan), one pass that never writes the convolution's
    /// output out (`Convolution2D.forwardMaxPool`), with the same values, indices and gradients bit for bit; the
    /// pullback routes the gradient through the windows' maxima, then through the convolution, as the two
    /// operations' do. Otherwise the two operations.
    public func conv2dMaxPool2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        guard rank == 4, weight.rank == 4, shape[1] == weight.shape[1], stride >= 1, padding >= 0,
            bias.map({ $0.shape == [weight.shape[0]] }) ?? true
        else {
            return conv2d(weight: weight, bias: bias, stride: stride, padding: padding).maxPool2d(kernelSize: 2)
        }
        let geometry = convolutionShape(weight: weight, stride: stride, padding: padding)
        let plan = ConvolutionPlan(shape: geometry)
        guard geometry.outputHeight >= 1 && geometry.outputWidth >= 1,
            Convolution2D.usesFusedMaxPool(geometry, plan: plan)
        else {
            return conv2d(weight: weight, bias: bias, stride: stride, padding: padding).maxPool2d(kernelSize: 2)
        }
        let pooling = Pooling2DShape(
            planes: geometry.batch * geometry.outputChannels, height: geometry.outputHeight,
            width: geometry.outputWidth, kernelSize: 2, stride: 2)
        let pooledCount = pooling.planes * pooling.outputPlaneSize
        var indices = [Int32](unsafeUninitializedCapacity: pooledCount) { _, initializedCount in
            initializedCount = pooledCount // the kernel writes every index
        }
        let (x, w, b) = (data, weight.data, bias?.data)
        let output = makeBuffer(count: pooledCount) { y in
            indices.withUnsafeMutableBufferPointer { index in
                withKernelPointers(x, w, b) {
                    Convolution2D.forwardMaxPool(
                        input: $0, weight: $1, bias: $2, output: y, indices: index.baseAddress!, shape: geometry,
                        plan: plan)
                }
            }
        }
        let operationInputs: [Tensor] = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.result(
            shape: [geometry.batch, geometry.outputChannels, pooling.outputHeight, pooling.outputWidth], data: output,
            operation: "conv2dMaxPool2d", inputs: operationInputs
        ) { [requiresGrad] gradient in
            let convolutionGradient = makeBuffer(count: geometry.batch * geometry.outputImageSize) { dy in
                MaxPool2D.backward(outputGradient: gradient, indices: indices, inputGradient: dy, shape: pooling)
            }
            return Self.convolutionGradients(
                input: x, weight: weight, weightData: w, bias: bias, inputRequiresGrad: requiresGrad,
                outputGradient: convolutionGradient, shape: geometry, plan: plan)
        }
    }

    /// Max pooling over kernelSize × kernelSize windows (stride defaults to kernelSize, no padding):
    /// [N, C, H, W] → [N, C, (H − k) / s + 1, (W − k) / s + 1].
    public func maxPool2d(kernelSize: Int, stride: Int? = nil) -> Tensor {
        let geometry = poolingShape(kernelSize: kernelSize, stride: stride ?? kernelSize, operation: "maxPool2d")
        let outputCount = geometry.planes * geometry.outputPlaneSize
        var indices = [Int32](unsafeUninitializedCapacity: outputCount) { _, initializedCount in
            initializedCount = outputCount // the kernel writes every index
        }
        let output = makeBuffer(count: outputCount) { y in
            data.withUnsafeBufferPointer { x in
                indices.withUnsafeMutableBufferPointer { index in
                    MaxPool2D.forward(input: x.baseAddress!, output: y, indices: index.baseAddress!, shape: geometry)
                }
            }
        }
        let inputCount = count
        return Tensor.result(shape: pooledShape(geometry), data: output, operation: "maxPool2d", inputs: [self]) {
            gradient in
            [
                makeBuffer(count: inputCount) { dx in
                    MaxPool2D.backward(outputGradient: gradient, indices: indices, inputGradient: dx, shape: geometry)
                }
            ]
        }
    }

    /// `relu().maxPool2d(kernelSize:stride:)`, the order of the simple CNN and the VGG-style network, computed as
    /// `maxPool2d(kernelSize:stride:).relu()`: the maximum of ReLUs is the ReLU of the maximum, and the
    /// gradient reaches the same input (a window's first maximum where it is positive, nothing where it is not),
    /// so the values and gradients are the same bit for bit for inputs without NaN, while ReLU's two passes run
    /// on the pooled values (a quarter of them with 2 × 2 windows) instead of on the full-size activation.
    public func reluMaxPool2d(kernelSize: Int, stride: Int? = nil) -> Tensor {
        maxPool2d(kernelSize: kernelSize, stride: stride).relu()
    }

    /// Average pooling over kernelSize × kernelSize windows (stride defaults to kernelSize, no padding).
    public func avgPool2d(kernelSize: Int, stride: Int? = nil) -> Tensor {
        let geometry = poolingShape(kernelSize: kernelSize, stride: stride ?? kernelSize, operation: "avgPool2d")
        let output = makeBuffer(count: geometry.planes * geometry.outputPlaneSize) { y in
            AvgPool2D.forward(input: data, output: y, shape: geometry)
        }
        let inputCount = count
        return Tensor.result(shape: pooledShape(geometry), data: output, operation: "avgPool2d", inputs: [self]) {
            gradient in
            [
                makeBuffer(count: inputCount) { dx in
                    AvgPool2D.backward(outputGradient: gradient, inputGradient: dx, shape: geometry)
                }
            ]
        }
    }

    /// `conv2d(weight:bias:stride:padding:).tanhAvgPool2d(kernelSize: 2)`, a LeNet-5 stage. When nothing is
    /// recorded (inference) and a fused kernel takes the shape with the planner's plan
    /// (`ConvolutionPlan.fusedTanhAveragePool(for:plan:)`), one fused pass with the same result bit for bit
    /// (`Convolution2D.forwardTanhAveragePool`); otherwise `conv2d` then `tanhAvgPool2d` (fused in training too).
    public func conv2dTanhAvgPool2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        let recorded = GradientMode.isEnabled && (requiresGrad || weight.requiresGrad || bias?.requiresGrad == true)
        guard !recorded, rank == 4, weight.rank == 4, shape[1] == weight.shape[1],
            bias.map({ $0.shape == [weight.shape[0]] }) ?? true
        else {
            return conv2d(weight: weight, bias: bias, stride: stride, padding: padding).tanhAvgPool2d(kernelSize: 2)
        }
        let geometry = convolutionShape(weight: weight, stride: stride, padding: padding)
        let plan = ConvolutionPlan(shape: geometry)
        guard Convolution2D.usesFusedTanhAveragePool(geometry, plan: plan) else {
            return conv2d(weight: weight, bias: bias, stride: stride, padding: padding).tanhAvgPool2d(kernelSize: 2)
        }
        let (pooledHeight, pooledWidth) = (geometry.outputHeight / 2, geometry.outputWidth / 2)
        let (x, w, b) = (data, weight.data, bias?.data)
        let output = makeBuffer(count: geometry.batch * geometry.outputChannels * pooledHeight * pooledWidth) { y in
            withKernelPointers(x, w, b) {
                Convolution2D.forwardTanhAveragePool(
                    input: $0, weight: $1, bias: $2, output: y, shape: geometry, plan: plan)
            }
        }
        return Tensor(shape: [geometry.batch, geometry.outputChannels, pooledHeight, pooledWidth], data: output)
    }

    /// The convolution of this input [N, Cin, H, W] by `weight` [Cout, Cin, KH, KW], as the kernels take it.
    private func convolutionShape(weight: Tensor, stride: Int, padding: Int) -> Convolution2DShape {
        Convolution2DShape(
            batch: shape[0], inputChannels: shape[1], height: shape[2], width: shape[3],
            outputChannels: weight.shape[0], kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
            stride: stride, padding: padding)
    }

    /// Calls `body` with the storage of an input, a weight and an optional bias, as the kernels take them.
    private func withKernelPointers(
        _ input: [Float], _ weight: [Float], _ bias: [Float]?,
        _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>?) -> Void
    ) {
        input.withUnsafeBufferPointer { xs in
            weight.withUnsafeBufferPointer { ws in
                guard let bias else { return body(xs.baseAddress!, ws.baseAddress!, nil) }
                bias.withUnsafeBufferPointer { bs in body(xs.baseAddress!, ws.baseAddress!, bs.baseAddress!) }
            }
        }
    }

    /// `tanh().avgPool2d(kernelSize:)`, LeNet-5's activation and pooling: [N, C, H, W] → [N, C, H / k, W / k].
    /// With 2 × 2 windows, fused kernels with the same results bit for bit: in inference one pass
    /// (`AvgPool2D.tanhForwardTwoByTwo`); recorded, on even heights and widths, that pass keeping the tanh
    /// for a pullback that is also one pass (`AvgPool2D.tanhBackwardTwoByTwo`). Otherwise the two operations.
    public func tanhAvgPool2d(kernelSize: Int) -> Tensor {
        guard kernelSize == 2 else { return tanh().avgPool2d(kernelSize: kernelSize) }
        let geometry = poolingShape(kernelSize: kernelSize, stride: kernelSize, operation: "tanhAvgPool2d")
        let pooledCount = geometry.planes * geometry.outputPlaneSize
        guard GradientMode.isEnabled && requiresGrad else {
            let output = makeBuffer(count: pooledCount) { y in
                AvgPool2D.tanhForwardTwoByTwo(input: data, output: y, shape: geometry)
            }
            return Tensor(shape: pooledShape(geometry), data: output)
        }
        guard geometry.height % 2 == 0 && geometry.width % 2 == 0 else {
            return tanh().avgPool2d(kernelSize: kernelSize)
        }
        var output: [Float] = []
        let activated = makeBuffer(count: count) { kept in
            output = makeBuffer(count: pooledCount) { y in
                AvgPool2D.tanhForwardTwoByTwo(input: data, output: y, shape: geometry, activated: kept)
            }
        }
        return Tensor.result(shape: pooledShape(geometry), data: output, operation: "tanhAvgPool2d", inputs: [self]) {
            gradient in
            [
                makeBuffer(count: activated.count) { dx in
                    AvgPool2D.tanhBackwardTwoByTwo(
                        outputGradient: gradient, activated: activated, inputGradient: dx, shape: geometry)
                }
            ]
        }
    }

    private func poolingShape(kernelSize: Int, stride: Int, operation: String) -> Pooling2DShape {
        checkPrecondition(rank == 4, "\(operation) needs [N, C, H, W], got \(shape)")
        checkPrecondition(
            kernelSize >= 1 && stride >= 1 && kernelSize <= shape[2] && kernelSize <= shape[3],
            "\(operation) kernel \(kernelSize), stride \(stride) does not fit \(shape)")
        return Pooling2DShape(
            planes: shape[0] * shape[1], height: shape[2], width: shape[3], kernelSize: kernelSize, stride: stride)
    }

    private func pooledShape(_ geometry: Pooling2DShape) -> [Int] {
        [shape[0], shape[1], geometry.outputHeight, geometry.outputWidth]
    }

    /// max(x, 0), elementwise.
    public func relu() -> Tensor {
        let output = makeBuffer(count: count) { y in Activation.reluForward(data, y, count: count) }
        return Tensor.result(shape: shape, data: output, operation: "relu", inputs: [self]) { gradient in
            [
                makeBuffer(count: output.count) { dx in
                    Activation.reluBackward(
                        output: output, outputGradient: gradient, inputGradient: dx, count: output.count)
                }
            ]
        }
    }

    /// tanh(x), elementwise.
    public func tanh() -> Tensor {
        let output = makeBuffer(count: count) { y in Activation.tanhForward(data, y, count: count) }
        return Tensor.result(shape: shape, data: output, operation: "tanh", inputs: [self]) { gradient in
            [
                makeBuffer(count: output.count) { dx in
                    Activation.tanhBackward(
                        output: output, outputGradient: gradient, inputGradient: dx, count: output.count)
                }
            ]
        }
    }

    /// 1 / (1 + e^−x), elementwise.
    public func sigmoid() -> Tensor {
        let output = mapElements(data) { 1 / (1 + expf(-$0)) }
        return Tensor.result(shape: shape, data: output, operation: "sigmoid", inputs: [self]) { gradient in
            [zipElements(gradient, output) { $0 * $1 * (1 - $1) }]
        }
    }
}

/// Σ over rows of a [rows, columns] matrix → [columns].
func columnSums(_ matrix: [Float], rows: Int, columns: Int) -> [Float] {
    var sums = [Float](repeating: 0, count: columns)
    for row in 0..<rows {
        for column in 0..<columns { sums[column] += matrix[row * columns + column] }
    }
    return sums
}
