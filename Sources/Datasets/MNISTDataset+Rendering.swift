/// Samples drawn with characters, for looking at the data in a terminal (a grid of them as a PNG: the
/// Reports module's `sampleGrid`).
extension MNISTDataset {
    /// Image `index` drawn with the characters ` .:-=+*#%@` from dark to bright, one line per pixel row and
    /// two characters per pixel so the digit keeps its proportions in a terminal. Lines end with "\n".
    public func asciiArt(at index: Int) -> String {
        let ramp = Array(" .:-=+*#%@")
        let image = pixels(at: index)
        var text = ""
        for row in 0..<rows {
            for column in 0..<columns {
                let character = ramp[Int(image[image.startIndex + row * columns + column]) * ramp.count / 256]
                text.append(character)
                text.append(character)
            }
            text.append("\n")
        }
        return text
    }
}
