import Foundation
import TestSupport
import Testing
@testable import MNIST

/// Named recipes (`mnist train --recipe NAME`, issue 13): what each sets, that options given on the command
/// line override it, that checkpoints keep the result, and the fast network's shapes.
@Suite struct RecipeTests {
    @Test func theTutorialRecipeIsTheDefaultConfiguration() {
        var configuration = Recipe.tutorial.configuration
        #expect(configuration.recipe == .tutorial)
        configuration.recipe = nil
        #expect(configuration == TrainingConfiguration())
        #expect(configuration.model == .lenet5 && configuration.learningRate == 0.001)
        #expect(configuration.batchSize == 64 && configuration.epochs == 10 && configuration.schedule == .constant)
        #expect(!configuration.augment && !configuration.normalize && configuration.optimizer == .adam)
    }

    @Test func theSpeedAndBestRecipesSettings() {
        let speed = Recipe.speed.configuration
        #expect(speed.recipe == .speed && speed.model == .fast && speed.optimizer == .adam)
        #expect(speed.learningRate == 0.01 && speed.schedule == .onecycle && speed.batchSize == 128)
        #expect(speed.epochs == 1 && !speed.augment)
        let best = Recipe.best.configuration
        #expect(best.recipe == .best && best.model == .vgg && best.augment && best.schedule == .cosine)
        #expect(best.learningRate == 0.001 && best.batchSize == 64 && best.epochs == 25)
        #expect(best.optimizer == .adamw && best.weightDecay == 0.05 && best.labelSmoothing == 0)
        for recipe in Recipe.allCases { #expect(throws: Never.self) { try recipe.configuration.validate() } }
    }

    /// A checkpoint written before recipes, label smoothing and SAM existed (no `recipe`, `labelSmoothing` or
    /// `sharpnessRadius` key) still decodes, with no recipe, no smoothing and no SAM; a new one keeps its recipe.
    @Test func configurationsDecodeWithAndWithoutARecipe() throws {
        var configuration = Recipe.speed.configuration
        configuration.epochs = 3
        let encoded = try JSONEncoder().encode(configuration)
        #expect(try JSONDecoder().decode(TrainingConfiguration.self, from: encoded) == configuration)
        var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(object["recipe"] as? String == "speed")
        object["recipe"] = nil
        object["labelSmoothing"] = nil
        #expect(object["sharpnessRadius"] as? Double == 0)
        object["sharpnessRadius"] = nil
        let older = try JSONDecoder().decode(
            TrainingConfiguration.self, from: try JSONSerialization.data(withJSONObject: object))
        configuration.recipe = nil
        #expect(older == configuration)
    }

    @Test func theFastNetworksShapes() {
        var generator = RandomGenerator(seed: 0)
        let model = FastCNN(generator: &generator)
        let images = Tensor(shape: [3, 1, 28, 28], data: (0..<(3 * 784)).map { Float($0 % 251) / 251 })
        let logits = model(images)
        #expect(logits.shape == [3, 10])
        let finite = logits.data.allSatisfy { $0.isFinite }
        #expect(finite)
        #expect(model.parameterCount == 12 * 25 + 12 * 32 * 9 + 800 * 64 + 64 + 64 * 10 + 10 + 2 * (12 + 32))
        #expect(ModelKind.fast.forwardFlopsPerImage == 2 * (24 * 24 * 12 * 25 + 10 * 10 * 32 * 108 + 800 * 64 + 640))
    }

    // MARK: The command line

    /// The header line of a run and the configuration its checkpoint keeps, for `arguments` after
    /// `mnist train`, on a small MNIST-format folder (one epoch unless the arguments say otherwise).
    static func train(_ arguments: [String]) throws -> (header: String, configuration: TrainingConfiguration) {
        let directory = try HostileInputTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try HostileInputTests.writeDataset(in: directory, count: 256, testCount: 64)
        let output = directory.appendingPathComponent("out.safetensors")
        let result = try HostileInputTests.run(
            ["train", "--data", directory.path, "--output", output.path, "--threads", "2"] + arguments)
        #expect(result.status == 0, "\(result.error)")
        let header = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("Training ") })
        #expect(result.output.contains("Time: "), "the run should end with where its time went")
        let trainer = try Trainer.resume(from: directory.appendingPathComponent("out.checkpoint.safetensors"))
        return (String(header), trainer.configuration)
    }

    @Test func aRecipeSetsTheRunAndItsHeaderNamesIt() throws {
        let (header, configuration) = try Self.train(["--recipe", "speed"])
        #expect(configuration == Recipe.speed.configuration)
        #expect(header.hasPrefix("Training fast ("), "\(header)")
        #expect(header.contains(", recipe speed: adam lr 0.01 onecycle, batch 128, 1 epochs"), "\(header)")
    }

    /// Every setting a recipe makes can be overridden from the command line, the flags both ways.
    @Test func optionsOverrideTheRecipe() throws {
        let (header, configuration) = try Self.train([
            "--recipe", "best", "--model", "fast", "--epochs", "1", "--batch-size", "32", "--lr", "0.002",
            "--optimizer", "sgd", "--schedule", "onecycle", "--no-augment", "--normalize", "--seed", "7",
            "--label-smoothing", "0.1", "--sharpness-radius", "0.05", "--sharpness-epochs", "1",
        ])
        var expected = Recipe.best.configuration
        expected.model = .fast
        expected.epochs = 1
        expected.batchSize = 32
        expected.learningRate = 0.002
        expected.optimizer = .sgd
        expected.schedule = .onecycle
        expected.augment = false
        expected.normalize = true
        expected.seed = 7
        expected.labelSmoothing = 0.1
        expected.sharpnessRadius = 0.05
        expected.sharpnessEpochs = 1
        #expect(configuration == expected)
        #expect(
            header.contains(
                "recipe best: sgd lr 0.002 onecycle, momentum 0.9, weight decay 0.05, batch 32, 1 epochs, seed 7"),
            "\(header)")
        #expect(
            header.hasSuffix(", normalized, label smoothing 0.1, sharpness-aware ρ 0.05 in the last 1 epochs"),
            "\(header)")

        let (_, augmented) = try Self.train(["--model", "fast", "--augment", "--epochs", "1"])
        #expect(augmented.recipe == .tutorial && augmented.augment && augmented.model == .fast)
        #expect(augmented.batchSize == 64 && augmented.learningRate == 0.001)
    }

    /// `--sharpness-epochs` counts epochs of the run that has SAM: more than the run's, none, or without a
    /// radius, it is refused before training.
    @Test func sharpnessEpochsAreChecked() throws {
        for (arguments, message) in [
            (
                ["--sharpness-radius", "0.05", "--sharpness-epochs", "2"],
                "--sharpness-epochs must be between 1 and 1, found 2"
            ),
            (
                ["--sharpness-radius", "0.05", "--sharpness-epochs", "0"],
                "--sharpness-epochs must be between 1 and 1, found 0"
            ),
            (["--sharpness-epochs", "1"], "--sharpness-epochs 1 needs --sharpness-radius above 0, found 0.0"),
        ] {
            let result = try HostileInputTests.run(["train", "--epochs", "1"] + arguments)
            HostileInputTests.expectCleanFailure(result, containing: message)
            #expect(!result.output.contains("Epoch ["))
        }
        let resumed = try HostileInputTests.run([
            "train", "--resume", "any.checkpoint.safetensors", "--sharpness-epochs", "1",
        ])
        HostileInputTests.expectCleanFailure(resumed, containing: "--resume keeps the checkpoint's recipe")
    }

    @Test func aRecipeCannotChangeAResumedRun() throws {
        let result = try HostileInputTests.run(["train", "--resume", "any.checkpoint.safetensors", "--recipe", "speed"])
        HostileInputTests.expectCleanFailure(result, containing: "--resume keeps the checkpoint's recipe")
        let unknown = try HostileInputTests.run(["train", "--recipe", "fastest"])
        HostileInputTests.expectCleanFailure(unknown, containing: "fastest")
    }
}
