import Foundation
import NN

/// A model whose forward pass applies a fixed chain of layers, spelled out for the ONNX exporter, which
/// cannot read the code of `callAsFunction`. The chain names the model's own layers (`conv1`, `fc2`) and adds
/// the steps that have no weights (`Tanh()`, `AvgPool2d(2)`, `Flatten()`), in the order the forward pass
/// applies them. The exporter checks it: the chain applied to a test batch must give the model's output.
public protocol LayerChain: UnaryLayer {
    /// The layers the forward pass applies, in order: the chain applied one layer after another computes
    /// what `callAsFunction` does in evaluation mode.
    var layerChain: [any UnaryLayer] { get }
}

/// Exports a model to ONNX (opset 17) for onnxruntime and every other ONNX runtime: a graph from input
/// `input`, [N, 1, 28, 28] Float pixels from 0 to 1 as `mnist evaluate` feeds them, to output `logits`,
/// [N, classes], with N dynamic.
///
/// The graph is read off the module tree, not the model's name: `Sequential`, `Linear` (Gemm), `Conv2d`
/// (Conv), `ReLU`, `Tanh`, `Sigmoid`, `MaxPool2d`, `AvgPool2d` (MaxPool, AveragePool), `Flatten`,
/// `BatchNorm1d` and `BatchNorm2d` with their running statistics (BatchNormalization), `Dropout` (left out:
/// it is the identity in evaluation), and any model that lists its layers as a `LayerChain`. The weights
/// become initializers under their state-dict names (`conv1.weight`). Pixel normalisation, when the model
/// was trained with it, is the graph's first two nodes (Sub, Div), so the graph takes the same 0…1 pixels
/// either way.
public enum ONNXExport {
    /// The operator set the graph uses (ONNX 1.12 and later, onnxruntime 1.12 and later).
    public static let opsetVersion = 17
    /// The IR version that goes with opset 17.
    public static let irVersion = 8
    /// The graph's input: [N, 1, 28, 28] pixels from 0 to 1.
    public static let inputName = "input"
    /// The graph's output: the logits, [N, classes].
    public static let outputName = "logits"
    /// The input's shape after the batch dimension.
    public static let imageShape = [1, 28, 28]

    /// `model`'s evaluation-mode forward pass as an ONNX graph, after `normalization` of the input pixels
    /// when given. Runs `model` once on a test batch (in evaluation mode, restoring its mode afterwards) to
    /// learn the output's shape and check the graph's layers against it. Throws `ONNXExportError` for a
    /// layer the exporter does not know, naming it.
    public static func graph(
        of model: any UnaryLayer, normalization: DataLoader.Normalization? = nil
    ) throws -> ONNXGraph {
        var builder = GraphBuilder()
        if let normalization {
            builder.appendNode(
                "Sub", name: "normalize_mean",
                inputs: [builder.appendInitializer("normalization.mean", shape: [], values: [normalization.mean])])
            builder.appendNode(
                "Div", name: "normalize_standard_deviation",
                inputs: [
                    builder.appendInitializer(
                        "normalization.standard_deviation", shape: [], values: [normalization.standardDeviation])
                ])
        }
        try builder.append(model, path: "")
        if builder.nodes.isEmpty { builder.appendNode("Identity", name: "identity", inputs: []) }
        builder.nodes[builder.nodes.count - 1].output = outputName

        // The model and its layers one after another, on the same batch of 2 (so that batch normalisation
        // of [N, C] input is tested on a real batch), in evaluation mode.
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var generator = RandomGenerator(seed: 1)
        let probe = Tensor(
            shape: [2] + imageShape,
            data: (0..<(2 * imageShape.reduce(1, *))).map { _ in Float.random(in: 0..<1, using: &generator) })
        let (expected, chained) = withoutGradients {
            (model(probe), builder.layers.reduce(probe) { $1($0) })
        }
        let modelName = String(describing: type(of: model))
        guard expected.rank == 2 else {
            throw ONNXExportError(
                "\(modelName) gives output of shape \(expected.shape) for [2, 1, 28, 28] images: expected [N, classes]")
        }
        let scale = max(1, expected.data.map(abs).max() ?? 0)
        guard chained.shape == expected.shape,
            zip(chained.data, expected.data).allSatisfy({ abs($0 - $1) <= 1e-4 * scale })
        else {
            throw ONNXExportError(
                "\(modelName)'s layers applied in order do not give its output (its layerChain and its forward pass differ)"
            )
        }
        return ONNXGraph(
            name: modelName, nodes: builder.nodes, initializers: builder.initializers, classCount: expected.shape[1])
    }

