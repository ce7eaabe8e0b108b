import Imaging
import MNIST
import Preconditions

/// A picture of samples, for looking at the data (`mnist data --png FILE`).
extension MNISTDataset {
    /// The gray of the gaps between tiles in `sampleGrid`, so tiles stand apart from their black background.
    public static let gridGapValue: UInt8 = 128

    /// The images at `indices` tiled left to right, top to bottom, `columns` per row, with `gap` pixels of
    /// mid-gray between tiles (cells of an unfilled last row stay gray). `PNGEncoder.encode` makes it a PNG.
    public func sampleGrid(indices: [Int], columns: Int, gap: Int = 2) -> GrayImage {
        checkPrecondition(!indices.isEmpty && columns > 0 && gap >= 0, "need samples, columns > 0 and gap >= 0")
        let size = sampleGridSize(count: indices.count, columns: columns, gap: gap)
        var grid = GrayImage(width: size.width, height: size.height, filledWith: Self.gridGapValue)
        for (position, index) in indices.enumerated() {
            grid.drawPixels(
                pixels(at: index), width: self.columns, height: rows, x: (position % columns) * (self.columns + gap),
                y: (position / columns) * (rows + gap))
        }
        return grid
    }

    /// The width and height in pixels of `sampleGrid` for `count` (at least 1) of these images, `columns` per row.
    public func sampleGridSize(count: Int, columns: Int, gap: Int = 2) -> (width: Int, height: Int) {
        let gridRows = (count + columns - 1) / columns
        let gridColumns = Swift.min(columns, count)
        return (gridColumns * self.columns + (gridColumns - 1) * gap, gridRows * rows + (gridRows - 1) * gap)
    }
}
