// swift-tools-version: 6.2
// libFuzzer harnesses for the parsers of untrusted bytes: one executable per parser, built by scripts/fuzz.sh
// with `-sanitize=fuzzer,address`. A package of its own, so that the engine's build never sees the flags.
import PackageDescription

/// SwiftPM names a package depended on by path after its folder: the clone's folder, whatever it is called.
let engine = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "swift-mnist")

/// A harness: `Sources/NAME/main.swift` defining `LLVMFuzzerTestOneInput` and starting libFuzzer's driver.
func harness(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name, dependencies: ["FuzzingDriver"] + products.map { .product(name: $0, package: engine) })
}

let package = Package(
    name: "swift-mnist-fuzzing",
    dependencies: [.package(path: "..")],
    targets: [
        // libFuzzer's driver function, declared for Swift (the library comes with `-sanitize=fuzzer`).
        .systemLibrary(name: "CLibFuzzer"),
        .target(name: "FuzzingDriver", dependencies: ["CLibFuzzer"]),
        harness("FuzzIDX", ["DeepLearning"]),
        harness("FuzzGzip", ["DeepLearning"]),
        harness("FuzzSafeTensors", ["DeepLearning"]),
        harness("FuzzPNG", ["MNIST"]),
        harness("FuzzPredictionRequest", ["MNIST", "Serving"]),
    ],
    swiftLanguageModes: [.v6]
)
