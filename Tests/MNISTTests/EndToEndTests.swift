import Foundation
import Testing
@testable import MNIST

/// Training on real MNIST, briefly: the whole pipeline (IDX files → DataLoader → LeNet5 → Adam →
/// evaluation → weights file → checkpoint) on a slice of the bundled data.
@Suite(.serialized) struct EndToEndTests {
    /// The bundled data, loaded once.
    static let training = Result {
        try MNISTDataset.load(directory: try #require(MNISTDataset.defaultDirectory()), split: .train)
    }
    static let test = Result {
        try MNISTDataset.load(directory: try #require(MNISTDataset.defaultDirectory()), split: .test)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnist-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func lenet5LearnsMNISTInAFewSeconds() throws {
        var configuration = TrainingConfiguration()
        configuration.seed = 1
        configuration.epochs = 1
        let trainer = Trainer(configuration: configuration)
        let trainingSlice = try Self.training.get().prefix(9600) // 150 batches of 64
        let testSlice = try Self.test.get().prefix(2000)
        let record = try trainer.runEpoch(trainingSet: trainingSlice, testSet: testSlice)
        // Chance is 10%; 150 Adam steps of the tutorial's recipe reach ~90% (measured 91–93% across seeds).
        #expect(record.testAccuracy > 0.85, "test accuracy \(record.testAccuracy)")
        #expect(record.trainingLoss < 1.0 && record.trainingLoss.isFinite)

        // The weights file round-trips: the model it names, the same predictions.
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("lenet5.safetensors")
        try WeightsFile.write(model: trainer.model, kind: .lenet5, to: url)
        let (kind, model, metadata) = try WeightsFile.read(from: url)
        #expect(kind == .lenet5 && metadata["model"] == "lenet5")
        #expect(evaluate(model: model, on: testSlice) == evaluate(model: trainer.model, on: testSlice))
    }

    /// The VGG-style network's weights file carries batch normalisation's running statistics: after a few
    /// training steps, the model read back predicts exactly what the trained one does in evaluation mode.
    /// (How well it learns is shown by full runs, in the README: a few steps leave the running statistics
    /// far from the data's, so evaluation-mode accuracy says little this early.)
    @Test func theVGGStyleNetworksWeightsFileKeepsItsRunningStatistics() throws {
        var configuration = TrainingConfiguration()
        configuration.model = .vgg
        configuration.augment = true
        let trainer = Trainer(configuration: configuration)
        let trainingSlice = try Self.training.get().prefix(192) // 3 batches of 64
        let testSlice = try Self.test.get().prefix(200)
        let record = try trainer.runEpoch(trainingSet: trainingSlice, testSet: testSlice)
        #expect(record.trainingLoss.isFinite && record.trainingLoss < 3)

        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("vgg.safetensors")
        try WeightsFile.write(model: trainer.model, kind: .vgg, to: url)
        let (kind, model, _) = try WeightsFile.read(from: url)
        #expect(kind == .vgg)
        for name in ["bn1.running_mean", "bn5.running_var", "bn5.num_batches_tracked"] {
            let written = try #require(model.stateDict.first { $0.name == name }).tensor.data
            let trained = try #require(trainer.model.stateDict.first { $0.name == name }).tensor.data
            #expect(written == trained, "\(name)")
        }
        #expect(trainer.model.stateDict.first { $0.name == "bn5.num_batches_tracked" }?.tensor.data == [3])
        #expect(evaluate(model: model, on: testSlice) == evaluate(model: trainer.model, on: testSlice))
    }

    /// The tutorial's recipe, and one with augmentation and a cosine schedule (whose transforms and rates
    /// depend on the generator's state and the epoch the checkpoint carries).
    @Test(arguments: [false, true])
    func resumingFromACheckpointRepeatsTheUninterruptedRunBitForBit(augmented: Bool) throws {
        let trainingSlice = try Self.training.get().prefix(640)
        let testSlice = try Self.test.get().prefix(200)
        var configuration = TrainingConfiguration()
        configuration.seed = 7
        configuration.epochs = 2
        configuration.augment = augmented
        configuration.schedule = augmented ? .cosine : .constant
        let straight = Trainer(configuration: configuration)
        _ = try straight.runEpoch(trainingSet: trainingSlice, testSet: testSlice)
        _ = try straight.runEpoch(trainingSet: trainingSlice, testSet: testSlice)

        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoint = directory.appendingPathComponent("run.checkpoint.safetensors")
        let interrupted = Trainer(configuration: configuration)
        _ = try interrupted.runEpoch(trainingSet: trainingSlice, testSet: testSlice)
        try interrupted.saveCheckpoint(to: checkpoint)
        let resumed = try Trainer.resume(from: checkpoint)
        #expect(resumed.completedEpochs == 1 && resumed.configuration == configuration)
        _ = try resumed.runEpoch(trainingSet: trainingSlice, testSet: testSlice)

        for ((name, expected), (_, actual)) in zip(straight.model.stateDict, resumed.model.stateDict) {
            #expect(expected.data == actual.data, "\(name) differs after resuming")
        }
        #expect(straight.history.map(\.testAccuracy) == resumed.history.map(\.testAccuracy))
        #expect(straight.history.map(\.learningRate) == resumed.history.map(\.learningRate))
    }

    @Test func aCosineScheduleStepsTheRateEveryBatchDownTowardsZero() throws {
        let trainingSlice = try Self.training.get().prefix(640) // 10 batches of 64
        let testSlice = try Self.test.get().prefix(100)
        var configuration = TrainingConfiguration()
        configuration.epochs = 2
        configuration.schedule = .cosine
        let trainer = Trainer(configuration: configuration)
        _ = try trainer.runEpoch(trainingSet: trainingSlice, testSet: testSlice)
        _ = try trainer.runEpoch(trainingSet: trainingSlice, testSet: testSlice)
        // Each epoch records the rate of its last batch: steps 9 and 19 of 20.
        let cosine = CosineSchedule(baseLearningRate: 0.001, totalSteps: 20)
        #expect(trainer.history.map(\.learningRate) == [cosine.learningRate(at: 9), cosine.learningRate(at: 19)])
        #expect(trainer.history[1].learningRate < 0.00001)
    }

    @Test func eachScheduleKindIsItsSchedule() {
        let (base, total) = (Float(0.002), 100)
        for step in [0, 1, 29, 50, 99, 150] {
            #expect(ScheduleKind.constant.learningRate(base: base, step: step, totalSteps: total) == base)
            #expect(
                ScheduleKind.cosine.learningRate(base: base, step: step, totalSteps: total)
                    == CosineSchedule(baseLearningRate: base, totalSteps: total).learningRate(at: step))
            #expect(
                ScheduleKind.onecycle.learningRate(base: base, step: step, totalSteps: total)
                    == OneCycleSchedule(maximumLearningRate: base, totalSteps: total).learningRate(at: step))
        }
        // One-cycle peaks at the configured rate 30% of the way in.
        #expect(abs(ScheduleKind.onecycle.learningRate(base: base, step: 29, totalSteps: total) - base) < 1e-9)
    }