    /// Writes `model`'s ONNX file (`graph(of:normalization:)`, with `metadata` in its metadata_props) to
    /// `url`, atomically; returns the graph.
    @discardableResult
    public static func write(
        _ model: any UnaryLayer, normalization: DataLoader.Normalization? = nil, metadata: [String: String] = [:],
        to url: URL
    ) throws -> ONNXGraph {
        let graph = try graph(of: model, normalization: normalization)
        try AtomicFile.write(graph.serialized(metadata: metadata), to: url)
        return graph
    }
}

/// An ONNX graph as the exporter builds it: nodes in order, each reading the previous one's output, and
/// the weights they read.
public struct ONNXGraph: Sendable {
    /// One operator.
    public struct Node: Sendable, Equatable {
        /// The ONNX operator (`Conv`, `Gemm`, …).
        public let operatorType: String
        /// The layer's path in the module tree (`conv1`, `0`), or the operator and a number for a step
        /// without one (`tanh_2`).
        public let name: String
        /// The value read, then the initializers (weights).
        public let inputs: [String]
        /// The value written: the node's name, or `logits` for the last node.
        public internal(set) var output: String
        /// The operator's attributes (`kernel_shape`, `transB`, …).
        public let attributes: [Attribute]
    }

    /// A named attribute of a node (`kernel_shape`, `epsilon`, …).
    public struct Attribute: Sendable, Equatable {
        /// One integer, a list of integers or one float (ONNX's INT, INTS and FLOAT).
        public enum Value: Sendable, Equatable {
            /// One integer (`transB`, `axis`).
            case integer(Int)
            /// A list of integers (`kernel_shape`, `pads`).
            case integers([Int])
            /// One float (`epsilon`).
            case float(Float)
        }
        /// The attribute's ONNX name (`kernel_shape`).
        public let name: String
        /// Its value: `.integers([5, 5])` for a 5×5 `kernel_shape`.
        public let value: Value
    }

    /// A constant tensor the graph reads.
    public struct Initializer: Sendable, Equatable {
        /// The state-dict name (`conv1.weight`), or `normalization.mean` and `normalization.standard_deviation`.
        public let name: String
        /// The tensor's shape; `[]` for a scalar (the normalisation's mean and standard deviation).
        public let shape: [Int]
        /// The tensor's elements, row-major.
        public let values: [Float]
    }

    /// The model's type (`LeNet5`).
    public let name: String
    /// The operators in order, each reading the previous one's output (the first reads `input`).
    public let nodes: [Node]
    /// The constants the nodes read: the weights and, with normalisation, its mean and standard deviation.
    public let initializers: [Initializer]
    /// The output's size after the batch dimension.
    public let classCount: Int

