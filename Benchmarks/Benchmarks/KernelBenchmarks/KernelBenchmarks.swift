// Every convolution algorithm of every phase (forward, weight gradient, input gradient) on a set of layer
// shapes, forced through `ConvolutionPlan`, and BLAS's sgemm at a few shapes: which algorithm wins where, on
// the CPU this runs on. Benchmarks/README.md has the figures and what the planner picks.
//
//   swift package benchmark                                   # everything (about 2 minutes)
//   swift package benchmark --filter 'forward'                # one phase
//   MNIST_CPU_LEVEL=avx2 swift package benchmark              # as an AVX2 CPU: OpenBLAS's Haswell/Zen kernels
//   KERNEL_BENCHMARK_THREADS=1 swift package benchmark        # one thread (default: every core)

import Benchmark
import Datasets
import Foundation
import Hardware
import Kernels

/// A layer: its name in the benchmarks' names (ASCII: they become file names), and its shape at batch 64.
struct Layer: Sendable {
    let name: String
    let shape: Convolution2DShape

    init(_ inputChannels: Int, _ outputChannels: Int, kernel: Int, padding: Int = 0, size: Int) {
        shape = Convolution2DShape(
            batch: 64, inputChannels: inputChannels, height: size, width: size, outputChannels: outputChannels,
            kernelHeight: kernel, kernelWidth: kernel, padding: padding)
        name = "\(inputChannels)-\(outputChannels) k\(kernel) p\(padding) \(size)x\(size)"
    }
}

/// MNIST-sized layers and a few others: LeNet-5's three (1→6 padded, 6→16, 16→120 on a 5 × 5 input), the
/// simple CNN's (1→32, 5 × 5), two- and three-channel first layers (→16, 5 × 5, padded), the VGG-style
/// network's four (3 × 3, unpadded: 1→32, 32→32, 32→64, 64→64), and padded 3 × 3 layers (16→32 and 32→64 on
/// 14 × 14, 64→64 on 28 × 28).
let layers: [Layer] = [
    Layer(1, 6, kernel: 5, padding: 2, size: 28),
    Layer(6, 16, kernel: 5, size: 14),
    Layer(16, 120, kernel: 5, size: 5),
    Layer(1, 32, kernel: 5, size: 28),
    Layer(2, 16, kernel: 5, padding: 2, size: 28),
    Layer(3, 16, kernel: 5, padding: 2, size: 28),
    Layer(1, 32, kernel: 3, size: 28),
    Layer(32, 32, kernel: 3, size: 26),
    Layer(32, 64, kernel: 3, size: 12),
    Layer(64, 64, kernel: 3, size: 10),
    Layer(16, 32, kernel: 3, padding: 1, size: 14),
    Layer(32, 64, kernel: 3, padding: 1, size: 14),
    Layer(64, 64, kernel: 3, padding: 1, size: 28),
]

/// The planes LeNet-5's tanh and 2 × 2 average pooling see at batch 64: conv1's (6 channels, 28 × 28) and
/// conv2's (16 channels, 10 × 10).
let poolingPlanes: [(name: String, shape: Pooling2DShape)] = [(6, 28), (16, 10)].map { channels, size in
    (
        "64x\(channels)x\(size)x\(size)",
        Pooling2DShape(planes: 64 * channels, height: size, width: size, kernelSize: 2, stride: 2)
    )
}

/// Matrix products C[m × n] = A[m × k] · B[k × n] through `BLAS.gemm` (one thread): the im2col products of
/// some layers above (one image), and square ones.
let products: [(m: Int, n: Int, k: Int)] = [
    (6, 784, 25), (16, 100, 150), (64, 196, 288), (64, 784, 576), (64, 120, 400), (256, 256, 256), (1024, 1024, 1024),
]

/// A layer's buffers, made once per benchmark: inputs, weights and output gradients in [−1, 1), except
/// one-channel inputs, which are MNIST's first test images (mostly blank, as the direct kernel's skipping
/// expects), when the bundled data is found.
final class Workload: @unchecked Sendable {
    let shape: Convolution2DShape
    let input: [Float], weight: [Float], bias: [Float], outputGradient: [Float]
    var output: [Float], inputGradient: [Float], weightGradient: [Float], biasGradient: [Float]

    init(_ shape: Convolution2DShape) {
        self.shape = shape
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func numbers(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(state >> 40) * 0x1p-24 * 2 - 1
            }
        }
        let images = shape.batch * shape.inputImageSize
        if shape.inputChannels == 1, shape.height == 28, shape.width == 28,
            let directory = MNISTDataset.defaultDirectory(),
            let test = try? MNISTDataset.load(directory: directory, split: .test), test.imageCount >= shape.batch
        {
            input = test.images.prefix(images).map { Float($0) / 255 }
        } else {
            input = numbers(images)
        }
        weight = numbers(shape.weightCount).map { $0 * 0.2 }
        bias = numbers(shape.outputChannels)
        outputGradient = numbers(shape.batch * shape.outputImageSize)
        output = [Float](repeating: 0, count: shape.batch * shape.outputImageSize)
        inputGradient = [Float](repeating: 0, count: images)
        weightGradient = [Float](repeating: 0, count: shape.weightCount)
        biasGradient = [Float](repeating: 0, count: shape.outputChannels)
    }
}

