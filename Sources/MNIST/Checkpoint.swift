import Foundation

/// Weights files and checkpoints, both safetensors.
///
/// A weights file holds the model's state dict under PyTorch's names (`conv1.weight`) and the model's
/// name in `__metadata__`, so `safetensors.torch.load_file` + `load_state_dict(strict=True)` reads it
/// and a weights file alone says which model it holds. A checkpoint adds what resuming needs: the
/// optimizer's state, the shuffling generator's state, the configuration and the epochs so far.
public enum WeightsFile {
    /// Writes `model`'s state dict and `metadata` (plus `model: kind`) to `url`, atomically.
    public static func write(
        model: any UnaryLayer, kind: ModelKind, metadata: [String: String] = [:], to url: URL
    ) throws {
        var allMetadata = metadata
        allMetadata["model"] = kind.rawValue
        allMetadata["format"] = "pt" // what Hugging Face tools expect of a PyTorch state dict
        try SafeTensors.write(model.stateDict, metadata: allMetadata, to: url)
    }

    /// Reads a weights file: the model named in its metadata, with the file's weights loaded strictly.
    /// A file without that metadata (PyTorch's `save_file(model.state_dict(), path)` writes none) is
    /// matched by its tensor names and shapes against each model's state dict.
    public static func read(
        from url: URL
    ) throws -> (kind: ModelKind, model: any UnaryLayer, metadata: [String: String]) {
        let file = try SafeTensors.read(from: url)
        let known = ModelKind.allCases.map(\.rawValue).joined(separator: ", ")
        let kind: ModelKind
        if let name = file.metadata["model"] {
            guard let named = ModelKind(rawValue: name) else {
                throw WeightsFileError(
                    file: url.lastPathComponent, problem: "unknown model '\(name)' (expected one of \(known))")
            }
            kind = named
        } else {
            guard
                let matched = ModelKind.allCases.first(where: {
                    (try? file.checkStateDict(expected: $0.stateDictShapes)) != nil
                })
            else {
                throw WeightsFileError(
                    file: url.lastPathComponent,
                    problem:
                        "its metadata names no model, and its tensors match none of \(known) (add \"model\" to its metadata)"
                )
            }
            kind = matched
        }
        var generator = RandomGenerator(seed: 0)
        let model = kind.makeModel(generator: &generator)
        try model.loadStateDict(file)
        // After the strict match, so a file of another model is reported as that first.
        try requireFiniteTensors(file.tensors, source: url.lastPathComponent)
        return (kind, model, file.metadata)
    }

    /// The preprocessing a weights file's `metadata` says its model was trained with (`InputPreprocessing`).
    /// - Throws: `WeightsFileError` naming the file when the metadata's values are malformed.
    public static func preprocessing(_ metadata: [String: String], of url: URL) throws -> InputPreprocessing {
        do {
            return try InputPreprocessing(metadata: metadata)
        } catch let error as InputPreprocessingError {
            throw WeightsFileError(file: url.lastPathComponent, problem: error.description)
        }
    }
}

extension ModelKind {
    /// The names and shapes of this model's state dict.
    var stateDictShapes: [(name: String, shape: [Int])] {
        var generator = RandomGenerator(seed: 0)
        return makeModel(generator: &generator).stateDict.map { ($0.name, $0.tensor.shape) }
    }
}

/// A weights file or checkpoint that cannot be used: the file and what is wrong with it.
public struct WeightsFileError: Error, CustomStringConvertible, Equatable {
    /// The file's name (its last path component, not its whole path).
    public let file: String
    /// What is wrong with it, as a clause (`its history metadata is missing or malformed`).
    public let problem: String
    /// The file's name, a colon and the problem.
    public var description: String { "\(file): \(problem)" }
}

extension Trainer {
    static let checkpointFormat = "swift-mnist-checkpoint-1"

    /// Writes everything needed to resume after the epochs completed so far, atomically.
    public func saveCheckpoint(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let metadata = [
            "format": Self.checkpointFormat,
            "model": configuration.model.rawValue,
            "configuration": String(decoding: try encoder.encode(configuration), as: UTF8.self),
            "history": String(decoding: try encoder.encode(history), as: UTF8.self),
            "generator": generator.state.map(String.init).joined(separator: ","),
        ]
        try SafeTensors.write(learner.checkpointTensors, metadata: metadata, to: url)
    }

    /// A trainer restored from a checkpoint, ready to run the next epoch. `epochs` may extend the run.
    public static func resume(from url: URL, epochs: Int? = nil) throws -> Trainer {
        let file = try SafeTensors.read(from: url)
        let name = url.lastPathComponent
        func fail(_ problem: String) -> WeightsFileError { WeightsFileError(file: name, problem: problem) }
        guard file.metadata["format"] == checkpointFormat else {
            throw fail(
                "not a training checkpoint (metadata format is \(file.metadata["format"].map { "'\($0)'" } ?? "missing"), expected '\(checkpointFormat)')"
            )
        }
        let decoder = JSONDecoder()
        guard
            var configuration = file.metadata["configuration"].flatMap({
                try? decoder.decode(TrainingConfiguration.self, from: Data($0.utf8))
            })
        else {
            throw fail("its configuration metadata is missing or malformed")
        }
        guard
            let history = file.metadata["history"].flatMap({
                try? decoder.decode([EpochRecord].self, from: Data($0.utf8))
            })
        else {
            throw fail("its history metadata is missing or malformed")
        }
        let words = file.metadata["generator"]?.split(separator: ",").compactMap { UInt64($0) } ?? []
        guard let generator = RandomGenerator(state: words) else {
            throw fail("its generator state is missing or malformed")
        }
        if let epochs {
            guard epochs >= history.count else {
                throw InputError(
                    "--epochs \(epochs) is fewer than the \(history.count) epoch\(history.count == 1 ? "" : "s") \(name) has already "
                        + "trained: pass --epochs \(history.count) or more (\(history.count) writes the weights without training)"
                )
            }
            configuration.epochs = epochs
        }
        // The recipe is held to the command line's ranges: a checkpoint is an input like any other.
        do {
            try configuration.validate()
        } catch let error as InputError {
            throw fail("its recipe cannot be trained: \(error.message)")
        }
        guard history.count <= configuration.epochs else {
            throw fail(
                "its history holds \(history.count) epochs, more than the \(configuration.epochs) its recipe asks for")
        }
        try requireFiniteTensors(file.tensors, source: name)
        let trainer = Trainer(configuration: configuration)
        do {
            try trainer.learner.loadCheckpointTensors(file.tensors, source: name)
        } catch LearnerError.badCheckpoint(_, let problem) {
            throw fail(problem)
        }
        trainer.generator = generator
        trainer.history = history.map { record in
            var record = record
            record.epochs = configuration.epochs
            return record
        }
        return trainer
    }
}
