import Foundation

extension Learner {
    /// The format a learner's checkpoint names in its metadata.
    public static let checkpointFormat = "swift-deeplearning-checkpoint-1"

    /// What a checkpoint's tensors are: the model's state dict under `model.` and the optimizer's state under
    /// `optimizer.` (`model.conv1.weight`, `optimizer.conv1.weight.exp_avg`).
    public var checkpointTensors: [(name: String, tensor: Tensor)] {
        model.stateDict.map { ("model.\($0.name)", $0.tensor) }
            + optimizer.state.namedTensors.map { ("optimizer.\($0.name)", $0.tensor) }
    }

    /// Loads tensors named as `checkpointTensors` names them into the model (strictly: every tensor of its
    /// state dict, with its shape) and the optimizer; `source` names the file in errors. A failed optimizer
    /// load leaves the optimizer's state as it was.
    public func loadCheckpointTensors(_ tensors: [(name: String, tensor: Tensor)], source: String) throws {
        let modelTensors = tensors.filter { $0.name.hasPrefix("model.") }
            .map { (String($0.name.dropFirst("model.".count)), $0.tensor) }
        try model.loadStateDict(modelTensors, source: source)
        let optimizerTensors = tensors.filter { $0.name.hasPrefix("optimizer.") }
            .map { (String($0.name.dropFirst("optimizer.".count)), $0.tensor) }
        do {
            try optimizer.state.load(Dictionary(optimizerTensors, uniquingKeysWith: { first, _ in first }))
        } catch let error as OptimizerStateError {
            throw LearnerError.badCheckpoint(file: source, problem: error.description)
        }
    }

    /// Writes everything `restoreCheckpoint(from:)` needs to continue after the epochs completed so far,
    /// atomically (safetensors): the model, the optimizer's state, the generator and the history, with
    /// `metadata` added.
    public func saveCheckpoint(to url: URL, metadata: [String: String] = [:]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var allMetadata = metadata
        allMetadata["format"] = Self.checkpointFormat
        allMetadata["history"] = String(decoding: try encoder.encode(history), as: UTF8.self)
        allMetadata["generator"] = generator.state.map(String.init).joined(separator: ",")
        try SafeTensors.write(checkpointTensors, metadata: allMetadata, to: url)
    }

    /// Restores what `saveCheckpoint(to:metadata:)` wrote into this learner, whose model and optimizer must
    /// be built as the saved ones were; a following `fit` continues the run as if it had not stopped.
    /// Returns the file's metadata.
    @discardableResult
    public func restoreCheckpoint(from url: URL) throws -> [String: String] {
        let file = try SafeTensors.read(from: url)
        let name = url.lastPathComponent
        func fail(_ problem: String) -> LearnerError { .badCheckpoint(file: name, problem: problem) }
        guard file.metadata["format"] == Self.checkpointFormat else {
            throw fail("not a learner checkpoint (expected metadata format '\(Self.checkpointFormat)')")
        }
        guard
            let history = file.metadata["history"].flatMap({
                try? JSONDecoder().decode([EpochMetrics].self, from: Data($0.utf8))
            })
        else {
            throw fail("its history metadata is missing or malformed")
        }
        let words = file.metadata["generator"]?.split(separator: ",").compactMap { UInt64($0) } ?? []
        guard let generator = RandomGenerator(state: words) else {
            throw fail("its generator state is missing or malformed")
        }
        if let tensor = file.tensors.first(where: { !$0.tensor.data.allSatisfy(\.isFinite) }) {
            throw fail("tensor '\(tensor.name)' holds a value that is not finite")
        }
        try loadCheckpointTensors(file.tensors, source: name)
        self.generator = generator
        self.history = history
        return file.metadata
    }
}
