import Imaging
import MNIST
import Testing

@testable import Reports

/// `mnist data --png`: samples tiled into one picture.
@Suite struct SampleGridTests {
    /// Four 2×3 images whose pixels are 10 × image index + pixel index.
    let dataset = MNISTDataset(
        images: (0..<4).flatMap { image in (0..<6).map { UInt8(10 * image + $0) } }, labels: [3, 1, 4, 1],
        rows: 2, columns: 3)

    @Test func tilesSamplesIntoAGrid() {
        let grid = dataset.sampleGrid(indices: [0, 3, 1], columns: 2, gap: 1)
        // Two tiles of 3 columns and a gap across; two tiles of 2 rows and a gap down.
        #expect((grid.width, grid.height) == (7, 5))
        let gray = MNISTDataset.gridGapValue
        #expect(
            grid.pixels == [
                0, 1, 2, gray, 30, 31, 32,
                3, 4, 5, gray, 33, 34, 35,
                gray, gray, gray, gray, gray, gray, gray,
                10, 11, 12, gray, gray, gray, gray,
                13, 14, 15, gray, gray, gray, gray,
            ])
    }

    @Test func aGridOfBundledSamplesMakesAPNGThatDecodesToIt() throws {
        let test = try MNISTDataset.load(directory: try #require(MNISTDataset.defaultDirectory()), split: .test)
        let grid = test.sampleGrid(indices: Array(0..<10), columns: 5)
        #expect((grid.width, grid.height) == (5 * 28 + 4 * 2, 2 * 28 + 2))
        let png = PNGEncoder.encode(grid)
        #expect(png.count > 100 && png.count < grid.pixels.count)
        #expect(try PNGDecoder.decode(png) == grid)
    }
}
