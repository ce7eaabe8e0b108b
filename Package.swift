// swift-tools-version: 6.0
// Handwritten-digit recognition in Swift: a small deep-learning engine (kernels ← autograd ← nn ←
// optimizers ← datasets ← models) and the `mnist` command-line tool.
import PackageDescription

/// Kernels are compiled for the host CPU so Swift's SIMD types use AVX2/AVX-512 where the machine has them.
let hostCPU: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "native"])]

let package = Package(
    name: "swift-mnist",
    products: [
        .library(name: "MNIST", targets: ["MNIST"]),
        .executable(name: "mnist", targets: ["MNISTCommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages (libopenblas-dev, zlib1g-dev).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),

        // Forward/backward kernels on plain buffers, each with a naive reference twin.
        .target(name: "Kernels", dependencies: ["CBLAS"], swiftSettings: hostCPU),
        // Tensor, reverse-mode autodiff tape, seeded random numbers.
        .target(name: "Autograd", dependencies: ["Kernels"], swiftSettings: hostCPU),
        // Module, layers, losses, safetensors weights I/O.
        .target(name: "NN", dependencies: ["Autograd"]),
        // Adam, AdamW, SGD, learning-rate schedules.
        .target(name: "Optimizers", dependencies: ["NN"]),
        // IDX files (raw or gzip), MNIST, DataLoader, checksums, download.
        .target(name: "Datasets", dependencies: ["Autograd", "CZlib"]),
        // The tutorial's models, training loop, evaluation, checkpoints.
        .target(name: "MNIST", dependencies: ["NN", "Optimizers", "Datasets"]),
        // The `mnist` command-line tool.
        .executableTarget(
            name: "MNISTCommand",
            dependencies: ["MNIST", "Kernels", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd"]),
        .testTarget(name: "NNTests", dependencies: ["NN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OptimizersTests", dependencies: ["Optimizers"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "CZlib"]),
        .testTarget(name: "MNISTTests", dependencies: ["MNIST"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
