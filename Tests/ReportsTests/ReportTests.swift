import Foundation
import FoundationXML
import Imaging
@testable import MNIST
import Testing
@testable import Reports

/// `mnist evaluate --report`: an untrained LeNet5 (fixed seed) on the first 200 bundled test images makes
/// plenty of mistakes to check the plumbing with.
@Suite struct ReportTests {
    static let testSlice = Result {
        try MNISTDataset.load(directory: try #require(MNISTDataset.defaultDirectory()), split: .test).prefix(200)
    }

    static func untrainedModel() -> any UnaryLayer {
        var generator = RandomGenerator(seed: 3)
        return ModelKind.lenet5.makeModel(generator: &generator)
    }

    static func history(epochs: Int) -> [EpochRecord] {
        (1...epochs).map { epoch in
            EpochRecord(
                epoch: epoch, epochs: epochs, testAccuracy: 0.9 + 0.005 * Double(epoch),
                trainingLoss: 0.5 / Double(epoch), trainingAccuracy: 0.88 + 0.006 * Double(epoch),
                seconds: 20, learningRate: 0.001)
        }
    }

    static func report(history: [EpochRecord] = []) throws -> EvaluationReport {
        let testSet = try testSlice.get()
        return EvaluationReport(
            modelName: "lenet5", weightsPath: "untrained.safetensors", testSet: testSet,
            outcomes: classify(model: untrainedModel(), on: testSet, batchSize: 64), history: history,
            metricsPath: history.isEmpty ? nil : "untrained.metrics.jsonl")
    }

    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("mnist-report-tests-\(UUID().uuidString)")
    }

    /// The chunk types of a PNG file and its IHDR fields, checking the signature and that the chunks fill the file.
    static func pngStructure(
        _ bytes: [UInt8]
    ) throws -> (chunks: [String], width: Int, height: Int, bitDepth: UInt8, colorType: UInt8) {
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func integer(at offset: Int) -> Int { bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var chunks = [String]()
        var offset = 8
        while offset + 12 <= bytes.count {
            chunks.append(String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self))
            offset += 12 + integer(at: offset)
        }
        #expect(offset == bytes.count)
        try #require(chunks.first == "IHDR")
        return (chunks, integer(at: 16), integer(at: 20), bytes[24], bytes[25])
    }

