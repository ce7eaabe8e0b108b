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

    @Test func drawsAnImageTwoCharactersPerPixel() {
        #expect(dataset.asciiArt(at: 3) == "......\n......\n")
        let ramp = MNISTDataset(images: (0..<10).map { UInt8($0 * 28) }, labels: [0], rows: 1, columns: 10)
        #expect(ramp.asciiArt(at: 0) == "  ..::--==++**##%%@@\n")
    }
}
