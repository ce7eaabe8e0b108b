import ArgumentParser
import Foundation

@main
struct MNISTTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist",
        abstract: "Handwritten-digit recognition in Swift: the PyTorch MNIST tutorial, and more.",
        discussion: """
            Start with `mnist train`: it trains LeNet5 on the bundled MNIST with the tutorial's recipe \
            (Adam, learning rate 0.001, batches of 64, 10 epochs) and writes lenet5.safetensors.
            """,
        subcommands: [Train.self, Evaluate.self, Predict.self, Serve.self, DataCommand.self, Download.self, Bench.self])

    static func main() {
        // Line-buffered even into a pipe or file, so `mnist train | tee log` shows each epoch as it ends.
        setvbuf(stdout, nil, _IOLBF, 0)
        main(nil)
    }
}
