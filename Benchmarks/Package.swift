// swift-tools-version: 6.2
// Micro-benchmarks of the engine's kernels with ordo-one/benchmark: `swift package benchmark` from this folder.
// A package of its own, so that the engine's consumers never fetch the benchmark package.
import PackageDescription

/// SwiftPM names a package depended on by path after its folder: the clone's folder, whatever it is called.
let engine = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "swift-mnist")

let package = Package(
    name: "swift-mnist-benchmarks",
    dependencies: [
        .package(path: ".."),
        // The trait list replaces the defaults: "RuntimeInterposer", on by default for Swift 6.3 on Linux,
        // would need swift-runtime-interposer, which this machine's package mirror lacks.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "KernelBenchmarks",
            dependencies: [
                .product(name: "DeepLearning", package: engine),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/KernelBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