    @Test func aCheckpointWrittenBeforeAugmentationAndSchedulesStillResumes() throws {
        // A configuration as versions without `augment` and `schedule` wrote it.
        let older =
            #"{"batchSize":64,"epochs":10,"learningRate":0.001,"model":"cnn","momentum":0.9,"normalize":false,"optimizer":"adam","seed":3,"weightDecay":0}"#
        let configuration = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(older.utf8))
        var expected = TrainingConfiguration()
        expected.model = .cnn
        expected.seed = 3
        #expect(configuration == expected)
        #expect(
            !configuration.augment && !configuration.elastic && !configuration.deskew
                && configuration.schedule == .constant)
    }

    @Test func aDivergingRunStopsWithAClearError() throws {
        // A ReLU network with an absurd learning rate overflows within a few steps (LeNet5's tanh would
        // saturate instead and keep the loss finite).
        var configuration = TrainingConfiguration()
        configuration.model = .mlp
        configuration.optimizer = .sgd
        configuration.learningRate = 1e30
        let trainer = Trainer(configuration: configuration)
        let trainingSlice = try Self.training.get().prefix(640)
        #expect {
            _ = try trainer.trainEpoch(on: trainingSlice)
        } throws: { error in
            guard case TrainingError.nonFiniteLoss(epoch: 1, _, _) = error else { return false }
            return "\(error)".contains("lower learning rate")
        }
    }

    @Test func badWeightsFilesAreRejectedByName() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = RandomGenerator(seed: 1)
        let lenet = LeNet5(generator: &generator)

        // Without metadata (as PyTorch's save_file writes), the model is recognised by its tensors…
        let anonymous = directory.appendingPathComponent("anonymous.safetensors")
        try SafeTensors.write(lenet.stateDict, to: anonymous)
        #expect(try WeightsFile.read(from: anonymous).kind == .lenet5)
        // …unless they match no model.
        let stranger = directory.appendingPathComponent("stranger.safetensors")
        try SafeTensors.write([("weight", Tensor.zeros([3, 3]))], to: stranger)
        #expect { try WeightsFile.read(from: stranger) } throws: {
            "\($0)".contains("stranger.safetensors: its metadata names no model, and its tensors match none")
        }

        let unknown = directory.appendingPathComponent("unknown.safetensors")
        try SafeTensors.write(lenet.stateDict, metadata: ["model": "resnet"], to: unknown)
        #expect { try WeightsFile.read(from: unknown) } throws: { "\($0)".contains("unknown model 'resnet'") }

        // LeNet5's tensors under the CNN's name: every difference is listed.
        let mismatched = directory.appendingPathComponent("mismatched.safetensors")
        try SafeTensors.write(lenet.stateDict, metadata: ["model": "cnn"], to: mismatched)
        #expect { try WeightsFile.read(from: mismatched) } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("mismatched.safetensors")
                && message.contains("unexpected keys: 'conv2.bias' [16], 'conv2.weight' [16, 6, 5, 5]")
                && message.contains("'conv1.weight' is [6, 1, 5, 5] in the file, but the model expects [32, 1, 5, 5]")
        }

        let truncated = directory.appendingPathComponent("truncated.safetensors")
        let bytes = try SafeTensors.encode(lenet.stateDict, metadata: ["model": "lenet5"])
        try Data(bytes.prefix(bytes.count - 10)).write(to: truncated)
        #expect { try WeightsFile.read(from: truncated) } throws: { "\($0)".contains("truncated") }
    }
}
