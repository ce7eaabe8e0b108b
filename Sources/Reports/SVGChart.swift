import Foundation

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
        // A range too narrow for its values' precision (a flat curve, or a denormal such as 5e-324 above 0,
        // whose tenth is 0 and whose step would be NaN) is widened like an empty one.
        if !(upper - lower > 1e-9 * max(1, abs(lower), abs(upper))) {
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
