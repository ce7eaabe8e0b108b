import Foundation
import Testing
@testable import MNIST

/// The ONNX exporter (issue 14), checked without Python: the protobuf encoding against the wire format's own
/// examples, and exported files decoded back field by field (field numbers from onnx.proto3). That
/// onnxruntime runs the files and agrees with `mnist evaluate` is scripts/check_onnx.py's job.
@Suite struct ONNXExportTests {
    // MARK: A protobuf reader for the checks

    /// One field of a message: its number, and its value (a varint, 4 fixed bytes, or length-delimited bytes).
    struct Field {
        let number: Int
        let varint: UInt64?
        let bytes: [UInt8]
    }

    /// The fields of a protobuf message, in order; fails the test on anything malformed.
    static func decode(_ message: [UInt8]) throws -> [Field] {
        var position = 0
        func readVarint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = try #require(position < message.count ? message[position] : nil, "truncated varint")
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
                try #require(shift < 64, "varint longer than 10 bytes")
            }
        }
        var fields: [Field] = []
        while position < message.count {
            let key = try readVarint()
            let number = Int(key >> 3)
            switch key & 7 {
            case 0:
                fields.append(Field(number: number, varint: try readVarint(), bytes: []))
            case 2:
                let length = Int(try readVarint())
                try #require(position + length <= message.count, "field \(number) runs past the message's end")
                fields.append(Field(number: number, varint: nil, bytes: Array(message[position..<(position + length)])))
                position += length
            case 5:
                try #require(position + 4 <= message.count, "truncated fixed32")
                fields.append(Field(number: number, varint: nil, bytes: Array(message[position..<(position + 4)])))
                position += 4
            case let wireType:
                Issue.record("unexpected wire type \(wireType) for field \(number)")
                return fields
            }
        }
        return fields
    }

    static func strings(_ fields: [Field], _ number: Int) -> [String] {
        fields.filter { $0.number == number }.map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    static func messages(_ fields: [Field], _ number: Int) throws -> [[Field]] {
        try fields.filter { $0.number == number }.map { try decode($0.bytes) }
    }

    static func integer(_ fields: [Field], _ number: Int) -> Int? {
        fields.last { $0.number == number }?.varint.map { Int(Int64(bitPattern: $0)) }
    }

    /// A packed repeated int64 field's values.
    static func packedIntegers(_ fields: [Field], _ number: Int) throws -> [Int] {
        guard let field = fields.last(where: { $0.number == number }) else { return [] }
        var values: [Int] = []
        var position = 0
        while position < field.bytes.count {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = field.bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { break }
                shift += 7
            }
            values.append(Int(Int64(bitPattern: value)))
        }
        return values
    }

    static func floats(_ bytes: [UInt8]) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { start in
            Float(bitPattern: bytes[start..<(start + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) })
        }
    }

    /// A value's dims from its ValueInfoProto: numbers, or the name of a symbolic dimension.
    static func dimensions(_ valueInfo: [Field]) throws -> [String] {
        let type = try #require(try messages(valueInfo, 2).first)
        let tensor = try #require(try messages(type, 1).first)
        #expect(integer(tensor, 1) == 1, "elem_type FLOAT")
        let shape = try #require(try messages(tensor, 2).first)
        return try messages(shape, 1).map { dimension in
            integer(dimension, 1).map(String.init) ?? strings(dimension, 2).first ?? "?"
        }
    }

    // MARK: Protobuf encoding

    /// The examples of protobuf's encoding guide: 1, 150 and 300 as varints, "testing" as field 2, and a
    /// negative int64 in ten bytes.
    @Test func encodesTheWireFormat() {
        var encoder = ProtobufEncoder()
        encoder.append(1, integer: 150)
        #expect(encoder.bytes == [0x08, 0x96, 0x01])

        encoder = ProtobufEncoder()
        encoder.appendVarint(1)
        encoder.appendVarint(300)
        encoder.appendVarint(0)
        #expect(encoder.bytes == [0x01, 0xAC, 0x02, 0x00])

        encoder = ProtobufEncoder()
        encoder.append(2, string: "testing")
        #expect(encoder.bytes == [0x12, 0x07] + Array("testing".utf8))

        encoder = ProtobufEncoder()
        encoder.append(3, integer: -1)
        #expect(encoder.bytes == [0x18] + Array(repeating: 0xFF, count: 9) + [0x01])

        encoder = ProtobufEncoder()
        encoder.append(2, float: 1)
        #expect(encoder.bytes == [0x15, 0x00, 0x00, 0x80, 0x3F])

        encoder = ProtobufEncoder()
        encoder.append(4, packedIntegers: [3, 270, 86942])
        #expect(encoder.bytes == [0x22, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05])

        encoder = ProtobufEncoder()
        encoder.append(3) { $0.append(1, integer: 150) }
        #expect(encoder.bytes == [0x1A, 0x03, 0x08, 0x96, 0x01])
    }

    // MARK: Exported files, decoded

    /// A small Sequential with every kind of node a Sequential of ours can give, and normalisation: the
    /// ModelProto decoded back has IR 8, opset 17, the nodes in order with their attributes, the weights
    /// byte for byte under their state-dict names, and input and output with a symbolic batch dimension.
    @Test func encodesASequentialModel() throws {
        var generator = RandomGenerator(seed: 3)
        let model = Sequential(
            Conv2d(1, 2, kernelSize: 3, padding: 1, generator: &generator), BatchNorm2d(2), ReLU(), MaxPool2d(2),
            AvgPool2d(2), Flatten(), Dropout(probability: 0.5, generator: &generator),
            Linear(2 * 7 * 7, 5, generator: &generator), Tanh())
        let bytes = try ONNXExport.graph(of: model, normalization: .mnist).serialized(metadata: ["model": "tiny"])

        let modelProto = try Self.decode(bytes)
        #expect(Self.integer(modelProto, 1) == 8, "ir_version")
        #expect(Self.strings(modelProto, 2) == ["swift-mnist"], "producer_name")
        let operatorSets = try Self.messages(modelProto, 8)
        #expect(operatorSets.count == 1)
        #expect(Self.integer(try #require(operatorSets.first), 2) == 17, "opset_import version")
        #expect(Self.strings(try #require(operatorSets.first), 1).isEmpty, "the default domain")
        let metadata = try Self.messages(modelProto, 14)
        #expect(metadata.map { Self.strings($0, 1) + Self.strings($0, 2) } == [["model", "tiny"]])

        let graph = try #require(try Self.messages(modelProto, 7).first)
        let nodes = try Self.messages(graph, 1)
        #expect(
            nodes.flatMap { Self.strings($0, 4) } == [
                "Sub", "Div", "Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool", "Flatten", "Gemm",
                "Tanh",
            ])
        // A chain: each node reads the previous node's output; the first reads the input, the last writes logits.
        var previous = "input"
        for node in nodes {
            #expect(Self.strings(node, 1).first == previous)
            previous = try #require(Self.strings(node, 2).first)
        }
        #expect(previous == "logits")
        #expect(Self.strings(nodes[2], 1) == ["normalize_standard_deviation", "0.weight", "0.bias"])
        #expect(Self.strings(nodes[8], 1) == ["5", "7.weight", "7.bias"])

        let convolutionAttributes = try Self.messages(nodes[2], 5)
        #expect(convolutionAttributes.flatMap { Self.strings($0, 1) } == ["kernel_shape", "strides", "pads"])
        #expect(try convolutionAttributes.map { try Self.packedIntegers($0, 8) } == [[3, 3], [1, 1], [1, 1, 1, 1]])
        #expect(convolutionAttributes.map { Self.integer($0, 20) } == [7, 7, 7], "type INTS")
        let epsilon = try #require(try Self.messages(nodes[3], 5).first)
        #expect(Self.strings(epsilon, 1) == ["epsilon"])
        #expect(Self.integer(epsilon, 20) == 1, "type FLOAT")
        #expect(Self.floats(try #require(epsilon.first { $0.number == 2 }).bytes) == [1e-5])
        let transB = try #require(try Self.messages(nodes[8], 5).first)
        #expect(Self.strings(transB, 1) == ["transB"])
        #expect(Self.integer(transB, 3) == 1)
        #expect(Self.integer(transB, 20) == 2, "type INT")

        let initializers = try Self.messages(graph, 5)
        #expect(
            initializers.flatMap { Self.strings($0, 8) } == [
                "normalization.mean", "normalization.standard_deviation", "0.weight", "0.bias", "1.weight", "1.bias",
                "1.running_mean", "1.running_var", "7.weight", "7.bias",
            ])
        let expected: [(shape: [Int], values: [Float])] =
            [([], [0.1307]), ([], [0.3081])]
            + model.stateDict.filter { !$0.name.hasSuffix("num_batches_tracked") }.map {
                ($0.tensor.shape, $0.tensor.data)
            }
        for (initializer, (shape, values)) in zip(initializers, expected) {
            #expect(try Self.packedIntegers(initializer, 1) == shape)
            #expect(Self.integer(initializer, 2) == 1, "data_type FLOAT")
            let raw = try #require(initializer.first { $0.number == 9 }).bytes
            #expect(raw.count == values.count * 4)
            #expect(Self.floats(raw) == values)
        }

        let inputs = try Self.messages(graph, 11)
        #expect(inputs.flatMap { Self.strings($0, 1) } == ["input"])
        #expect(try Self.dimensions(inputs[0]) == ["N", "1", "28", "28"])
        let outputs = try Self.messages(graph, 12)
        #expect(outputs.flatMap { Self.strings($0, 1) } == ["logits"])
        #expect(try Self.dimensions(outputs[0]) == ["N", "5"])
    }

    /// Every built-in model exports from its module tree: its layers in order check out against its forward
    /// pass, and every parameter and running statistic is an initializer under its state-dict name.
    @Test(arguments: ModelKind.allCases) func exportsEveryBuiltInModel(kind: ModelKind) throws {
        var generator = RandomGenerator(seed: 0)
        let model = kind.makeModel(generator: &generator)
        let graph = try ONNXExport.graph(of: model)
        #expect(graph.classCount == 10)
        #expect(graph.nodes.last?.output == "logits")
        #expect(
            graph.initializers.map(\.name)
                == model.stateDict.map(\.name).filter { !$0.hasSuffix("num_batches_tracked") })
        #expect(
            graph.initializers.map(\.values)
                == model.stateDict.filter { !$0.name.hasSuffix("num_batches_tracked") }.map(\.tensor.data))
        let operators: [ModelKind: [String]] = [
            .mlp: ["Flatten", "Gemm", "Relu", "Gemm"],
            .cnn: ["Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm"],
            .lenet5: [
                "Conv", "Tanh", "AveragePool", "Conv", "Tanh", "AveragePool", "Conv", "Tanh", "Flatten", "Gemm", "Tanh",
                "Gemm",
            ],
            .vgg: [
                "Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Relu", "MaxPool", "Conv",
                "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Gemm",
                "BatchNormalization", "Relu", "Gemm",
            ],
            .fast: [
                "Conv", "MaxPool", "BatchNormalization", "Relu", "Conv", "MaxPool", "BatchNormalization", "Relu",
                "Flatten", "Gemm", "Relu", "Gemm",
            ],
            .plain: [
                "Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Relu",
                "Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Relu",
                "Conv", "BatchNormalization", "Relu", "Flatten", "Gemm", "BatchNormalization",
            ],
        ]
        #expect(graph.nodes.map(\.operatorType) == operators[kind])
        // The export leaves the model in the mode it found it in.
        #expect(model.isTraining)
    }

    // MARK: What cannot be exported

    /// A layer of its own, which the exporter cannot know.
    final class Doubling: Module, UnaryLayer {
        func callAsFunction(_ input: Tensor) -> Tensor { input * 2 }
    }

    /// A model whose forward pass is code, without a `LayerChain`.
    final class Unlisted: Module, UnaryLayer {
        let fc: Linear
        init(generator: inout RandomGenerator) { fc = Linear(784, 10, generator: &generator) }
        func callAsFunction(_ input: Tensor) -> Tensor { fc(input.flattened()).relu() }
    }

    /// A `LayerChain` that leaves out a step of its forward pass.
    final class Miscounted: Module, LayerChain {
        let fc: Linear
        init(generator: inout RandomGenerator) { fc = Linear(784, 10, generator: &generator) }
        func callAsFunction(_ input: Tensor) -> Tensor { fc(input.flattened()).relu() }
        var layerChain: [any UnaryLayer] { [Flatten(), fc] }
    }

    @Test func namesTheLayerItCannotExport() throws {
        var generator = RandomGenerator(seed: 0)
        let model = Sequential(Flatten(), Linear(784, 10, generator: &generator), Doubling())
        let error = try #require(throws: ONNXExportError.self) { try ONNXExport.graph(of: model) }
        #expect(error.description.contains("layer '2' is a Doubling, which the exporter does not know"), "\(error)")

        let unlistedModel = Unlisted(generator: &generator)
        let unlisted = try #require(throws: ONNXExportError.self) { try ONNXExport.graph(of: unlistedModel) }
        #expect(unlisted.description.contains("the model is a Unlisted"), "\(unlisted)")
        #expect(unlisted.description.contains("LayerChain"), "\(unlisted)")
    }

    @Test func refusesALayerChainThatDiffersFromTheForwardPass() throws {
        var generator = RandomGenerator(seed: 0)
        let model = Miscounted(generator: &generator)
        let error = try #require(throws: ONNXExportError.self) { try ONNXExport.graph(of: model) }
        #expect(error.description.contains("Miscounted's layers applied in order do not give its output"), "\(error)")
    }

    // MARK: `mnist export`

    static let tool: URL? = {
        let url = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("mnist")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }()

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let tool: URL = try #require(Self.tool, "the mnist tool should be built next to the tests")
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outputData, as: UTF8.self),
            String(decoding: errorData, as: UTF8.self)
        )
    }

    /// `mnist export` writes the file a fixture's weights give, and refuses a missing weights file and an
    /// output that would overwrite the weights, naming the file.
    @Test func exportCommand() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mnist-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let weights = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        let output = folder.appendingPathComponent("lenet5.onnx")

        let exported = try Self.run(["export", "--format", "onnx", "--weights", weights.path, "--output", output.path])
        #expect(exported.status == 0, "\(exported.error)")
        #expect(exported.output.contains("lenet5, ONNX opset 17, 12 nodes"), "\(exported.output)")
        let (_, model, _) = try WeightsFile.read(from: weights)
        let written = try [UInt8](Data(contentsOf: output))
        #expect(
            written
                == (try ONNXExport.graph(of: model).serialized(metadata: ["model": "lenet5", "normalize": "false"])))

        let missing = folder.appendingPathComponent("missing.safetensors").path
        let absent = try Self.run(["export", "--weights", missing, "--output", output.path])
        #expect(absent.status != 0)
        #expect(absent.error.contains("missing.safetensors"), "\(absent.error)")

        let overwrite = try Self.run(["export", "--weights", weights.path, "--output", weights.path])
        #expect(overwrite.status != 0)
        #expect(overwrite.error.contains("writing it would destroy the input"), "\(overwrite.error)")

        let format = try Self.run(["export", "--format", "tflite", "--weights", weights.path])
        #expect(format.status != 0)
        #expect(format.error.contains("tflite"), "\(format.error)")
    }
}
