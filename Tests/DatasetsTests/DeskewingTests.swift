import Kernels
import Testing

@testable import Datasets

/// Deskewing a dataset (`train --deskew`): each image is the per-image function's output as bytes, labels
/// and shape are kept, and the real digits' slant is mostly gone.
@Suite struct DeskewingTests {
    /// μ₁₁ / μ₀₂ of image `index`'s ink: the slope of its columns against its rows.
    static func slant(_ dataset: MNISTDataset, _ index: Int) -> Double {
        let pixels = dataset.pixels(at: index).map(Double.init)
        let columns = dataset.columns
        let total = pixels.reduce(0, +)
        let meanX = pixels.indices.reduce(0) { $0 + pixels[$1] * Double($1 % columns) } / total
        let meanY = pixels.indices.reduce(0) { $0 + pixels[$1] * Double($1 / columns) } / total
        var (covariance, rowVariance) = (0.0, 0.0)
        for index in pixels.indices {
            let (dx, dy) = (Double(index % columns) - meanX, Double(index / columns) - meanY)
            covariance += pixels[index] * dx * dy
            rowVariance += pixels[index] * dy * dy
        }
        return covariance / rowVariance
    }

    @Test func aDeskewedDatasetIsEachImageDeskewedWithTheSameLabels() throws {
        let test = try Bundled.test.get().prefix(300)
        let deskewed = test.deskewed()
        #expect(deskewed.labels == test.labels)
        #expect((deskewed.rows, deskewed.columns, deskewed.imageCount) == (28, 28, 300))
        for index in 0..<test.imageCount {
            let expected = Deskewing.deskewed(test.pixels(at: index).map(Float.init), rows: 28, columns: 28)
            #expect(deskewed.pixels(at: index).map(Float.init) == expected, "image \(index)")
        }
        // Whole levels in, whole levels out: the function's values are the bytes it rounds to.
        let first = Deskewing.deskewed(test.pixels(at: 0).map(Float.init), rows: 28, columns: 28)
        #expect(first.allSatisfy { $0 == $0.rounded() && (0...255).contains($0) })

        // Written digits lean (test image 0, a 7, by about a fifth of a pixel a row); deskewed, the mean
        // absolute slant over these 300 is a small part of what it was, and the ink about the same.
        let before = (0..<300).map { abs(Self.slant(test, $0)) }.reduce(0, +) / 300
        let after = (0..<300).map { abs(Self.slant(deskewed, $0)) }.reduce(0, +) / 300
        #expect(before > 0.1 && after < 0.2 * before, "mean |slant| \(before) → \(after)")
        #expect(deskewed.images != test.images)
        let (inkBefore, inkAfter) = (test.images.map(Int.init).reduce(0, +), deskewed.images.map(Int.init).reduce(0, +))
        #expect(abs(Double(inkAfter - inkBefore)) < 0.02 * Double(inkBefore), "ink \(inkBefore) → \(inkAfter)")
    }

    @Test func anEmptyDatasetStaysEmpty() {
        let empty = MNISTDataset(images: [], labels: [], rows: 28, columns: 28)
        #expect(empty.deskewed().imageCount == 0)
    }
}
