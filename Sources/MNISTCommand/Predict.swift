import ArgumentParser
import Foundation
import Imaging
import MNIST

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recognise the digit in your own PNG images.",
        discussion: """
            Each image is prepared the way MNIST's digits were: ink told from paper (dark on light or light on \
            dark), cropped, scaled to fit 20×20 keeping its proportions, and placed in 28×28 with its centre of \
            mass in the middle. Prints one line per image, `PATH: DIGIT (PROBABILITY)`. An image that cannot \
            be read is reported on standard error and the others are still predicted; the exit status is then 1. \
            With several weights files (`mnist predict --weights A B IMAGE…`), the probabilities are the mean of \
            their models'.
            """)

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "A weights file written by `mnist train` or by PyTorch; several make an ensemble, which averages their models' probabilities. The files end at the first PNG image (a .png name or PNG content), the next option or --.",
            valueName: "file"),
        completion: .file(extensions: ["safetensors"]))
    var weights: [String]
    @Option(help: "Also list the next most probable digits, up to this many in all (1–10).")
    var top: Int = 1
    @Flag(help: "Print a JSON array of {path, digit, probabilities, top} instead of lines.")
    var json = false
    @Flag(help: "Draw the 28×28 image the model saw (on standard error with --json).")
    var show = false
    @Argument(
        help: ArgumentHelp("PNG images of one digit each.", valueName: "image"), completion: .file(extensions: ["png"]))
    var images: [String] = []

    mutating func validate() throws {
        guard (1...10).contains(top) else { throw ValidationError("--top must be from 1 to 10") }
        // --weights takes every value up to the next option, so `--weights FILE IMAGE…` hands it the images too:
        // from the first PNG on (after the first weights file), the values are the images.
        if images.isEmpty, let first = weights.dropFirst().firstIndex(where: Self.isPNG) {
            images = Array(weights[first...])
            weights.removeSubrange(first...)
        }
        guard !weights.isEmpty else { throw ValidationError("name a weights file: --weights FILE [FILE…]") }
        guard !images.isEmpty else { throw ValidationError("name at least one image") }
    }

    /// Whether `path` names a PNG image: a `.png` name, or a file that starts with PNG's signature.
    static func isPNG(_ path: String) -> Bool {
        if path.lowercased().hasSuffix(".png") { return true }
        // Regular files only: opening a FIFO could wait for a writer.
        guard (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular,
            let file = FileHandle(forReadingAtPath: path)
        else { return false }
        defer { try? file.close() }
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        return (try? file.read(upToCount: signature.count)).map { [UInt8]($0) == signature } ?? false
    }

    struct Entry: Encodable {
        struct Ranked: Encodable {
            let digit: Int
            let probability: Float
        }
        let path: String
        let digit: Int
        let probabilities: [Float]
        let top: [Ranked]
    }

    func run() throws {
        try requireMatrixProducts()
        let predictor: Ensemble
        do {
            predictor = try Ensemble(weights: weights.map { URL(fileURLWithPath: $0) })
        } catch let error as EnsembleError {
            throw ExitError(message: error.description)
        }
        var prepared: [(path: String, pixels: [Float])] = []
        var failures = 0
        for path in images {
            do {
                let image = try PNGDecoder.decode(contentsOf: URL(fileURLWithPath: path))
                prepared.append((path, try MNISTPreprocessing.prepare(image, file: path)))
            } catch let error as ImageError {
                printError("error: \(error)")
                failures += 1
            }
        }

        var entries: [Entry] = []
        for start in stride(from: 0, to: prepared.count, by: Predictor.batchSize) {
            let batch = prepared[start..<min(start + Predictor.batchSize, prepared.count)]
            for (item, prediction) in zip(batch, predictor.predict(images: batch.map(\.pixels))) {
                // As the server answers: weights finite but so large that the outputs overflow give NaNs.
                guard prediction.probabilities.allSatisfy(\.isFinite) else {
                    throw ExitError(
                        message:
                            "\(item.path): the model gave non-finite probabilities; its weights may be broken (\(weights.joined(separator: ", ")))"
                    )
                }
                let ranked = prediction.top(top).map { Entry.Ranked(digit: $0.digit, probability: $0.probability) }
                let entry = Entry(
                    path: item.path, digit: prediction.digit, probabilities: prediction.probabilities, top: ranked)
                entries.append(entry)
                if json {
                    if show { printError("\(item.path):\n" + TerminalRendering.render(item.pixels), terminator: "") }
                } else {
                    print(Self.line(for: entry))
                    if show { print(TerminalRendering.render(item.pixels), terminator: "") }
                }
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
        }
        if failures > 0 { throw ExitCode(1) }
    }

    /// `seven.png: 7 (99.2%)`, then `, then 1 (0.5%), 9 (0.1%)` for the runners-up.
    static func line(for entry: Entry) -> String {
        func percent(_ probability: Float) -> String {
            probability < 0.0005 ? "<0.1%" : String(format: "%.1f%%", Double(probability) * 100)
        }
        var text = "\(entry.path): \(entry.digit) (\(percent(entry.probabilities[entry.digit])))"
        let others = entry.top.dropFirst().map { "\($0.digit) (\(percent($0.probability)))" }
        if !others.isEmpty { text += ", then " + others.joined(separator: ", ") }
        return text
    }
}
