import Testing

@testable import Datasets

@Suite struct RenderingTests {
    /// Four 2×3 images whose pixels are 10 × image index + pixel index.
    let dataset = MNISTDataset(
        images: (0..<4).flatMap { image in (0..<6).map { UInt8(10 * image + $0) } }, labels: [3, 1, 4, 1],
        rows: 2, columns: 3)

    @Test func drawsASampleAsText() throws {
        let art = try Bundled.train.get().asciiArt(at: 0)
        let lines = art.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 28)
        #expect(lines.allSatisfy { $0.count == 56 })
        #expect(lines.first!.allSatisfy { $0 == " " })
        #expect(art.contains("@"))
    }

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

    @Test func aGridOfBundledSamplesMakesAPNG() throws {
        let train = try Bundled.train.get()
        let grid = train.sampleGrid(indices: Array(0..<10), columns: 5)
        #expect((grid.width, grid.height) == (5 * 28 + 4 * 2, 2 * 28 + 2))
        let png = PNGWriter.encodeGrayscale(width: grid.width, height: grid.height, pixels: grid.pixels)
        #expect(png.count > 100 && png.count < grid.pixels.count)
    }

    @Test func drawsAnImageTwoCharactersPerPixel() {
        #expect(dataset.asciiArt(at: 3) == "......\n......\n")
        let ramp = MNISTDataset(images: (0..<10).map { UInt8($0 * 28) }, labels: [0], rows: 1, columns: 10)
        #expect(ramp.asciiArt(at: 0) == "  ..::--==++**##%%@@\n")
    }
}