    /// The ONNX file's bytes: a serialized ModelProto (field numbers from onnx.proto3).
    public func serialized(metadata: [String: String] = [:]) -> [UInt8] {
        var model = ProtobufEncoder()
        model.append(1, integer: ONNXExport.irVersion) // ir_version
        model.append(2, string: "swift-mnist") // producer_name
        model.append(3, string: PackageVersion.current) // producer_version
        model.append(7) { graph in encodeGraph(into: &graph) } // graph
        model.append(8) { operatorSet in operatorSet.append(2, integer: ONNXExport.opsetVersion) } // opset_import
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            model.append(14) { entry in // metadata_props: StringStringEntryProto
                entry.append(1, string: key)
                entry.append(2, string: value)
            }
        }
        return model.bytes
    }

    /// GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
    private func encodeGraph(into graph: inout ProtobufEncoder) {
        for node in nodes {
            graph.append(1) { encoded in
                for input in node.inputs { encoded.append(1, string: input) }
                encoded.append(2, string: node.output)
                encoded.append(3, string: node.name)
                encoded.append(4, string: node.operatorType)
                for attribute in node.attributes {
                    encoded.append(5) { encodeAttribute(attribute, into: &$0) }
                }
            }
        }
        graph.append(2, string: name)
        for initializer in initializers {
            graph.append(5) { encodeTensor(initializer, into: &$0) }
        }
        graph.append(11) { encodeValueInfo(ONNXExport.inputName, dimensions: ONNXExport.imageShape, into: &$0) }
        graph.append(12) { encodeValueInfo(ONNXExport.outputName, dimensions: [classCount], into: &$0) }
    }

    /// AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20 (FLOAT 1, INT 2, INTS 7).
    private func encodeAttribute(_ attribute: Attribute, into encoded: inout ProtobufEncoder) {
        encoded.append(1, string: attribute.name)
        switch attribute.value {
        case .float(let value):
            encoded.append(2, float: value)
            encoded.append(20, integer: 1)
        case .integer(let value):
            encoded.append(3, integer: value)
            encoded.append(20, integer: 2)
        case .integers(let values):
            encoded.append(8, packedIntegers: values)
            encoded.append(20, integer: 7)
        }
    }

    /// TensorProto: dims = 1, data_type = 2 (FLOAT 1), name = 8, raw_data = 9 (little-endian float32).
    private func encodeTensor(_ initializer: Initializer, into encoded: inout ProtobufEncoder) {
        if !initializer.shape.isEmpty { encoded.append(1, packedIntegers: initializer.shape) }
        encoded.append(2, integer: 1)
        encoded.append(8, string: initializer.name)
        var raw: [UInt8] = []
        raw.reserveCapacity(initializer.values.count * 4)
        for value in initializer.values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { raw.append(contentsOf: $0) }
        }
        encoded.append(9, bytes: raw)
    }

    /// ValueInfoProto (name = 1, type = 2) of a float tensor [N, dimensions…]: TypeProto.tensor_type = 1
    /// { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 | dim_param = 2 } } }, N a named dimension.
    private func encodeValueInfo(_ name: String, dimensions: [Int], into encoded: inout ProtobufEncoder) {
        encoded.append(1, string: name)
        encoded.append(2) { type in
            type.append(1) { tensor in
                tensor.append(1, integer: 1)
                tensor.append(2) { shape in
                    shape.append(1) { $0.append(2, string: "N") }
                    for dimension in dimensions { shape.append(1) { $0.append(1, integer: dimension) } }
                }
            }
        }
    }
}

/// Why a model cannot be exported; names the layer or the model.
public struct ONNXExportError: Error, CustomStringConvertible, Equatable {
    /// What cannot be exported, naming the layer or the model.
    public let problem: String
    init(_ problem: String) { self.problem = problem }
    /// `cannot export to ONNX: ` followed by the problem.
    public var description: String { "cannot export to ONNX: \(problem)" }
}

/// The graph under construction: nodes in order, each reading the value the last one wrote.
private struct GraphBuilder {
    var nodes: [ONNXGraph.Node] = []
    var initializers: [ONNXGraph.Initializer] = []
    /// The layers with a node, in order, for checking the graph against the model.
    var layers: [any UnaryLayer] = []
    /// The value the next node reads.
    private var current = ONNXExport.inputName
    /// Node (and value) names given so far.
    private var names: Set<String> = [ONNXExport.inputName, ONNXExport.outputName]

    /// Appends a node reading the current value and `inputs`, named `name` (made unique), and makes its
    /// output the current value.
    mutating func appendNode(
        _ operatorType: String, name: String, inputs: [String], attributes: [ONNXGraph.Attribute] = []
    ) {
        var unique = name
        var suffix = 1
        while names.contains(unique) {
            suffix += 1
            unique = "\(name)_\(suffix)"
        }
        names.insert(unique)
        nodes.append(
            ONNXGraph.Node(
                operatorType: operatorType, name: unique, inputs: [current] + inputs, output: unique,
                attributes: attributes))
        current = unique
    }

    /// Adds a constant and returns its name.
    mutating func appendInitializer(_ name: String, shape: [Int], values: [Float]) -> String {
        initializers.append(ONNXGraph.Initializer(name: name, shape: shape, values: values))
        return name
    }

    mutating func appendInitializer(_ name: String, _ tensor: Tensor) -> String {
        appendInitializer(name, shape: tensor.shape, values: tensor.data)
    }

