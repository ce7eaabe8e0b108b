/// Throws unless `found` holds exactly the tensors named in `expected`, each with the expected shape, like
/// PyTorch's `load_state_dict(strict=True)`. The error, named after `source`, lists every missing key,
/// every unexpected key and every shape mismatch.
public func checkStateDict(
    expected: [(name: String, shape: [Int])], found: [(name: String, tensor: Tensor)], source: String
) throws {
    let foundByName = Dictionary(found.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    let expectedNames = Set(expected.map(\.name))
    let missing = expected.filter { foundByName[$0.name] == nil }.map { "'\($0.name)' \($0.shape)" }
    let unexpected = found.filter { !expectedNames.contains($0.name) }.map { "'\($0.name)' \($0.tensor.shape)" }
    let mismatched = expected.compactMap { name, shape -> String? in
        guard let tensor = foundByName[name], tensor.shape != shape else { return nil }
        return "'\(name)' is \(tensor.shape) in the file, but the model expects \(shape)"
    }
    var problems: [String] = []
    if !missing.isEmpty { problems.append("missing keys: " + missing.joined(separator: ", ")) }
    if !unexpected.isEmpty { problems.append("unexpected keys: " + unexpected.joined(separator: ", ")) }
    if !mismatched.isEmpty { problems.append("shape mismatches: " + mismatched.joined(separator: ", ")) }
    guard problems.isEmpty else {
        throw SafeTensorsError(
            source: source, problem: "does not match the state dict: " + problems.joined(separator: "; "))
    }
}

extension Module {
    /// Copies `tensors` into this module's parameters and buffers by state-dict name, like PyTorch's
    /// `load_state_dict(strict=True)`: every name must be present with its shape and nothing else may be,
    /// or nothing is changed and the error (named after `source`) lists the differences.
    public func loadStateDict(_ tensors: [(name: String, tensor: Tensor)], source: String) throws {
        let targets = stateDict
        try checkStateDict(expected: targets.map { ($0.name, $0.tensor.shape) }, found: tensors, source: source)
        let values = Dictionary(tensors.map { ($0.name, $0.tensor.data) }, uniquingKeysWith: { first, _ in first })
        for (name, target) in targets { target.data = values[name]! }
    }

    /// Loads a safetensors file's tensors strictly (see `loadStateDict(_:source:)`).
    public func loadStateDict(_ file: SafeTensorsFile) throws {
        try loadStateDict(file.tensors, source: file.source)
    }
}
