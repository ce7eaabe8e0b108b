import Preconditions

/// Draws small images in a terminal with characters, for a look at what a model sees.
public enum TerminalRendering {
    /// The characters from no ink to full ink.
    public static let ramp = Array(" .:-=+*#%@")

    /// `values` (row-major, `width` a row, 0 background to 255 ink) as text in a frame, two characters per
    /// pixel so the image keeps its proportions. Every line ends with "\n".
    public static func render(_ values: [Float], width: Int = 28) -> String {
        checkPrecondition(width > 0 && values.count % width == 0, "\(values.count) values do not make rows of \(width)")
        let border = "+" + String(repeating: "-", count: 2 * width) + "+\n"
        var text = border
        for row in 0..<(values.count / width) {
            text.append("|")
            for column in 0..<width {
                let level = min(255, max(0, values[row * width + column]))
                let character = ramp[min(ramp.count - 1, Int(level) * ramp.count / 256)]
                text.append(character)
                text.append(character)
            }
            text.append("|\n")
        }
        return text + border
    }
}
