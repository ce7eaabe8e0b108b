import ArgumentParser
import Foundation
import MNIST

/// The formats `mnist export` writes.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    case onnx
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a weights file to ONNX, for onnxruntime and other ONNX runtimes.",
        discussion: """
            The graph (opset 17) takes input `input`, [N, 1, 28, 28] float pixels from 0 to 1 (MNIST's bytes \
            divided by 255, as `mnist evaluate` feeds them), and gives output `logits`, [N, 10], with N any batch \
            size. Weights trained on normalised pixels get the normalisation as the graph's first nodes; weights \
            trained on preprocessed digits (`train --deskew`, `--ink-width`) are refused, as no node does that. \
            The model is read from the file's metadata (or recognised by its tensors), as `mnist evaluate` reads it.
            """)

    @Option(help: "The format to write.")
    var format: ExportFormat = .onnx
    @Option(help: ArgumentHelp("A weights file written by `mnist train` or by PyTorch.", valueName: "file"))
    var weights: String
    @Option(help: ArgumentHelp("Where to write the model (default: the weights path with .onnx).", valueName: "file"))
    var output: String?
    @Flag(
        help:
            "Normalise pixels with MNIST's mean and std in the graph (for weights trained that way; read from the file's metadata when it says)."
    )
    var normalize = false

    func run() throws {
        let weightsURL = URL(fileURLWithPath: weights)
        let outputURL = URL(fileURLWithPath: output ?? weightsURL.deletingPathExtension().path + ".onnx")
        try OutputPaths.check(outputs: [("--output", outputURL)], inputs: [("--weights", weightsURL)])
        let (kind, model, metadata) = try WeightsFile.read(from: weightsURL)
        // Deskewing and width normalisation measure each image's ink, which no node of the graph does:
        // exporting without them would give a graph that reads these weights' inputs wrongly.
        let preprocessing = try WeightsFile.preprocessing(metadata, of: weightsURL)
        if !preprocessing.isNone {
            throw ExitError(
                message:
                    "\(weightsURL.path) was trained on preprocessed digits (its metadata says "
                    + preprocessing.metadata.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                    .joined(separator: ", ")
                    + "), and the ONNX graph cannot preprocess its input: do it to the images before the graph, or "
                    + "export weights trained without --deskew and --ink-width")
        }
        let normalization: DataLoader.Normalization? = (normalize || metadata["normalize"] == "true") ? .mnist : nil
        let graph: ONNXGraph
        do {
            graph = try ONNXExport.write(
                model, normalization: normalization,
                metadata: ["model": kind.rawValue, "normalize": normalization == nil ? "false" : "true"], to: outputURL)
        } catch let error as ONNXExportError {
            throw ExitError(message: error.description)
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: outputURL.path)[.size] as? Int) ?? 0
        print(
            "Wrote \(outputURL.path) (\(bytes) bytes): \(kind.rawValue), ONNX opset \(ONNXExport.opsetVersion), "
                + "\(graph.nodes.count) nodes (\(graph.nodes.map(\.operatorType).joined(separator: ", ")))")
        print(
            "Input '\(ONNXExport.inputName)': float [N, 1, 28, 28], pixels 0 to 1"
                + (normalization == nil ? "" : ", normalised in the graph (mean 0.1307, std 0.3081)")
                + "; output '\(ONNXExport.outputName)': float [N, \(graph.classCount)]")
    }
}