    @Test func outcomesAgreeWithEvaluateAndConfusionCSVHoldsTheMatrix() throws {
        let testSet = try Self.testSlice.get()
        let model = Self.untrainedModel()
        let outcomes = classify(model: model, on: testSet, batchSize: 64)
        #expect(outcomes.map(\.index) == Array(0..<200))
        #expect(outcomes.map(\.label) == testSet.labels.map(Int.init))
        #expect(Evaluation(outcomes: outcomes) == evaluate(model: model, on: testSet))
        // A probability for each mistake, the largest of ten; none for a correct answer.
        #expect(outcomes.contains { $0.isCorrect } && outcomes.contains { !$0.isCorrect })
        for outcome in outcomes {
            if outcome.isCorrect {
                #expect(outcome.probability == nil)
            } else {
                let probability = try #require(outcome.probability)
                #expect(probability >= 0.1 && probability <= 1, "image \(outcome.index)")
            }
        }
        // The predictions `predictions(of:for:)`, the evaluation's path, makes for the same batches.
        model.eval()
        let predicted = DataLoader(dataset: testSet, batchSize: 64).epoch().flatMap {
            predictions(of: model, for: $0.images)
        }
        #expect(outcomes.map(\.prediction) == predicted)

        let report = try Self.report()
        let rows = report.confusionCSV.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(rows.count == 11)
        #expect(rows[0].dropFirst() == ArraySlice((0..<10).map(String.init)))
        for digit in 0..<10 {
            #expect(rows[digit + 1][0] == String(digit))
            #expect(
                rows[digit + 1].dropFirst().map { Int($0) } == report.evaluation.confusion[digit].map { Optional($0) })
        }
        #expect(report.evaluation.total == 200)
    }

    @Test func mistakesAreWrongAndSortedByConfidence() throws {
        let report = try Self.report()
        let mistakes = report.mistakes
        #expect(mistakes.count == report.evaluation.total - report.evaluation.correct)
        #expect(mistakes.count > 50) // an untrained model: enough to fill the picture
        #expect(mistakes.allSatisfy { $0.label != $0.prediction && Int(report.testSet.labels[$0.index]) == $0.label })
        #expect(
            zip(mistakes, mistakes.dropFirst()).allSatisfy {
                $0.probability! > $1.probability! || ($0.probability == $1.probability && $0.index < $1.index)
            })

        let lines = report.mistakesCSV.split(separator: "\n")
        #expect(lines.first == "index,label,prediction,probability")
        #expect(lines.count == mistakes.count + 1)
        let first = lines[1].split(separator: ",")
        #expect(
            Int(first[0]) == mistakes[0].index && Int(first[1]) == mistakes[0].label
                && Int(first[2]) == mistakes[0].prediction)
        #expect(abs(Float(first[3])! - mistakes[0].probability!) < 1e-6)

        #expect(
            EvaluationReport.caption(of: ImageOutcome(index: 0, label: 7, prediction: 1, probability: 0.987))
                == "7→1 98%")
        #expect(
            EvaluationReport.caption(of: ImageOutcome(index: 0, label: 3, prediction: 5, probability: 0.9999))
                == "3→5 99%")
        #expect(
            EvaluationReport.caption(of: ImageOutcome(index: 0, label: 3, prediction: 5, probability: nil)) == "3→5")
    }

    @Test func mistakesImageShowsTheDigitsInOrder() throws {
        let report = try Self.report()
        let image = try #require(report.mistakesImage())
        let mistakes = report.mistakes
        // Digits drawn three times their size with 8 px gaps and margins, ten to a row, captions twice the
        // font's size 3 px under each; 50 tiles make five rows.
        let tileWidth = 28 * 3, tileHeight = 28 * 3 + 3 + 14
        #expect(image.width == 8 + 10 * tileWidth + 9 * 8 + 8)
        #expect(image.height == 8 + 5 * tileHeight + 4 * 8 + 8)
        for position in [0, 1, 10, 49] {
            let left = 8 + (position % 10) * (tileWidth + 8), top = 8 + (position / 10) * (tileHeight + 8)
            let pixels = report.testSet.pixels(at: mistakes[position].index)
            for (row, column) in [(14, 14), (10, 20), (27, 0), (5, 9)] {
                let expected = pixels[pixels.startIndex + row * 28 + column]
                #expect(image[left + 3 * column + 1, top + 3 * row + 2] == expected)
            }
            // The caption is drawn in black under the tile.
            let captionRows = (top + tileWidth + 3)..<(top + tileHeight)
            #expect(captionRows.contains { y in (left..<(left + tileWidth)).contains { image[$0, y] == 0 } })
        }
    }

    @Test func confusionImageShadesCountsAndFramesTheDiagonal() throws {
        let report = try Self.report()
        let image = report.confusionImage()
        let cell = EvaluationReport.confusionCellSide
        let gridLeft = 8 + 10 + 8 + 10 + 8, gridTop = 8 + 14 + 8 + 14 + 8
        #expect(image.width == gridLeft + 10 * cell + 1 + 8 && image.height == gridTop + 10 * cell + 1 + 8)
        func shade(_ row: Int, _ column: Int) -> UInt8 { image[gridLeft + column * cell + 3, gridTop + row * cell + 3] }
        let confusion = report.evaluation.confusion
        let cells = (0..<10).flatMap { row in (0..<10).map { (row, $0) } }
        for (row, column) in cells {
            if confusion[row][column] == 0 { #expect(shade(row, column) == 255) }
            if row == column { #expect(image[gridLeft + column * cell, gridTop + row * cell + cell / 2] == 0) }
        }
        // More images, darker cell.
        for (a, b) in zip(cells, cells.dropFirst()) where confusion[a.0][a.1] < confusion[b.0][b.1] {
            #expect(shade(a.0, a.1) > shade(b.0, b.1))
        }
    }

    @Test func reportWritesDecodablePNGsAndLinksEverything() throws {
        let directory = Self.temporaryDirectory().appendingPathComponent("nested/report")
        defer {
            try? FileManager.default.removeItem(at: directory.deletingLastPathComponent().deletingLastPathComponent())
        }
        let report = try Self.report(history: Self.history(epochs: 3))
        let files = try report.write(to: directory)
        #expect(
            files.map(\.lastPathComponent) == [
                "confusion.csv", "confusion.png", "mistakes.csv", "mistakes.png", "curves.svg", "report.md",
            ])
        for (name, image) in [
            ("confusion.png", report.confusionImage()), ("mistakes.png", try #require(report.mistakesImage())),
        ] {
            let png = try Self.pngStructure(Array(try Data(contentsOf: directory.appendingPathComponent(name))))
            #expect(png.chunks.first == "IHDR" && png.chunks.contains("IDAT") && png.chunks.last == "IEND", "\(name)")
            #expect(
                png.width == image.width && png.height == image.height && png.bitDepth == 8 && png.colorType == 0,
                "\(name)")
            #expect(try PNGDecoder.decode(contentsOf: directory.appendingPathComponent(name)) == image, "\(name)")
        }
        #expect(
            try String(contentsOf: directory.appendingPathComponent("confusion.csv"), encoding: .utf8)
                == report.confusionCSV)
        let markdown = try String(contentsOf: directory.appendingPathComponent("report.md"), encoding: .utf8)
        for link in [
            "(confusion.png)", "(confusion.csv)", "(mistakes.png)", "(mistakes.csv)", "(curves.svg)",
            formatPercent(report.evaluation.accuracy),
        ] {
            #expect(markdown.contains(link), "report.md lacks \(link)")
        }
        for digit in 0..<10 { #expect(markdown.contains("\n| \(digit) | ")) }

        // Without metrics: no curves, and the summary says so.
        let plain = try Self.report()
        #expect(plain.learningCurvesSVG() == nil)
        #expect(plain.markdown.contains("no learning curves") && !plain.markdown.contains("curves.svg"))
    }

    @Test(arguments: [1, 2, 12]) func learningCurvesAreValidSVGWithAPointPerEpoch(epochs: Int) throws {
        let report = try Self.report(history: Self.history(epochs: epochs))
        let svg = try #require(report.learningCurvesSVG())
        let document = try XMLDocument(data: Data(svg.utf8))
        let root = try #require(document.rootElement())
        #expect(root.name == "svg")
        for id in ["training-loss", "test-accuracy", "training-accuracy"] {
            // FoundationXML's attribute(forName:) finds nothing here, so attributes are read through XPath.
            let circles = "//*[@id='\(id)']/*[local-name()='circle']"
            #expect(try root.nodes(forXPath: circles).count == epochs, "\(id)")
            for coordinate in ["cx", "cy"] {
                let values = try root.nodes(forXPath: "\(circles)/@\(coordinate)").map {
                    $0.stringValue.flatMap(Double.init)
                }
                #expect(
                    values.count == epochs && values.allSatisfy { $0?.isFinite == true },
                    "\(id) \(coordinate): \(values)")
            }
            let points = try #require(
                try root.nodes(forXPath: "//*[@id='\(id)']/*[local-name()='polyline']/@points").first?.stringValue)
            #expect(points.split(separator: " ").count == epochs)
        }
        let texts = try root.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
        for label in ["Training loss", "Accuracy", "epoch", "accuracy (%)", "test", "training"] {
            #expect(texts.contains(label), "no text \(label)")
        }
    }

    @Test func bitmapFontDrawsEachDigitDistinctly() {
        for (character, glyph) in BitmapFont.glyphs {
            #expect(
                glyph.count == BitmapFont.glyphHeight
                    && glyph.allSatisfy { $0.count == BitmapFont.glyphWidth && $0.allSatisfy("#.".contains) },
                "\(character)")
        }
        let digits = (0..<10).map { digit -> [UInt8] in
            var image = GrayImage(width: 7, height: 9, filledWith: 255)
            image.drawText(String(digit), x: 1, y: 1, value: 0)
            #expect(image.pixels.contains(0), "digit \(digit) is blank")
            // Nothing drawn outside the glyph's 5×7 box.
            #expect((0..<7).allSatisfy { image[$0, 0] == 255 && image[$0, 8] == 255 })
            return image.pixels
        }
        #expect(Set(digits).count == 10)
        #expect(BitmapFont.width(of: "7→1 98%") == 7 * 6 - 1 && BitmapFont.width(of: "12", scale: 2) == 22)
        // Scaled text covers scale × scale squares, and clips at the edges instead of trapping.
        var image = GrayImage(width: 4, height: 4)
        image.drawText("1", x: -2, y: -4, scale: 2, value: 0)
        #expect(image[2, 0] == 0 && image[3, 1] == 0 && image[1, 0] == 255) // row 2 of "1" is ink at column 2 only
    }

    /// Only a regular file is read as metrics: a FIFO is refused at once (not waited on), a directory named,
    /// a missing file named with the system's reason.
    @Test func metricsAreReadFromRegularFilesOnly() throws {
        let directory = Self.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("fifo.jsonl")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        #expect(
            throws: MetricsFileError(
                file: fifo.path, line: 0,
                problem: "is a FIFO (named pipe), not a regular file: only regular files are read")
        ) {
            try EpochRecord.readMetrics(from: fifo)
        }
        #expect {
            try EpochRecord.readMetrics(from: directory)
        } throws: { "\($0)" == "\(directory.path): is a directory, not a regular file: only regular files are read" }
        let missing = directory.appendingPathComponent("missing.jsonl")
        #expect { try EpochRecord.readMetrics(from: missing) } throws: {
            "\($0)".hasPrefix("\(missing.path): cannot open: ") && "\($0)".contains("No such file")
        }
    }

    /// Axes over ranges too narrow for their values end (a denormal above 0 made the step NaN and the tick loop
    /// endless) and give finite ticks.
    @Test func axesOverDenormalOrFlatRangesEnd() {
        for (lower, upper) in [(0, 5e-324), (5e-324, 5e-324), (0.5, 0.5), (1, 1 + 1e-12), (0, 1e12)] {
            let axis = SVGDrawing.niceAxis(lower: lower, upper: upper, targetTicks: 5, integral: false)
            #expect(axis.ticks.count >= 2 && axis.ticks.count <= 20, "\(lower)…\(upper): \(axis.ticks.count) ticks")
            #expect(axis.ticks.allSatisfy(\.isFinite) && axis.lower <= lower && axis.upper >= upper)
        }
    }

    @Test func metricsFileRoundTripsAndMalformedLinesNameFileAndLine() throws {
        let directory = Self.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let history = Self.history(epochs: 3)
        let lines = try history.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        let url = directory.appendingPathComponent("run.metrics.jsonl")
        try (lines.joined(separator: "\n") + "\n\n").write(to: url, atomically: true, encoding: .utf8)
        #expect(try EpochRecord.readMetrics(from: url) == history)
        /// The second record with `change` made, as a line.
        func line(_ change: (inout EpochRecord) -> Void) throws -> String {
            var record = history[1]
            change(&record)
            return String(decoding: try encoder.encode(record), as: UTF8.self)
        }

        for (text, line, problem) in [
            ("\(lines[0])\n{\"epoch\": 2\n", 2, "not valid JSON"),
            ("\(lines[0])\n\n{\"epoch\": 2, \"epochs\": 3}\n", 3, "\"testAccuracy\" is missing"),
            (
                "\(lines[0].replacingOccurrences(of: "\"epoch\":1", with: "\"epoch\":\"one\""))\n", 1,
                "\"epoch\" has the wrong type"
            ),
            // Values no run writes, which the learning curves' axes cannot hold (they hung or trapped).
            (
                "\(lines[0])\n\(try line { $0.testAccuracy = 1e307 })\n", 2,
                "\"testAccuracy\" is 1e+307, expected 0.0 to 1.0"
            ),
            ("\(try line { $0.trainingLoss = -1e308 })\n", 1, "\"trainingLoss\" is -1e+308"),
            ("\(try line { $0.epoch = 0 })\n", 1, "\"epoch\" and \"epochs\" must be at least 1"),
        ] {
            try text.write(to: url, atomically: true, encoding: .utf8)
            #expect {
                try EpochRecord.readMetrics(from: url)
            } throws: { error in
                let error = try #require(error as? MetricsFileError)
                return error.file == url.path && error.line == line && error.problem.contains(problem)
                    && error.description.hasPrefix("\(url.path):\(line): ")
            }
        }
    }
}
