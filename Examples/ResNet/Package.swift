// swift-tools-version: 6.2
// A small residual network trained on MNIST, written against the `DeepLearning` product (the engine) only:
// an example of defining and training one's own model with this package. `swift run -c release resnet`.
import PackageDescription

let package = Package(
    name: "ResNetExample",
    products: [.executable(name: "resnet", targets: ["ResNet"])],
    dependencies: [
        // The repository this example lives in, by path: building it here builds the engine from these sources.
        .package(name: "swift-mnist", path: "../.."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .executableTarget(
            name: "ResNet",
            dependencies: [
                .product(name: "DeepLearning", package: "swift-mnist"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ])
    ],
    swiftLanguageModes: [.v6]
)
