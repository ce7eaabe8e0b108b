import ArgumentParser
#if canImport(Glibc)
// C's stdout is a mutable global; this program sets its buffering once, from the main thread.
@preconcurrency import Glibc
#endif
import DeepLearning
import Foundation

/// `resnet`: trains the small residual network (`ResNet`) on MNIST with AdamW and a one-cycle learning-rate
/// schedule, printing the test accuracy after each epoch.
@main
struct ResNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resnet",
        abstract: "Trains a small residual network on MNIST and prints the test accuracy after each epoch.")

    @Option(help: "Passes over the training set.")
    var epochs = 6

    @Option(help: "Seed of the initial weights and of the training order: the same seed gives the same run.")
    var seed: UInt64 = 0

    @Option(help: "A folder of MNIST-format files (raw or .gz); default: the repository's data/mnist.")
    var data: String?

    @Option(help: "Channels of the first residual block (the second and third have twice as many).")
    var width = 16

    @Option(help: "Images per training batch.")
    var batchSize = 128

    @Option(help: "The one-cycle schedule's peak learning rate.")
    var lr: Float = 0.004

    @Option(help: "AdamW's decoupled weight decay.")
    var weightDecay: Float = 0.05

    @Option(help: "Train on the first N training images only (a quick run).")
    var trainLimit: Int?

    @Option(help: "Test on the first N test images only.")
    var testLimit: Int?

    @Option(help: "Write the trained weights to this safetensors file.")
    var output: String?

    func validate() throws {
        guard (1...1000).contains(epochs) else { throw ValidationError("--epochs must be 1–1000, found \(epochs)") }
        guard (4...512).contains(width) else { throw ValidationError("--width must be 4–512, found \(width)") }
        guard (1...60_000).contains(batchSize) else {
            throw ValidationError("--batch-size must be 1–60000, found \(batchSize)")
        }
        guard lr.isFinite && lr > 0 else { throw ValidationError("--lr must be a positive number, found \(lr)") }
        guard weightDecay.isFinite && weightDecay >= 0 else {
            throw ValidationError("--weight-decay must be a number of at least 0, found \(weightDecay)")
        }
        for (name, limit) in [("--train-limit", trainLimit), ("--test-limit", testLimit)] {
            if let limit, limit < 1 { throw ValidationError("\(name) must be at least 1, found \(limit)") }
        }
    }

    func run() throws {
        // One line at a time, also into a pipe: each epoch's line shows when the epoch ends.
        setvbuf(stdout, nil, _IOLBF, 0)
        let (trainingSet, testSet) = try loadData()
        print("Number of training samples: \(trainingSet.imageCount)")
        print("Number of testing samples: \(testSet.imageCount)")

        var generator = RandomGenerator(seed: seed)
        let model = ResNet(width: width, generator: &generator)
        // Decay the convolution and linear weights only, not batch norm's γ and β nor the biases (the usual
        // choice for AdamW): a rank-1 parameter is one of those.
        let decayed = model.namedParameters.filter { $0.tensor.rank > 1 }
        let notDecayed = model.namedParameters.filter { $0.tensor.rank <= 1 }
        let optimizers = [
            AdamW(parameters: decayed, learningRate: lr, weightDecay: weightDecay),
            AdamW(parameters: notDecayed, learningRate: lr, weightDecay: 0),
        ]
        let trainLoader = DataLoader(
            dataset: trainingSet, batchSize: batchSize, shuffle: true, normalization: .mnist)
        let testLoader = DataLoader(dataset: testSet, batchSize: 1000, normalization: .mnist)
        let schedule = OneCycleSchedule(
            maximumLearningRate: lr, totalSteps: max(2, epochs * trainLoader.batchCount))
        print(
            "Training a residual network of width \(width) (\(model.parameterCount) parameters): AdamW one-cycle lr \(lr), "
                + "weight decay \(weightDecay), batch \(batchSize), \(epochs) epochs, seed \(seed)")

        var step = 0
        for epoch in 1...epochs {
            let start = ContinuousClock.now
            model.train()
            var lossSum = 0.0
            for (images, labels) in trainLoader.epoch(generator: &generator) {
                for optimizer in optimizers { optimizer.learningRate = schedule.learningRate(at: step) }
                let loss = model(images).crossEntropy(labels: labels)
                for optimizer in optimizers { optimizer.zeroGrad() }
                loss.backward()
                for optimizer in optimizers { optimizer.step() }
                lossSum += Double(loss.scalar)
                step += 1
            }
            let accuracy = evaluate(model, on: testLoader)
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            print(
                "Epoch [\(epoch)/\(epochs)]: Accuracy: \(String(format: "%.2f", 100 * accuracy))%  "
                    + "(training loss \(String(format: "%.4f", lossSum / Double(trainLoader.batchCount))), "
                    + "\(String(format: "%.1f", seconds)) s)")
        }
        if let output {
            try SafeTensors.write(model.stateDict, metadata: ["model": "resnet"], to: URL(fileURLWithPath: output))
            print("Wrote \(output)")
        }
    }

    /// The training and test sets from `--data` (or the repository's data/mnist), cut to the limits.
    private func loadData() throws -> (training: MNISTDataset, test: MNISTDataset) {
        let directory: URL
        if let data {
            directory = URL(fileURLWithPath: data)
        } else if let bundled = MNISTDataset.defaultDirectory() {
            directory = bundled
        } else {
            throw DataError(description: "the repository's data/mnist folder was not found from here: pass --data DIR")
        }
        do {
            var training = try MNISTDataset.load(directory: directory, split: .train)
            var test = try MNISTDataset.load(directory: directory, split: .test)
            if let trainLimit { training = training.prefix(trainLimit) }
            if let testLimit { test = test.prefix(testLimit) }
            for (name, dataset) in [("training", training), ("test", test)] {
                // The stem's pooling and the stride-2 block need at least 4×4 pixels.
                guard dataset.imageCount > 0 && dataset.rows >= 4 && dataset.columns >= 4 else {
                    throw DataError(
                        description: "the \(name) set in \(directory.path) holds \(dataset.imageCount) images of "
                            + "\(dataset.rows)×\(dataset.columns) pixels: at least one image of 4×4 or more is needed")
                }
            }
            return (training, test)
        } catch let error as DatasetError {
            throw DataError(description: "\(error)")
        }
    }
}

/// The fraction of `loader`'s images that `model` classifies right, in evaluation mode (batch
/// normalisation with its running statistics) and without recording gradients.
func evaluate(_ model: ResNet, on loader: DataLoader) -> Double {
    model.eval()
    var correct = 0
    withoutGradients {
        for (images, labels) in loader.epoch() {
            let predictions = model(images).argmax()
            correct += zip(predictions, labels).filter { $0 == Int($1) }.count
        }
    }
    return Double(correct) / Double(loader.dataset.imageCount)
}

/// Data that cannot be trained on: ArgumentParser prints the description after "Error:" and exits with 1.
struct DataError: Error, CustomStringConvertible {
    let description: String
}
