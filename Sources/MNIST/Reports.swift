import Foundation

/// What a model said about one image of a labelled set.
public struct ImageOutcome: Equatable, Sendable {
    /// The image's position in the dataset.
    public let index: Int
    public let label: Int
    /// The digit with the largest logit.
    public let prediction: Int
    /// The softmax probability the model gave `prediction`.
    public let probability: Float

    public init(index: Int, label: Int, prediction: Int, probability: Float) {
        self.index = index
        self.label = label
        self.prediction = prediction
        self.probability = probability
    }

    public var isCorrect: Bool { label == prediction }
}

/// The model's prediction and its probability for every image of `dataset`, in order, computed as
/// `evaluate(model:on:normalization:batchSize:)` does (evaluation mode, nothing recorded, batches of
/// `batchSize`), so `Evaluation(outcomes:)` of the result equals what `evaluate` returns.
///
/// With `augmentation`, each image is first randomly transformed as training augments it, the transforms
/// drawn from `RandomGenerator(seed: augmentationSeed)`: how well the model copes with digits written
/// tilted, larger, smaller or off-centre.
public func classify(
    model: any UnaryLayer, on dataset: MNISTDataset, normalization: DataLoader.Normalization? = nil,
    batchSize: Int = 1000,
    augmentation: RandomAffine? = nil, augmentationSeed: UInt64 = 0
) -> [ImageOutcome] {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    return withoutGradients {
        var outcomes = [ImageOutcome]()
        outcomes.reserveCapacity(dataset.imageCount)
        var generator = RandomGenerator(seed: augmentationSeed)
        let loader = DataLoader(
            dataset: dataset, batchSize: batchSize, normalization: normalization, augmentation: augmentation)
        for batch in loader.epoch(generator: &generator) {
            let logits = model(batch.images)
            let probabilities = logits.softmax().data
            let classCount = logits.shape[1]
            for (row, prediction) in logits.argmax().enumerated() {
                outcomes.append(
                    ImageOutcome(
                        index: outcomes.count, label: Int(batch.labels[row]), prediction: prediction,
                        probability: probabilities[row * classCount + prediction]))
            }
        }
        return outcomes
    }
}

extension Evaluation {
    /// The confusion matrix of `outcomes`.
    public init(outcomes: [ImageOutcome], classCount: Int = 10) {
        var confusion = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for outcome in outcomes { confusion[outcome.label][outcome.prediction] += 1 }
        self.init(confusion: confusion)
    }
}

/// A metrics file line that is not an `EpochRecord`; names the file and the line (counting from 1).
public struct MetricsFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int
    public let problem: String
    public var description: String { "\(file):\(line): \(problem)" }
}

extension EpochRecord {
    /// The records of a metrics file as `mnist train` writes it: one JSON object per line (blank lines
    /// are skipped). Throws `MetricsFileError` for a line that is not a record.
    public static func readMetrics(from url: URL) throws -> [EpochRecord] {
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        let decoder = JSONDecoder()
        var records = [EpochRecord]()
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            do {
                records.append(try decoder.decode(EpochRecord.self, from: Data(line.utf8)))
            } catch let error as DecodingError {
                throw MetricsFileError(file: url.path, line: offset + 1, problem: Self.explain(error))
            }
        }
        return records
    }

    /// A short reason a line did not decode.
    private static func explain(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "not an epoch record: \"\(key.stringValue)\" is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "not an epoch record: \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        case .dataCorrupted: "not valid JSON"
        @unknown default: "not an epoch record"
        }
    }
}

