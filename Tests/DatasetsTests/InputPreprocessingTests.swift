import Foundation
import Kernels
import TestSupport
import Testing

@testable import Datasets

/// Preprocessing a dataset (`train --deskew`, `--ink-width`): each image is the per-image function's output
/// as bytes, labels and shape are kept, the real digits' slant is mostly gone after deskewing and their ink
/// has the asked width after width normalisation, and the settings survive a weights file's metadata.
@Suite struct InputPreprocessingTests {
    /// The slope of image `index`'s ink (`inkSlant`).
    static func slant(_ dataset: MNISTDataset, _ index: Int) -> Double {
        inkSlant(dataset.pixels(at: index).map(Double.init), columns: dataset.columns)
    }

    /// The first and last columns of image `index` holding a pixel of at least half the full level: where a
    /// digit's strokes are, without the faint edges resampling spreads.
    static func inkColumns(_ dataset: MNISTDataset, _ index: Int) -> ClosedRange<Int> {
        let pixels = Array(dataset.pixels(at: index))
        let columns = pixels.indices.filter { pixels[$0] >= 128 }.map { $0 % dataset.columns }
        return columns.min()!...columns.max()!
    }

    /// The mean and standard deviation of `values`.
    static func meanAndDeviation(_ values: [Int]) -> (mean: Double, deviation: Double) {
        let mean = Double(values.reduce(0, +)) / Double(values.count)
        let variance = values.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
        return (mean, variance.squareRoot())
    }

    static let settings: [InputPreprocessing] = [
        InputPreprocessing(deskew: true), InputPreprocessing(inkWidth: 16),
        InputPreprocessing(deskew: true, inkWidth: 12),
    ]

