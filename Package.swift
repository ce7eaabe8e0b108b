// swift-tools-version: 6.0
// Handwritten-digit recognition in Swift: a small deep-learning engine (kernels ← autograd ← nn ←
// optimizers ← datasets ← models) and the `mnist` command-line tool.
import PackageDescription

/// Kernels are compiled for the host CPU so Swift's SIMD types use AVX2/AVX-512 where the machine has them,
/// and without errno for math functions, so loops calling `squareRoot()` (Adam) can vectorise.
let hostCPU: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "native", "-Xcc", "-fno-math-errno"])]
/// The kernels are optimised in debug builds too: unoptimised, their SIMD loops run tens of times slower,
/// and the tests train real models on them (`swift test` is a debug build).
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "swift-mnist",
    products: [
        .library(name: "MNIST", targets: ["MNIST"]),
        .executable(name: "mnist", targets: ["MNISTCommand"]),
        // The drawing page and prediction API; its own product so `mnist train` never builds Hummingbird.
        .executable(name: "mnist-serve", targets: ["MNISTServe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages (libopenblas-dev, zlib1g-dev).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // Forward/backward kernels on plain buffers, each with a naive reference twin.
        .target(name: "Kernels", dependencies: ["CBLAS"], swiftSettings: hostCPU + optimizedInDebug),
        // Tensor, reverse-mode autodiff tape, seeded random numbers.
        .target(name: "Autograd", dependencies: ["Kernels"], swiftSettings: hostCPU),
        // Module, layers, losses, safetensors weights I/O.
        .target(name: "NN", dependencies: ["Autograd"]),
        // Adam, AdamW, SGD, learning-rate schedules.
        .target(name: "Optimizers", dependencies: ["NN"]),
        // IDX files (raw or gzip), MNIST, DataLoader, checksums, download.
        .target(name: "Datasets", dependencies: ["Autograd", "Kernels", "CZlib"]),
        // PNG decoding and encoding, and MNIST's own preprocessing of a person's digit image.
        .target(name: "Imaging", dependencies: ["CPNG"]),
        // The tutorial's models, training loop, evaluation, checkpoints, prediction, reports.
        .target(name: "MNIST", dependencies: ["NN", "Optimizers", "Datasets", "Imaging"]),
        // The prediction API's request handling (validation, JSON), without any HTTP server.
        .target(name: "Serving", dependencies: ["MNIST", "Imaging"], resources: [.copy("Page")]),
        // The Hummingbird application around Serving: routes, body limit, JSON errors.
        .target(
            name: "ServingHTTP",
            dependencies: ["Serving", .product(name: "Hummingbird", package: "hummingbird")]),
        // The `mnist` command-line tool.
        .executableTarget(
            name: "MNISTCommand",
            dependencies: ["MNIST", "Kernels", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // `mnist-serve`: the drawing page and prediction API over HTTP (ServingHTTP).
        .executableTarget(
            name: "MNISTServe",
            dependencies: [
                "ServingHTTP", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd"]),
        .testTarget(name: "NNTests", dependencies: ["NN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OptimizersTests", dependencies: ["Optimizers"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "CZlib"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MNISTTests", dependencies: ["MNIST"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ServingTests", dependencies: ["Serving", "Imaging"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ServingHTTPTests",
            dependencies: [
                "ServingHTTP", "Imaging", .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
