// swift-tools-version: 6.2
// Handwritten-digit recognition in Swift: a small deep-learning engine (kernels ← autograd ← nn ←
// optimizers ← datasets ← models) and the `mnist` command-line tool.
import PackageDescription

// Tools version 6.2: SwiftPM then lets packages that depend on this one by version build targets with the
// portable flags below (before 6.2 any `unsafeFlags` made the package unusable as a versioned dependency).

#if arch(x86_64)
/// The kernels' CPU baseline on x86-64: AVX2 and FMA (x86-64-v3, which Swift spells `haswell`), never the
/// build machine's own CPU, so a binary built anywhere runs on any CPU from 2013 on. Wider units (AVX-512)
/// are chosen at run time (`Hardware.CPUFeatures`, the OpenBLAS core). Read on the machine that evaluates
/// this manifest: cross-compiling from x86-64 to another architecture needs this line changed.
let cpuBaseline = ["-target-cpu", "haswell"]
#else
/// arm64 and others: the architecture's own baseline (NEON on arm64).
let cpuBaseline: [String] = []
#endif
/// The kernels' code generation: the CPU baseline, and no errno for math functions, so loops calling
/// `squareRoot()` (Adam) can vectorise.
let kernelCodeGeneration: [SwiftSetting] = [.unsafeFlags(cpuBaseline + ["-Xcc", "-fno-math-errno"])]
/// The kernels are optimised in debug builds too: unoptimised, their SIMD loops run tens of times slower,
/// and the tests train real models on them (`swift test` is a debug build).
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "swift-mnist",
    products: [
        /// The engine: tensors, autodiff, layers, losses, optimizers, data loading, safetensors.
        .library(name: "DeepLearning", targets: ["DeepLearning"]),
        /// The MNIST application as a library: the tutorial's models, training, evaluation, prediction.
        .library(name: "MNIST", targets: ["MNIST"]),
        /// The prediction API's request handling without HTTP, for the Fuzzing package's request harness.
        .library(name: "Serving", targets: ["Serving"]),
        .executable(name: "mnist", targets: ["MNISTCommand"]),
        // The drawing page and prediction API; its own product so `mnist train` never builds Hummingbird.
        .executable(name: "mnist-serve", targets: ["MNISTServe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // NIO's channel handlers for mnist-serve's connection limits (already in Hummingbird's graph).
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.27.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // `swift package generate-documentation` (scripts/build_documentation.sh); builds nothing otherwise.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian's -dev packages (zlib1g-dev, libpng-dev). OpenBLAS is loaded at run time
        // (COpenBLAS), once its core type is chosen for the CPU.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // What the CPU has (CPUID), read in plain C compiled for any x86-64, so the check runs before any
        // AVX2 instruction; and OpenBLAS, loaded with dlopen after its core type is chosen.
        .target(name: "CHardware"),
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // The CPU's features and the baseline check, compiled for any CPU of the architecture.
        .target(name: "Hardware", dependencies: ["CHardware"]),
        // Inner loops in AVX-512, each function compiled for it by a target attribute (no package-wide flag),
        // called only where the CPU has it (`Kernels.VectorKernels`). Optimised in debug builds too.
        .target(name: "CVectorKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        // The threads `Parallel` runs work on: one per part, kept from call to call, spinning briefly between jobs.
        .target(name: "CWorkerPool", linkerSettings: [.linkedLibrary("pthread", .when(platforms: [.linux]))]),

        // `checkPrecondition`: argument checks whose messages survive optimised builds, for every target below.
        .target(name: "Preconditions"),
        // Forward/backward kernels on plain buffers, each with a naive reference twin.
        .target(
            name: "Kernels",
            dependencies: ["Preconditions", "Hardware", "COpenBLAS", "CVectorKernels", "CWorkerPool"],
            swiftSettings: kernelCodeGeneration + optimizedInDebug),
        // Tensor, reverse-mode autodiff tape, seeded random numbers.
        .target(name: "Autograd", dependencies: ["Preconditions", "Kernels"], swiftSettings: kernelCodeGeneration),
        // Reading regular files only, their size known first (weights and IDX files).
        .target(name: "FileInput"),
        // Module, layers, losses, safetensors weights I/O.
        .target(name: "NN", dependencies: ["Preconditions", "Autograd", "FileInput"]),
        // Adam, AdamW, SGD, learning-rate schedules.
        .target(name: "Optimizers", dependencies: ["Preconditions", "NN"]),
        // IDX files (raw or gzip), MNIST, DataLoader, checksums, download.
        .target(name: "Datasets", dependencies: ["Preconditions", "Autograd", "Kernels", "CZlib", "FileInput"]),
        // Training any model: Learner (fit, data-parallel steps, schedules), callbacks, checkpoints.
        .target(name: "Training", dependencies: ["Kernels", "NN", "Optimizers", "Datasets"]),
        // PNG decoding and encoding, and MNIST's own preprocessing of a person's digit image.
        .target(name: "Imaging", dependencies: ["Preconditions", "CPNG"]),
        // The engine as one module: `import DeepLearning`.
        .target(name: "DeepLearning", dependencies: ["Autograd", "NN", "Optimizers", "Datasets", "Training"]),
        // The tutorial's models, training loop, evaluation, checkpoints, prediction.
        .target(name: "MNIST", dependencies: ["Preconditions", "NN", "Optimizers", "Datasets", "Training", "Imaging"]),
        // `mnist evaluate --report`'s files (metrics file, heat map, SVG curves, Markdown) and sample grids.
        .target(name: "Reports", dependencies: ["Preconditions", "FileInput", "MNIST", "Imaging"]),
        // `--log-level` and the log lines on standard error, for `mnist` and `mnist-serve` (swift-log only).
        .target(
            name: "CommandLineLogging",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The prediction API's request handling (validation, JSON), without any HTTP server.
        .target(name: "Serving", dependencies: ["MNIST", "Imaging"], resources: [.copy("Page")]),
        // The Hummingbird application around Serving: routes, body limit, JSON errors, the request log.
        .target(
            name: "ServingHTTP",
            dependencies: [
                "Preconditions", "Serving", "Hardware", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // The `mnist` command-line tool.
        .executableTarget(
            name: "MNISTCommand",
            dependencies: [
                "MNIST", "Reports", "Imaging", "Kernels", "Hardware", "CommandLineLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // `mnist-serve`: the drawing page and prediction API over HTTP (ServingHTTP).
        .executableTarget(
            name: "MNISTServe",
            dependencies: [
                "ServingHTTP", "Kernels", "Hardware", "CommandLineLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
            ]),

        // What the test targets share (closeness checks that fail on NaN, SplitMix64, running a process,
        // temporary folders): a plain target in no product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // The C library calls the tests need that Swift's Glibc module leaves out (pinning a thread to a CPU).
        .target(name: "CTestSupport", path: "Tests/CTestSupport"),
        .testTarget(name: "HardwareTests", dependencies: ["Hardware", "CHardware", "CTestSupport"]),
        .testTarget(
            name: "CommandLineLoggingTests",
            dependencies: [
                "CommandLineLogging", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CVectorKernels", "TestSupport"]),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OptimizersTests", dependencies: ["Optimizers"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "TestSupport"]),
        .testTarget(
            name: "DatasetsTests", dependencies: ["Datasets", "CZlib", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MNISTTests", dependencies: ["MNIST", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Imaging", "TestSupport"]),
        .testTarget(name: "ServingTests", dependencies: ["Serving", "Imaging"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ServingHTTPTests",
            dependencies: [
                "ServingHTTP", "Imaging", .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
