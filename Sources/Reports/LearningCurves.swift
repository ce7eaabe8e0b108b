import MNIST

extension EvaluationReport {
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
}