let benchmarks: @Sendable () -> Void = {
    if let threads = ProcessInfo.processInfo.environment["KERNEL_BENCHMARK_THREADS"].flatMap(Int.init) {
        Parallel.threadCount = threads
    }
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock],
        timeUnits: .microseconds,
        warmupIterations: 3,
        maxDuration: .seconds(1),
        maxIterations: 300)

    for layer in layers {
        let shape = layer.shape
        for algorithm in ConvolutionPlan.Algorithm.allCases {
            let forward = ConvolutionPlan(forward: algorithm, weightGradient: .imageToColumns, inputGradient: .columns)
            if forward.isValid(for: shape) {
                Benchmark("\(layer.name) forward \(algorithm)") { benchmark, work in
                    for _ in benchmark.scaledIterations {
                        Convolution2D.forward(
                            input: work.input, weight: work.weight, bias: work.bias, output: &work.output,
                            shape: shape, plan: forward)
                    }
                    blackHole(work.output[0])
                } setup: {
                    Workload(shape)
                }
            }
            let weightGradient = ConvolutionPlan(
                forward: .imageToColumns, weightGradient: algorithm, inputGradient: .columns)
            if weightGradient.isValid(for: shape) {
                // The weight and bias gradients only: no input gradient asked for.
                Benchmark("\(layer.name) weight-gradient \(algorithm)") { benchmark, work in
                    for _ in benchmark.scaledIterations {
                        Convolution2D.backward(
                            input: work.input, weight: work.weight, outputGradient: work.outputGradient,
                            inputGradient: nil, weightGradient: &work.weightGradient,
                            biasGradient: &work.biasGradient, shape: shape, plan: weightGradient)
                    }
                    blackHole(work.weightGradient[0])
                } setup: {
                    Workload(shape)
                }
            }
        }
        for algorithm in ConvolutionPlan.InputGradientAlgorithm.allCases {
            let plan = ConvolutionPlan(
                forward: .imageToColumns, weightGradient: .imageToColumns, inputGradient: algorithm)
            guard plan.isValid(for: shape) else { continue }
            Benchmark("\(layer.name) input-gradient \(algorithm)") { benchmark, work in
                for _ in benchmark.scaledIterations {
                    Convolution2D.inputGradient(
                        weight: work.weight, outputGradient: work.outputGradient, inputGradient: &work.inputGradient,
                        shape: shape, plan: plan)
                }
                blackHole(work.inputGradient[0])
            } setup: {
                Workload(shape)
            }
        }
    }

    // LeNet-5's tanh and 2 × 2 average pooling after each convolution, training's passes: fused (the tanh kept
    // for the backward pass, which is one pass too) against the two operations' kernels one after the other.
    for planes in poolingPlanes {
        let shape = planes.shape
        Benchmark("tanh-avgpool \(planes.name) forward fused") { benchmark, work in
            for _ in benchmark.scaledIterations {
                AvgPool2D.tanhForwardTwoByTwo(
                    input: work.input, output: &work.output, shape: shape, activated: &work.activated)
            }
            blackHole(work.output[0])
        } setup: {
            PoolingWorkload(shape)
        }
        Benchmark("tanh-avgpool \(planes.name) forward twoSteps") { benchmark, work in
            for _ in benchmark.scaledIterations {
                Activation.tanhForward(work.input, &work.activated, count: work.input.count)
                AvgPool2D.forward(input: work.activated, output: &work.output, shape: shape)
            }
            blackHole(work.output[0])
        } setup: {
            PoolingWorkload(shape)
        }
        Benchmark("tanh-avgpool \(planes.name) backward fused") { benchmark, work in
            for _ in benchmark.scaledIterations {
                AvgPool2D.tanhBackwardTwoByTwo(
                    outputGradient: work.outputGradient, activated: work.activated, inputGradient: &work.inputGradient,
                    shape: shape)
            }
            blackHole(work.inputGradient[0])
        } setup: {
            PoolingWorkload(shape)
        }
        Benchmark("tanh-avgpool \(planes.name) backward twoSteps") { benchmark, work in
            for _ in benchmark.scaledIterations {
                AvgPool2D.backward(outputGradient: work.outputGradient, inputGradient: &work.spread, shape: shape)
                Activation.tanhBackward(
                    output: work.activated, outputGradient: work.spread, inputGradient: &work.inputGradient,
                    count: work.input.count)
            }
            blackHole(work.inputGradient[0])
        } setup: {
            PoolingWorkload(shape)
        }
    }

    // The MLP's first layer on MNIST's test images, as inference (500 images: a thread's half of a batch of
    // 1000) and training (a batch of 64) run it; the forward product in 8-lane Swift loops and, on a CPU with
    // AVX-512, in the 16-lane C loops.
    for rows in [500, 64] {
        for wide in VectorKernels.enabled ? [false, true] : [false] {
            Benchmark("sparse-linear \(rows)x784-784 forward \(wide ? "avx512" : "swift")") { benchmark, work in
                for _ in benchmark.scaledIterations {
                    SparseLinear.forward(
                        input: work.input, rows: rows, inputs: 784, transposedWeight: work.transposed, bias: work.bias,
                        outputs: 784, output: &work.output, wideVectors: wide)
                }
                blackHole(work.output[0])
            } setup: {
                SparseWorkload(rows: rows)
            }
        }
        Benchmark("sparse-linear \(rows)x784-784 weight-gradient") { benchmark, work in
            for _ in benchmark.scaledIterations {
                SparseLinear.weightGradient(
                    input: work.input, rows: rows, inputs: 784, outputGradient: work.outputGradient, outputs: 784,
                    weightGradient: &work.weightGradient)
            }
            blackHole(work.weightGradient[0])
        } setup: {
            SparseWorkload(rows: rows)
        }
    }

    // Nanoseconds: the smallest products take a few microseconds.
    var productConfiguration = Benchmark.defaultConfiguration
    productConfiguration.timeUnits = .nanoseconds
    for (m, n, k) in products {
        Benchmark("gemm \(m)x\(n)x\(k)", configuration: productConfiguration) { benchmark, buffers in
            for _ in benchmark.scaledIterations {
                BLAS.gemm(m: m, n: n, k: k, a: buffers.a, lda: k, b: buffers.b, ldb: n, c: &buffers.c, ldc: n)
            }
            blackHole(buffers.c[0])
        } setup: {
            Matrices(m: m, n: n, k: k)
        }
    }
}

