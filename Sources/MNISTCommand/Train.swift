import ArgumentParser
import CommandLineLogging
import Foundation
import Kernels
import Logging
import MNIST

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on MNIST; the defaults are the PyTorch tutorial's recipe.",
        discussion: """
            After each epoch it prints `Epoch [k/N]: Accuracy: xx.xx%` (test accuracy), the mean training loss \
            and the epoch's time, and writes a checkpoint that `--resume` continues from. At the end it \
            writes the weights (safetensors, loadable in PyTorch) and a metrics file with one JSON line per epoch.
            """)

    @Option(
        help: """
            tutorial (LeNet5, the tutorial's settings), speed (99% in seconds: fast, onecycle lr 0.01, batch 128, \
            1 epoch) or best (vgg, --augment, adamw lr 0.001 cosine, weight decay 0.05, batch 64, 25 epochs); the \
            options below override its settings (default tutorial).
            """)
    var recipe: Recipe?
    @Option(help: ArgumentHelp("\(ModelKind.helpList) (default: the recipe's, lenet5)."))
    var model: ModelKind?
    @Option(help: "Epochs to train (default: the recipe's, 10).")
    var epochs: Int?
    @Option(help: "Images per batch (default: the recipe's, 64).")
    var batchSize: Int?
    @Option(name: .customLong("lr"), help: "Learning rate (default: the recipe's, 0.001).")
    var learningRate: Float?
    @Option(help: "adam, adamw or sgd (default: the recipe's, adam).")
    var optimizer: OptimizerKind?
    @Option(help: "SGD momentum (default 0.9).")
    var momentum: Float?
    @Option(help: "Weight decay (default: the recipe's, 0).")
    var weightDecay: Float?
    @Option(
        help: """
            Label smoothing ε of the cross-entropy, 0…1: train towards 1 − ε on the label and ε/10 on every \
            digit (PyTorch's label_smoothing) (default 0).
            """)
    var labelSmoothing: Float?
    @Option(
        help: """
            Sharpness-aware minimisation's radius ρ: each step takes the batch's gradients at the weights moved \
            ρ along them (SAM), twice a step's cost (default 0: without).
            """)
    var sharpnessRadius: Float?
    @Option(
        help: """
            Take sharpness-aware steps in the last N epochs only, plain steps before them (late-phase SAM) \
            (default: every epoch).
            """)
    var sharpnessEpochs: Int?
    @Option(help: "Seeds the initial weights, the shuffling and the random transforms of --augment (default 0).")
    var seed: UInt64?
    @Flag(
        inversion: .prefixedNo,
        help: "Normalise pixels with MNIST's mean 0.1307 and std 0.3081 (default: the recipe's; the tutorial does not)."
    )
    var normalize: Bool?
    @Flag(
        inversion: .prefixedNo,
        help: """
            Rotate (±15°), scale (85–115%) and shift (±10%) every training image at random each epoch (default: \
            the recipe's; best does, the tutorial does not).
            """)
    var augment: Bool?
    @Flag(
        inversion: .prefixedNo,
        help: """
            Distort every training image elastically at random each epoch (σ 6, α 36 pixels; after --augment's \
            transform when both are on) (default: the recipe's; none does).
            """)
    var elastic: Bool?
    @Flag(
        inversion: .prefixedNo,
        help: """
            Shear every training and test digit upright before anything else (deskewing; the weights file says \
            so, and evaluate, predict and serve deskew their images too) (default: the recipe's; none does).
            """)
    var deskew: Bool?
    @Option(
        help: ArgumentHelp(
            """
            Stretch or squeeze every training and test digit horizontally so its ink is this many pixels wide \
            (1–28), after --deskew (width normalisation; the weights file says so, and evaluate, predict and serve \
            do the same to their images) (default: the recipe's; none does).
            """, valueName: "pixels"))
    var inkWidth: Int?
    @Option(
        help: """
            How the learning rate moves, stepped every batch: constant, cosine (down to 0) or onecycle (up, then \
            down) (default: the recipe's, constant).
            """)
    var schedule: ScheduleKind?
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var threadOptions: ThreadOptions
    @Option(
        help: ArgumentHelp("Where to write the weights (default <model>.safetensors).", valueName: "file"),
        completion: .file(extensions: ["safetensors"]))
    var output: String?
    @Option(
        help: ArgumentHelp(
            "Where to write per-epoch metrics, one JSON line each (default <output>.metrics.jsonl).", valueName: "file"),
        completion: .file(extensions: ["jsonl"]))
    var metrics: String?
    @Option(
        help: ArgumentHelp(
            "Where to write the checkpoint after each epoch (default <output>.checkpoint.safetensors).",
            valueName: "file"),
        completion: .file(extensions: ["safetensors"]))
    var checkpoint: String?
    @Option(
        help: ArgumentHelp(
            "Continue from a checkpoint; its recipe is kept, --epochs may extend it.", valueName: "file"),
        completion: .file(extensions: ["safetensors"]))
    var resume: String?
    @OptionGroup var loggingOptions: LoggingOptions

    func validate() throws {
        // The same check a checkpoint's recipe gets (`TrainingConfiguration.validate`).
        do {
            if resume == nil {
                try configuration().validate()
            } else if let epochs {
                var extended = TrainingConfiguration()
                extended.epochs = epochs
                try extended.validate()
            }
        } catch let error as InputError {
            throw ValidationError(error.message)
        }
        if resume != nil,
            recipe != nil || model != nil || batchSize != nil || learningRate != nil || optimizer != nil || seed != nil
                || labelSmoothing != nil || sharpnessRadius != nil || sharpnessEpochs != nil || normalize != nil
                || augment != nil
                || elastic != nil || deskew != nil
                || inkWidth != nil || schedule != nil
        {
            throw ValidationError(
                "--resume keeps the checkpoint's recipe: only --epochs (and file and thread options) can go with it")
        }
    }

    func run() throws {
        let start = ContinuousClock.now
        try requireMatrixProducts()
        loggingOptions.bootstrap()
        let logger = Logger(label: "mnist")
        try threadOptions.apply()
        let trainer: Trainer
        if let resume {
            do {
                trainer = try Trainer.resume(from: URL(fileURLWithPath: resume), epochs: epochs)
            } catch let error as InputError {
                throw ExitError(message: error.message)
            }
        } else {
            trainer = Trainer(configuration: configuration())
        }
        let recipe = trainer.configuration
        let outputURL = URL(fileURLWithPath: output ?? "\(recipe.model.rawValue).safetensors")
        let stem = outputURL.deletingPathExtension().path
        let metricsURL = URL(fileURLWithPath: metrics ?? "\(stem).metrics.jsonl")
        let checkpointURL = URL(fileURLWithPath: checkpoint ?? "\(stem).checkpoint.safetensors")

        let loadStart = ContinuousClock.now
        let trainingSet = trainer.prepared(try dataOptions.load(.train))
        let testSet = trainer.prepared(try dataOptions.load(.test))
        let loadTime = ContinuousClock.now - loadStart
        let dataDirectory = try dataOptions.directory()
        logger.debug("Read the training and test sets from \(dataDirectory.path)")
        // Before the first epoch, not after it: every file the run will write can be written, and none
        // of them is another output or an input.
        try OutputPaths.check(
            outputs: [("--output", outputURL), ("--metrics", metricsURL), ("--checkpoint", checkpointURL)],
            inputs: try dataOptions.inputFiles().map { ("--data", $0) }
                + (resume.map { [("--resume", URL(fileURLWithPath: $0))] } ?? []),
            // Continuing a run rewrites the checkpoint it resumed from, as it should.
            replaceable: resume.map { [(output: "--checkpoint", input: URL(fileURLWithPath: $0))] } ?? [])
        print("Number of training samples: \(trainingSet.imageCount)")
        print("Number of testing samples: \(testSet.imageCount)")
        print(
            "Training \(recipe.model.rawValue) (\(trainer.model.parameterCount) parameters)"
                + (recipe.recipe.map { ", recipe \($0.rawValue)" } ?? "")
                + ": \(recipe.optimizer.rawValue) lr \(recipe.learningRate)"
                + (recipe.schedule == .constant ? "" : " \(recipe.schedule.rawValue)")
                + (recipe.optimizer == .sgd ? ", momentum \(recipe.momentum)" : "")
                + (recipe.weightDecay > 0 ? ", weight decay \(recipe.weightDecay)" : "") + ", "
                + "batch \(recipe.batchSize), \(recipe.epochs) epochs, seed \(recipe.seed), \(Parallel.threadCount) threads"
                + (recipe.normalize ? ", normalized" : "") + (recipe.augment ? ", augmented" : "")
                + (recipe.elastic ? ", elastically distorted" : "") + (recipe.deskew ? ", deskewed" : "")
                + (recipe.inkWidth.map { ", ink \($0) px wide" } ?? "")
                + (recipe.labelSmoothing > 0 ? ", label smoothing \(recipe.labelSmoothing)" : "")
                + (recipe.sharpnessRadius > 0 ? ", sharpness-aware ρ \(recipe.sharpnessRadius)" : "")
                + (recipe.sharpnessEpochs.map { " in the last \($0) epochs" } ?? "")
                + (trainer.completedEpochs > 0 ? ", resuming after epoch \(trainer.completedEpochs)" : ""))
        for record in trainer.history { print(record.summary) }
        let resumedEpochs = trainer.completedEpochs

        var trainedAnEpoch = false
        var writeTime = Duration.zero
        func saveCheckpointAndMetrics() throws {
            let writeStart = ContinuousClock.now
            try trainer.saveCheckpoint(to: checkpointURL)
            try writeMetrics(trainer.history, to: metricsURL)
            writeTime += ContinuousClock.now - writeStart
            logger.debug("Wrote \(checkpointURL.path) and \(metricsURL.path)")
        }
        let progress = ProgressBar(label: "training")
        while trainer.completedEpochs < recipe.epochs {
            trainedAnEpoch = true
            let record: EpochRecord
            do {
                record = try trainer.runEpoch(trainingSet: trainingSet, testSet: testSet, progress: progress.update)
            } catch let error as TrainingError {
                throw ExitError(message: error.description)
            }
            print(record.summary)
            try saveCheckpointAndMetrics()
        }
        // A resumed run with nothing left to train still writes every file the last line names.
        if !trainedAnEpoch { try saveCheckpointAndMetrics() }
        let last = trainer.history.last
        let weightsStart = ContinuousClock.now
        try WeightsFile.write(
            model: trainer.model, kind: recipe.model,
            metadata: [
                "epochs": String(trainer.completedEpochs), "seed": String(recipe.seed),
                "test_accuracy": last.map { String(format: "%.4f", $0.testAccuracy * 100) } ?? "",
                "normalize": String(recipe.normalize), "augment": String(recipe.augment),
                "elastic": String(recipe.elastic), "schedule": recipe.schedule.rawValue,
            ].merging(recipe.recipe.map { ["recipe": $0.rawValue] } ?? [:]) { first, _ in first }
                .merging(recipe.preprocessing.metadata) { first, _ in first },
            to: outputURL)
        writeTime += ContinuousClock.now - weightsStart
        print("Wrote \(outputURL.path), \(metricsURL.path) and \(checkpointURL.path)")
        // Where this run's time went (epochs resumed from the checkpoint not counted).
        let epochsRun = trainer.history.dropFirst(resumedEpochs)
        let testing = epochsRun.reduce(0) { $0 + ($1.testSeconds ?? 0) }
        let reading = recipe.preprocessing.isNone ? "reading the data" : "reading and preprocessing the data"
        print(
            String(
                format: "Time: %.2f s (\(reading) %.2f s, training %.2f s, test passes %.2f s, writing %.2f s)",
                (ContinuousClock.now - start).inSeconds, loadTime.inSeconds,
                epochsRun.reduce(0) { $0 + $1.seconds } - testing, testing, writeTime.inSeconds))
    }

    /// The recipe's settings (the tutorial's when none is named), overridden by the options given.
    func configuration() -> TrainingConfiguration {
        var configuration = (recipe ?? .tutorial).configuration
        if let model { configuration.model = model }
        if let epochs { configuration.epochs = epochs }
        if let batchSize { configuration.batchSize = batchSize }
        if let learningRate { configuration.learningRate = learningRate }
        if let optimizer { configuration.optimizer = optimizer }
        if let momentum { configuration.momentum = momentum }
        if let weightDecay { configuration.weightDecay = weightDecay }
        if let labelSmoothing { configuration.labelSmoothing = labelSmoothing }
        if let sharpnessRadius { configuration.sharpnessRadius = sharpnessRadius }
        if let sharpnessEpochs { configuration.sharpnessEpochs = sharpnessEpochs }
        if let seed { configuration.seed = seed }
        if let normalize { configuration.normalize = normalize }
        if let augment { configuration.augment = augment }
        if let elastic { configuration.elastic = elastic }
        if let deskew { configuration.deskew = deskew }
        if let inkWidth { configuration.inkWidth = inkWidth }
        if let schedule { configuration.schedule = schedule }
        return configuration
    }

    func writeMetrics(_ history: [EpochRecord], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let lines = try history.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try AtomicFile.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: url)
    }
}

extension ModelKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}
extension Recipe: ExpressibleByArgument {}

/// A failure the user caused or can act on: printed as one line, exit status 1, no stack trace.
struct ExitError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension Duration {
    /// The duration in seconds.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
