import Foundation
import Imaging
import MNIST

/// The report's pictures: the confusion matrix as a heat map, the most confident mistakes as a grid.
extension EvaluationReport {
    /// Side of one confusion-matrix cell in `confusionImage`, in pixels.
    static let confusionCellSide = 32

    /// The confusion matrix as a heat map: rows are true digits, columns predictions, darker for more
    /// images on a logarithmic scale (so a handful of mistakes still shows beside a thousand correct
    /// answers), each non-zero count written in its cell, the diagonal framed in black.
    public func confusionImage() -> GrayImage {
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
        var image = GrayImage(width: gridLeft + gridSide + margin, height: gridTop + gridSide + margin)

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

    /// The caption under a mistake's tile: true label, arrow, prediction, and the probability in whole
    /// percent rounded down (so a wrong answer never reads as 100%), e.g. "7→1 98%"; without a probability,
    /// "7→1" (also for a probability that is not a finite number).
    public static func caption(of outcome: ImageOutcome) -> String {
        let percent = outcome.probability.flatMap { Int(exactly: ($0 * 100).rounded(.down)) }
        return "\(outcome.label)→\(outcome.prediction)" + (percent.map { " \($0)%" } ?? "")
    }

    /// Scale of the digits in `mistakesImage`.
    static let mistakeDigitScale = 3
    /// Scale of the captions in `mistakesImage`.
    static let mistakeCaptionScale = 2
    /// Tiles per row in `mistakesImage`.
    static let mistakeColumns = 10

    /// The first `mistakeTileCount` of `mistakes` as a grid on white, ten to a row, each digit drawn at
    /// three times its size with its caption underneath; nil when there are none.
    public func mistakesImage() -> GrayImage? {
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
        var image = GrayImage(
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
}