final class Matrices: @unchecked Sendable {
    let a: [Float], b: [Float]
    var c: [Float]

    init(m: Int, n: Int, k: Int) {
        a = (0..<(m * k)).map { Float($0 % 7) * 0.1 - 0.3 }
        b = (0..<(k * n)).map { Float($0 % 5) * 0.1 - 0.2 }
        c = [Float](repeating: 0, count: m * n)
    }
}

/// A 784 → 784 layer's buffers: MNIST's first test images (81% zeros; uniform values, 60% zeros, when the
/// bundled data is not found), weights (transposed, as the sparse product reads them), bias and output gradients
/// in [−0.1, 0.1).
final class SparseWorkload: @unchecked Sendable {
    let input: [Float], transposed: [Float], bias: [Float], outputGradient: [Float]
    var output: [Float], weightGradient: [Float]

    init(rows: Int) {
        func numbers(_ count: Int, seed: Int) -> [Float] {
            (0..<count).map { Float(($0 &* 7919 &+ seed) % 2001) / 10_000 - 0.1 }
        }
        if let directory = MNISTDataset.defaultDirectory(),
            let test = try? MNISTDataset.load(directory: directory, split: .test), test.imageCount >= rows
        {
            input = test.images.prefix(rows * 784).map { Float($0) / 255 }
        } else {
            input = numbers(rows * 784, seed: 1).map { $0 < 0.02 ? 0 : $0 }
        }
        transposed = numbers(784 * 784, seed: 2)
        bias = numbers(784, seed: 3)
        outputGradient = numbers(rows * 784, seed: 4)
        output = [Float](repeating: 0, count: rows * 784)
        weightGradient = [Float](repeating: 0, count: 784 * 784)
    }
}

/// Pooling buffers in [−2, 2) (the convolution's output), the tanh of the input (kept for the backward
/// passes), output gradients in [−1, 1).
final class PoolingWorkload: @unchecked Sendable {
    let input: [Float], outputGradient: [Float]
    var activated: [Float], output: [Float], spread: [Float], inputGradient: [Float]

    init(_ shape: Pooling2DShape) {
        let (inputs, outputs) = (shape.planes * shape.inputPlaneSize, shape.planes * shape.outputPlaneSize)
        input = (0..<inputs).map { Float($0 % 401) / 100 - 2 }
        outputGradient = (0..<outputs).map { Float($0 % 199) / 100 - 1 }
        activated = [Float](repeating: 0, count: inputs)
        Activation.tanhForward(input, &activated, count: inputs)
        output = [Float](repeating: 0, count: outputs)
        spread = [Float](repeating: 0, count: inputs)
        inputGradient = [Float](repeating: 0, count: inputs)
    }
}