/// The files `mnist evaluate --report DIR` writes about a model tested on a labelled set: the confusion
/// matrix as CSV and as a heat map, the most confident mistakes as CSV and as a labelled grid of digits,
/// the learning curves from the training run's metrics as SVG, and a Markdown summary linking them.
public struct EvaluationReport {
    /// How the model is named in the summary, e.g. "lenet5".
    public let modelName: String
    /// The weights file, as the summary should show it.
    public let weightsPath: String
    public let testSet: MNISTDataset
    /// One per image of `testSet`, in order.
    public let outcomes: [ImageOutcome]
    public let evaluation: Evaluation
    /// The training run's epochs, empty when there is no metrics file.
    public let history: [EpochRecord]
    /// The metrics file the history came from, as the summary should show it.
    public let metricsPath: String?
    /// How many mistakes `mistakes.png` shows (`mistakes.csv` lists them all).
    public let mistakeTileCount: Int

    public init(
        modelName: String, weightsPath: String, testSet: MNISTDataset, outcomes: [ImageOutcome],
        history: [EpochRecord] = [], metricsPath: String? = nil, mistakeTileCount: Int = 50
    ) {
        precondition(
            outcomes.count == testSet.imageCount, "\(outcomes.count) outcomes for \(testSet.imageCount) images")
        self.modelName = modelName
        self.weightsPath = weightsPath
        self.testSet = testSet
        self.outcomes = outcomes
        evaluation = Evaluation(outcomes: outcomes)
        self.history = history
        self.metricsPath = metricsPath
        self.mistakeTileCount = mistakeTileCount
    }

    /// The wrongly classified images, most confident first (ties in test-set order).
    public var mistakes: [ImageOutcome] {
        outcomes.filter { !$0.isCorrect }.sorted { ($1.probability, $0.index) < ($0.probability, $1.index) }
    }

    /// Writes the report into `directory`, creating it if needed, and returns the files written:
    /// confusion.csv, confusion.png, mistakes.csv, mistakes.png (when there are mistakes), curves.svg (when
    /// there is a history) and report.md.
    public func write(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var files: [(name: String, bytes: [UInt8])] = [
            ("confusion.csv", Array(confusionCSV.utf8)),
            ("confusion.png", confusionImage().pngData()),
            ("mistakes.csv", Array(mistakesCSV.utf8)),
        ]
        if let image = mistakesImage() { files.append(("mistakes.png", image.pngData())) }
        if let svg = learningCurvesSVG() { files.append(("curves.svg", Array(svg.utf8))) }
        files.append(("report.md", Array(markdown.utf8)))
        return try files.map { name, bytes in
            let url = directory.appendingPathComponent(name)
            try AtomicFile.write(bytes, to: url)
            return url
        }
    }

    // MARK: Confusion matrix

