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
        let gridRows = (indices.count + columns - 1) / columns
        let gridColumns = Swift.min(columns, indices.count)
        var grid = GrayImage(
            width: gridColumns * self.columns + (gridColumns - 1) * gap, height: gridRows * rows + (gridRows - 1) * gap,
            filledWith: Self.gridGapValue)
        for (position, index) in indices.enumerated() {
            grid.drawPixels(
                pixels(at: index), width: self.columns, height: rows, x: (position % columns) * (self.columns + gap),
                y: (position / columns) * (rows + gap))
        }
        return grid
    }
}