    /// Appends `layer`, found at `path` in the module tree ("" for the model itself, nil for a layer a
    /// `LayerChain` made for its chain), and everything in it.
    mutating func append(_ layer: any UnaryLayer, path: String?) throws {
        /// The node's name: the layer's path, or the operator and the node's position.
        func name(_ operatorType: String) -> String {
            path.flatMap { $0.isEmpty ? nil : $0 } ?? "\(operatorType.lowercased())_\(nodes.count)"
        }
        /// The state-dict name (`conv1.weight`, `weight` for the model itself), or the node's name and the parameter.
        func weightName(_ operatorType: String, _ parameter: String) -> String {
            path.map { join($0, parameter) } ?? "\(name(operatorType)).\(parameter)"
        }
        func pair(_ value: Int) -> ONNXGraph.Attribute.Value { .integers([value, value]) }

        switch layer {
        case let sequential as Sequential:
            for (index, child) in sequential.layers.enumerated() { try append(child, path: join(path, "\(index)")) }
        case let chain as any LayerChain:
            let childNames = Dictionary(
                chain.namedChildren.map { (ObjectIdentifier($0.module), $0.name) },
                uniquingKeysWith: { first, _ in first })
            for child in chain.layerChain {
                try append(child, path: childNames[ObjectIdentifier(child)].map { join(path, $0) })
            }
        case is Dropout:
            break // the identity in evaluation mode
        case let linear as Linear:
            // Gemm with transB = 1: input [N, in] · weightᵀ [in, out] + bias.
            var inputs = [appendInitializer(weightName("Gemm", "weight"), linear.weight)]
            if let bias = linear.bias { inputs.append(appendInitializer(weightName("Gemm", "bias"), bias)) }
            appendNode(
                "Gemm", name: name("Gemm"), inputs: inputs, attributes: [.init(name: "transB", value: .integer(1))])
        case let convolution as Conv2d:
            var inputs = [appendInitializer(weightName("Conv", "weight"), convolution.weight)]
            if let bias = convolution.bias { inputs.append(appendInitializer(weightName("Conv", "bias"), bias)) }
            appendNode(
                "Conv", name: name("Conv"), inputs: inputs,
                attributes: [
                    .init(name: "kernel_shape", value: pair(convolution.kernelSize)),
                    .init(name: "strides", value: pair(convolution.stride)),
                    // Top, left, bottom, right.
                    .init(name: "pads", value: .integers(Array(repeating: convolution.padding, count: 4))),
                ])
        case let normalization as BatchNorm:
            // Always the running statistics: the graph is the model in evaluation mode.
            let inputs = [
                appendInitializer(weightName("BatchNormalization", "weight"), normalization.weight),
                appendInitializer(weightName("BatchNormalization", "bias"), normalization.bias),
                appendInitializer(weightName("BatchNormalization", "running_mean"), normalization.runningMean),
                appendInitializer(weightName("BatchNormalization", "running_var"), normalization.runningVariance),
            ]
            appendNode(
                "BatchNormalization", name: name("BatchNormalization"), inputs: inputs,
                attributes: [.init(name: "epsilon", value: .float(normalization.epsilon))])
        case let pooling as MaxPool2d:
            appendNode(
                "MaxPool", name: name("MaxPool"), inputs: [],
                attributes: [
                    .init(name: "kernel_shape", value: pair(pooling.kernelSize)),
                    .init(name: "strides", value: pair(pooling.stride)),
                ])
        case let pooling as AvgPool2d:
            appendNode(
                "AveragePool", name: name("AveragePool"), inputs: [],
                attributes: [
                    .init(name: "kernel_shape", value: pair(pooling.kernelSize)),
                    .init(name: "strides", value: pair(pooling.stride)),
                ])
        case is ReLU:
            appendNode("Relu", name: name("Relu"), inputs: [])
        case is Tanh:
            appendNode("Tanh", name: name("Tanh"), inputs: [])
        case is Sigmoid:
            appendNode("Sigmoid", name: name("Sigmoid"), inputs: [])
        case is Flatten:
            // Axis 1: [N, C, H, W] → [N, C·H·W], in the same row-major order as `flattened()`.
            appendNode(
                "Flatten", name: name("Flatten"), inputs: [], attributes: [.init(name: "axis", value: .integer(1))])
        default:
            let place = path.map { $0.isEmpty ? "the model" : "layer '\($0)'" } ?? "a layer of the chain"
            throw ONNXExportError(
                "\(place) is a \(type(of: layer)), which the exporter does not know. It knows Sequential, Linear, "
                    + "Conv2d, ReLU, Tanh, Sigmoid, MaxPool2d, AvgPool2d, Flatten, BatchNorm1d, BatchNorm2d and "
                    + "Dropout, and models that list their layers in order as a LayerChain")
        }
        if !(layer is Sequential || layer is any LayerChain || layer is Dropout) { layers.append(layer) }
    }

    /// `child`'s path under `parent` ("" for the root): `conv1`, `features.0`.
    private func join(_ parent: String?, _ child: String) -> String {
        guard let parent, !parent.isEmpty else { return child }
        return "\(parent).\(child)"
    }
}