    /// The confusion matrix with a header row and column of digits: row `label`, column `prediction`.
    public var confusionCSV: String {
        let digits = 0..<evaluation.classCount
        var lines = ["true\\predicted," + digits.map(String.init).joined(separator: ",")]
        for digit in digits {
            lines.append("\(digit)," + evaluation.confusion[digit].map(String.init).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Side of one confusion-matrix cell in `confusionImage`, in pixels.
    static let confusionCellSide = 32

    /// The confusion matrix as a heat map: rows are true digits, columns predictions, darker for more
    /// images on a logarithmic scale (so a handful of mistakes still shows beside a thousand correct
    /// answers), each non-zero count written in its cell, the diagonal framed in black.
    public func confusionImage() -> GrayscaleImage {
        let classCount = evaluation.classCount
        let cell = Self.confusionCellSide
        let labelScale = 2
        let glyphWidth = BitmapFont.glyphWidth * labelScale
        let glyphHeight = BitmapFont.glyphHeight * labelScale
        let margin = 8
        let gap = 8
        let gridLeft = margin + glyphWidth + gap + glyphWidth + gap
        let gridTop = margin + glyphHeight + gap + glyphHeight + gap
        let gridSide = classCount * cell + 1
        var image = GrayscaleImage(width: gridLeft + gridSide + margin, height: gridTop + gridSide + margin)

        // Axis titles: "PREDICTED" across the top, "TRUE" down the left, one letter under the other.
        let predicted = "PREDICTED"
        image.drawText(
            predicted, x: gridLeft + (gridSide - BitmapFont.width(of: predicted, scale: labelScale)) / 2,
            y: margin, scale: labelScale, value: 0)
        let trueTitle = Array("TRUE")
        let titleHeight = trueTitle.count * (glyphHeight + gap) - gap
        for (position, letter) in trueTitle.enumerated() {
            image.drawText(
                String(letter), x: margin, y: gridTop + (gridSide - titleHeight) / 2 + position * (glyphHeight + gap),
                scale: labelScale, value: 0)
        }

        let largest = evaluation.confusion.joined().max() ?? 0
        image.fillRectangle(x: gridLeft, y: gridTop, width: gridSide, height: gridSide, value: 190)
        for row in 0..<classCount {
            let top = gridTop + row * cell
            image.drawText(
                String(row), x: margin + glyphWidth + gap, y: top + (cell - glyphHeight) / 2, scale: labelScale,
                value: 0)
            for column in 0..<classCount {
                let left = gridLeft + column * cell
                if row == 0 {
                    image.drawText(
                        String(column), x: left + (cell - glyphWidth) / 2, y: gridTop - gap - glyphHeight,
                        scale: labelScale, value: 0)
                }
                let count = evaluation.confusion[row][column]
                let shade =
                    count == 0 ? 255 : UInt8(235 - (215 * log(1 + Double(count)) / log(1 + Double(largest))).rounded())
                image.fillRectangle(x: left + 1, y: top + 1, width: cell - 1, height: cell - 1, value: shade)
                if row == column {
                    image.strokeRectangle(x: left, y: top, width: cell + 1, height: cell + 1, thickness: 2, value: 0)
                }
                if count > 0 {
                    let text = String(count)
                    image.drawText(
                        text, x: left + 1 + (cell - 1 - BitmapFont.width(of: text)) / 2,
                        y: top + 1 + (cell - 1 - BitmapFont.glyphHeight) / 2, value: shade < 128 ? 255 : 0)
                }
            }
        }
        return image
    }

    // MARK: Mistakes

    /// Every mistake, most confident first, after a header line: index in the test set, true label,
    /// prediction, and the probability the model gave the prediction.
    public var mistakesCSV: String {
        (["index,label,prediction,probability"]
            + mistakes.map { "\($0.index),\($0.label),\($0.prediction),\(String(format: "%.6f", $0.probability))" })
            .joined(separator: "\n") + "\n"
    }

    /// The caption under a mistake's tile: true label, arrow, prediction, and the probability in whole
    /// percent rounded down (so a wrong answer never reads as 100%), e.g. "7→1 98%".
    public static func caption(of outcome: ImageOutcome) -> String {
        "\(outcome.label)→\(outcome.prediction) \(Int(outcome.probability * 100))%"
    }

    /// Scale of the digits in `mistakesImage`.
    static let mistakeDigitScale = 3
    /// Scale of the captions in `mistakesImage`.
    static let mistakeCaptionScale = 2
    /// Tiles per row in `mistakesImage`.
    static let mistakeColumns = 10

    /// The first `mistakeTileCount` of `mistakes` as a grid on white, ten to a row, each digit drawn at
    /// three times its size with its caption underneath; nil when there are none.
    public func mistakesImage() -> GrayscaleImage? {
        let shown = mistakes.prefix(mistakeTileCount)
        guard !shown.isEmpty else { return nil }
        let scale = Self.mistakeDigitScale
        let margin = 8
        let gap = 8
        let captionGap = 3
        let tileWidth = testSet.columns * scale
        let captionScale = Self.mistakeCaptionScale
        let tileHeight = testSet.rows * scale + captionGap + BitmapFont.glyphHeight * captionScale
        let columns = min(Self.mistakeColumns, shown.count)
        let rows = (shown.count + Self.mistakeColumns - 1) / Self.mistakeColumns
        var image = GrayscaleImage(
            width: 2 * margin + columns * tileWidth + (columns - 1) * gap,
            height: 2 * margin + rows * tileHeight + (rows - 1) * gap)
        for (position, outcome) in shown.enumerated() {
            let left = margin + (position % Self.mistakeColumns) * (tileWidth + gap)
            let top = margin + (position / Self.mistakeColumns) * (tileHeight + gap)
            image.drawPixels(
                testSet.pixels(at: outcome.index), width: testSet.columns, height: testSet.rows,
                x: left, y: top, scale: scale)
            let caption = Self.caption(of: outcome)
            image.drawText(
                caption, x: left + (tileWidth - BitmapFont.width(of: caption, scale: captionScale)) / 2,
                y: top + testSet.rows * scale + captionGap, scale: captionScale, value: 0)
        }
        return image
    }

    // MARK: Learning curves

    /// The training run's learning curves as a standalone SVG: training loss per epoch on the left, test
    /// and training accuracy per epoch on the right, each with axes, ticks, labels and a legend. Each
    /// series is a `<g class="series" id="…">` holding a polyline and one circle per epoch. Nil when the
    /// history is empty.
    public func learningCurvesSVG() -> String? {
        guard !history.isEmpty else { return nil }
        let epochs = history.map { Double($0.epoch) }
        let panelWidth = 480.0
        let height = 360.0
        var svg = SVGDrawing(width: 2 * panelWidth, height: height)
        svg.panel(
            left: 0, width: panelWidth, height: height, title: "Training loss", yLabel: "mean cross-entropy",
            x: epochs,
            series: [
                .init(
                    id: "training-loss", name: "training loss", color: "#1f77b4", dashed: false,
                    values: history.map(\.trainingLoss))
            ],
            yFloor: 0, yCeiling: nil, legendAtTop: true)
        svg.panel(
            left: panelWidth, width: panelWidth, height: height, title: "Accuracy", yLabel: "accuracy (%)",
            x: epochs,
            series: [
                .init(
                    id: "test-accuracy", name: "test", color: "#d62728", dashed: false,
                    values: history.map { $0.testAccuracy * 100 }),
                .init(
                    id: "training-accuracy", name: "training", color: "#2ca02c", dashed: true,
                    values: history.map { $0.trainingAccuracy * 100 }),
            ],
            yFloor: nil, yCeiling: 100, legendAtTop: false)
        return svg.document
    }

    // MARK: Summary

    /// The Markdown summary: accuracy, per-class precision and recall, and the other files, linked.
    public var markdown: String {
        func percent(_ value: Double?) -> String { value.map(formatPercent) ?? "–" }
        let mistakeCount = evaluation.total - evaluation.correct
        var lines = [
            "# MNIST evaluation: \(modelName)",
            "",
            "- Weights: `\(weightsPath)`",
            "- Test images: \(evaluation.total)",
            "- Accuracy: **\(formatPercent(evaluation.accuracy))** (\(evaluation.correct)/\(evaluation.total) correct, \(mistakeCount) mistakes)",
            "",
            "## Precision and recall per digit",
            "",
            "| digit | precision | recall | images |",
            "|---:|---:|---:|---:|",
        ]
        for digit in 0..<evaluation.classCount {
            lines.append(
                "| \(digit) | \(percent(evaluation.precision(of: digit))) | \(percent(evaluation.recall(of: digit))) | \(evaluation.confusion[digit].reduce(0, +)) |"
            )
        }
        lines += [
            "",
            "## Confusion matrix",
            "",
            "Rows are the true digits, columns the predictions; darker cells hold more images (on a logarithmic scale), "
                + "the diagonal (correct answers) is framed. Counts: [confusion.csv](confusion.csv).",
            "",
            "![Confusion matrix](confusion.png)",
            "",
            "## Most confident mistakes",
            "",
        ]
        if mistakeCount == 0 {
            lines.append(
                "The model got every test image right, so there is no mistakes.png; [mistakes.csv](mistakes.csv) is empty."
            )
        } else {
            lines += [
                "The \(min(mistakeTileCount, mistakeCount)) wrongly classified test images the model was surest of, most confident first, "
                    + "each captioned *true digit → prediction, probability of the prediction*. "
                    + "All \(mistakeCount) mistakes, in the same order: [mistakes.csv](mistakes.csv) "
                    + "(index in the test set, label, prediction, probability).",
                "",
                "![Most confident mistakes](mistakes.png)",
            ]
        }
        lines += ["", "## Learning curves", ""]
        if let last = history.last {
            lines += [
                "From `\(metricsPath ?? "the training metrics")`: \(history.count) epochs; after the last, test accuracy "
                    + "\(formatPercent(last.testAccuracy)), training accuracy \(formatPercent(last.trainingAccuracy)), "
                    + "training loss \(String(format: "%.4f", last.trainingLoss)).",
                "",
                "![Learning curves](curves.svg)",
            ]
        } else {
            lines.append("No training metrics were found, so there are no learning curves.")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A hand-written SVG document of line charts, for `EvaluationReport.learningCurvesSVG`.
struct SVGDrawing {
    /// One line of a chart.
    struct Series {
        let id: String
        let name: String
        let color: String
        let dashed: Bool
        let values: [Double]
    }

    let width: Double
    let height: Double
    private var elements: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    var document: String {
        ([
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(format(width))\" height=\"\(format(height))\" "
                + "viewBox=\"0 0 \(format(width)) \(format(height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
        ]
            + elements + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    /// A chart in the `width × height` panel whose left edge is at `left`: a title, axes with ticks and
    /// labels, the series against `x`, and a legend in the top or bottom right corner, wherever the curves
    /// leave room (falling loss: top; rising accuracy: bottom). The y axis spans the values, widened to
    /// nice ticks, starting no higher than `yFloor` and ending no lower than `yCeiling` where given.
    mutating func panel(
        left: Double, width: Double, height: Double, title: String, yLabel: String,
        x: [Double], series: [Series], yFloor: Double?, yCeiling: Double?, legendAtTop: Bool
    ) {
        let plotLeft = left + 70, plotRight = left + width - 20, plotTop = 40.0, plotBottom = height - 55
        // The first and last epochs sit a little inside the plot, off the axes.
        let inset = 12.0
        let values = series.flatMap(\.values)
        let xAxis = Self.niceAxis(lower: x.min()!, upper: x.max()!, targetTicks: 8, integral: true)
        let yAxis = Self.niceAxis(
            lower: min(values.min()!, yFloor ?? .infinity), upper: max(values.max()!, yCeiling ?? -.infinity),
            targetTicks: 5, integral: false)
        func xPosition(_ value: Double) -> Double {
            plotLeft + inset + (value - xAxis.lower) / (xAxis.upper - xAxis.lower) * (plotRight - plotLeft - 2 * inset)
        }
        func yPosition(_ value: Double) -> Double {
            plotBottom - (value - yAxis.lower) / (yAxis.upper - yAxis.lower) * (plotBottom - plotTop)
        }

        elements.append(
            "<text x=\"\(format((plotLeft + plotRight) / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>"
        )
        for tick in xAxis.ticks {
            let position = format(xPosition(tick))
            elements.append(
                "<line x1=\"\(position)\" y1=\"\(format(plotTop))\" x2=\"\(position)\" y2=\"\(format(plotBottom + 5))\" stroke=\"#e0e0e0\"/>"
            )
            elements.append(
                "<text x=\"\(position)\" y=\"\(format(plotBottom + 19))\" text-anchor=\"middle\">\(format(tick, decimals: xAxis.decimals))</text>"
            )
        }
        for tick in yAxis.ticks {
            let position = format(yPosition(tick))
            elements.append(
                "<line x1=\"\(format(plotLeft - 5))\" y1=\"\(position)\" x2=\"\(format(plotRight))\" y2=\"\(position)\" stroke=\"#e0e0e0\"/>"
            )
            elements.append(
                "<text x=\"\(format(plotLeft - 8))\" y=\"\(position)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(format(tick, decimals: yAxis.decimals))</text>"
            )
        }
        elements.append(
            "<polyline points=\"\(format(plotLeft)),\(format(plotTop)) \(format(plotLeft)),\(format(plotBottom)) \(format(plotRight)),\(format(plotBottom))\" fill=\"none\" stroke=\"black\"/>"
        )
        elements.append(
            "<text x=\"\(format((plotLeft + plotRight) / 2))\" y=\"\(format(height - 12))\" text-anchor=\"middle\">epoch</text>"
        )
        let yLabelX = format(left + 18), yLabelY = format((plotTop + plotBottom) / 2)
        elements.append(
            "<text x=\"\(yLabelX)\" y=\"\(yLabelY)\" text-anchor=\"middle\" transform=\"rotate(-90 \(yLabelX) \(yLabelY))\">\(escape(yLabel))</text>"
        )

        for line in series {
            let points = zip(x, line.values).map { "\(format(xPosition($0))),\(format(yPosition($1)))" }
            elements.append(
                "<g class=\"series\" id=\"\(escape(line.id))\" stroke=\"\(line.color)\" fill=\"\(line.color)\">")
            elements.append("<title>\(escape(line.name))</title>")
            elements.append(
                "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke-width=\"2\"\(line.dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            )
            for point in zip(x, line.values) {
                elements.append(
                    "<circle cx=\"\(format(xPosition(point.0)))\" cy=\"\(format(yPosition(point.1)))\" r=\"3\"/>")
            }
            elements.append("</g>")
        }

        let rowHeight = 18.0
        let legendWidth = 130.0
        let legendHeight = Double(series.count) * rowHeight + 8
        let legendLeft = plotRight - legendWidth - 8,
            legendTop = legendAtTop ? plotTop + 8 : plotBottom - legendHeight - 8
        elements.append("<g class=\"legend\">")
        elements.append(
            "<rect x=\"\(format(legendLeft))\" y=\"\(format(legendTop))\" width=\"\(format(legendWidth))\" height=\"\(format(legendHeight))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999999\"/>"
        )
        for (row, line) in series.enumerated() {
            let y = legendTop + 4 + rowHeight * (Double(row) + 0.5)
            elements.append(
                "<line x1=\"\(format(legendLeft + 8))\" y1=\"\(format(y))\" x2=\"\(format(legendLeft + 36))\" y2=\"\(format(y))\" stroke=\"\(line.color)\" stroke-width=\"2\"\(line.dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            )
            elements.append(
                "<text x=\"\(format(legendLeft + 44))\" y=\"\(format(y))\" dominant-baseline=\"middle\">\(escape(line.name))</text>"
            )
        }
        elements.append("</g>")
    }

    /// An axis from `lower` to `upper` widened to multiples of a 1, 2 or 5 × 10ⁿ step giving about
    /// `targetTicks` ticks (a step of at least 1 when `integral`), with the decimals its labels need.
    static func niceAxis(
        lower: Double, upper: Double, targetTicks: Int, integral: Bool
    )
        -> (lower: Double, upper: Double, ticks: [Double], decimals: Int)
    {
        var lower = lower, upper = upper
        if upper - lower <= 0 {
            let pad = integral ? 1 : max(abs(lower) * 0.05, 0.01)
            lower -= pad
            upper += pad
        }
        let rough = (upper - lower) / Double(targetTicks)
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let fraction = rough / magnitude
        var step = (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * magnitude
        if integral { step = max(step, 1) }
        let first = (lower / step).rounded(.down), last = (upper / step).rounded(.up)
        let ticks = stride(from: first, through: last, by: 1).map { $0 * step }
        return (first * step, last * step, ticks, max(0, Int(-log10(step).rounded(.down))))
    }

    private func format(_ value: Double, decimals: Int = 1) -> String {
        String(format: "%.\(decimals)f", value)
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