    /// A second implementation as the oracle: the first 100 test images preprocessed by
    /// scripts/input_preprocessing.py (numpy, vectorised, float64; Fixtures/README.md). Swift computes in
    /// float32, so a value that lands within rounding error of a half level may round the other way: every
    /// pixel is within one level of numpy's and at most 0.1% of them differ at all (1 of 78,400 did when the
    /// fixture was made).
    @Test(arguments: [
        ("deskewed", InputPreprocessing(deskew: true)), ("ink-width-16", InputPreprocessing(inkWidth: 16)),
        ("deskewed-ink-width-16", InputPreprocessing(deskew: true, inkWidth: 16)),
    ])
    func theImagesMatchNumpysPreprocessing(name: String, preprocessing: InputPreprocessing) throws {
        let url = try #require(
            Bundle.module.url(
                forResource: "test-first-100-\(name)", withExtension: "idx3-ubyte", subdirectory: "Fixtures"))
        let expected = try IDXFile(contentsOf: url, dimensionCount: 3)
        #expect(expected.dimensions == [100, 28, 28])
        let swift = preprocessing.apply(to: try Bundled.test.get().prefix(100)).images
        try #require(swift.count == expected.data.count)
        let differences = zip(swift, expected.data).map { abs(Int($0) - Int($1)) }
        let differing = differences.filter { $0 != 0 }.count
        #expect(differences.max() ?? 0 <= 1, "largest difference \(differences.max() ?? 0) levels")
        #expect(differing * 1000 <= swift.count, "\(differing) of \(swift.count) pixels differ")
    }

    @Test(arguments: settings)
    func aPreprocessedDatasetIsEachImagePreprocessedWithTheSameLabels(preprocessing: InputPreprocessing) throws {
        let test = try Bundled.test.get().prefix(200)
        let preprocessed = preprocessing.apply(to: test)
        #expect(preprocessed.labels == test.labels)
        #expect((preprocessed.rows, preprocessed.columns, preprocessed.imageCount) == (28, 28, 200))
        #expect(preprocessed.images != test.images)
        for index in 0..<test.imageCount {
            let expected = preprocessing.apply(to: test.pixels(at: index).map(Float.init), rows: 28, columns: 28)
            #expect(preprocessed.pixels(at: index).map(Float.init) == expected, "image \(index)")
            // Whole levels in, whole levels out: the function's values are the bytes it rounds to.
            #expect(expected.allSatisfy { $0 == $0.rounded() && (0...255).contains($0) })
        }
    }

    @Test func deskewingTakesMostOfTheSlantAwayAndKeepsTheInk() throws {
        let test = try Bundled.test.get().prefix(300)
        let deskewed = InputPreprocessing(deskew: true).apply(to: test)
        // Written digits lean; deskewed, the mean absolute slant over these 300 is a small part of what it was.
        let before = (0..<300).map { abs(Self.slant(test, $0)) }.reduce(0, +) / 300
        let after = (0..<300).map { abs(Self.slant(deskewed, $0)) }.reduce(0, +) / 300
        #expect(before > 0.1 && after < 0.2 * before, "mean |slant| \(before) → \(after)")
        let inkBefore = test.images.map(Int.init).reduce(0, +)
        let inkAfter = deskewed.images.map(Int.init).reduce(0, +)
        #expect(abs(Double(inkAfter - inkBefore)) < 0.02 * Double(inkBefore), "ink \(inkBefore) → \(inkAfter)")
    }

    @Test(arguments: [10, 16, 20])
    func widthNormalisationGivesEveryDigitTheAskedWidthInTheMiddle(width: Int) throws {
        let test = try Bundled.test.get().prefix(300)
        let normalized = InputPreprocessing(inkWidth: width).apply(to: test)
        // The digits had many widths (a 1 is narrow, a 0 wide); afterwards their strokes span a little under
        // `width` columns, far more alike, and centred on the middle column. Not exactly `width` alike: the
        // normalisation spans all ink, faint edges included, and this measure only strokes of half the full
        // level, whose margin inside the faint edges differs from digit to digit (the kernel's own test checks
        // the exact span on ink of one level).
        let before = Self.meanAndDeviation((0..<300).map { Self.inkColumns(test, $0).count })
        let after = Self.meanAndDeviation((0..<300).map { Self.inkColumns(normalized, $0).count })
        #expect(before.deviation > 3 && after.deviation < 0.4 * before.deviation, "\(before) → \(after)")
        #expect(after.mean > Double(width) - 3 && after.mean <= Double(width), "\(before) → \(after)")
        for index in 0..<300 {
            let columns = Self.inkColumns(normalized, index)
            #expect(abs(Double(columns.lowerBound + columns.upperBound) / 2 - 13.5) <= 1.5, "image \(index)")
        }
    }

    @Test func theSettingsSurviveAWeightsFilesMetadataAndBadValuesAreNamed() throws {
        for preprocessing in Self.settings + [.none] {
            #expect(try InputPreprocessing(metadata: preprocessing.metadata) == preprocessing)
        }
        #expect(try InputPreprocessing(metadata: [:]) == .none)
        #expect(try InputPreprocessing(metadata: ["normalize": "true", "model": "vgg"]).isNone)
        #expect(InputPreprocessing(deskew: true, inkWidth: 16).metadata == ["deskew": "true", "ink_width": "16"])
        #expect(throws: InputPreprocessingError("its metadata's deskew is 'yes' (expected true or false)")) {
            try InputPreprocessing(metadata: ["deskew": "yes"])
        }
        for bad in ["0", "29", "-3", "16.5", ""] {
            #expect(
                throws: InputPreprocessingError(
                    "its metadata's ink_width is '\(bad)' (expected a whole number of pixels, 1 to 28)")
            ) { try InputPreprocessing(metadata: ["ink_width": bad]) }
        }
    }

    /// A width the image cannot take stops the program at `apply`, naming it (`inkWidth` is a `var`, so the
    /// check is where it is used): 0 would scale by infinity, a negative width mirror the digit.
    @Test func anInkWidthOutsideTheImageStopsTheProgram() async {
        for width in [0, -3, 29] {
            let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
                [width = width as Int] in
                let preprocessing = InputPreprocessing(deskew: true, inkWidth: width)
                _ = preprocessing.apply(to: [Float](repeating: 255, count: 784), rows: 28, columns: 28)
            }
            let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
            #expect(
                message.contains("inkWidth must be 1 to 28 pixels for images 28 pixels wide, got \(width)"),
                "\(message)")
        }
    }

    @Test func nothingToDoLeavesImagesAsTheyAreAndAnEmptyDatasetStaysEmpty() throws {
        let test = try Bundled.test.get().prefix(20)
        #expect(InputPreprocessing.none.apply(to: test).images == test.images)
        let image = test.pixels(at: 3).map(Float.init)
        #expect(InputPreprocessing.none.apply(to: image, rows: 28, columns: 28) == image)
        let empty = MNISTDataset(images: [], labels: [], rows: 28, columns: 28)
        #expect(InputPreprocessing(deskew: true, inkWidth: 16).apply(to: empty).imageCount == 0)
    }
}
