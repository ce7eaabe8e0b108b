/// Pictures of samples, for looking at the data: a grid for a PNG, or characters for a terminal.
extension MNISTDataset {
    /// The gray of the gaps between tiles in `sampleGrid`, so tiles stand apart from their black background.
    public static let gridGapValue: UInt8 = 128

    /// The images at `indices` tiled left to right, top to bottom, `columns` per row, with `gap` pixels of
    /// mid-gray between tiles (cells of an unfilled last row stay gray). Pass the result to
    /// `PNGWriter.encodeGrayscale`.
    public func sampleGrid(indices: [Int], columns: Int, gap: Int = 2) -> (width: Int, height: Int, pixels: [UInt8]) {
        precondition(!indices.isEmpty && columns > 0 && gap >= 0, "need samples, columns > 0 and gap >= 0")
        let gridRows = (indices.count + columns - 1) / columns
        let gridColumns = Swift.min(columns, indices.count)
        let width = gridColumns * self.columns + (gridColumns - 1) * gap
        let height = gridRows * rows + (gridRows - 1) * gap
        var pixels = [UInt8](repeating: Self.gridGapValue, count: width * height)
        for (position, index) in indices.enumerated() {
            let image = self.pixels(at: index)
            let left = (position % columns) * (self.columns + gap)
            let top = (position / columns) * (rows + gap)
            for row in 0..<rows {
                let source = image.startIndex + row * self.columns
                let target = (top + row) * width + left
                pixels[target..<(target + self.columns)] = image[source..<(source + self.columns)]
            }
        }
        return (width, height, pixels)
    }

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
