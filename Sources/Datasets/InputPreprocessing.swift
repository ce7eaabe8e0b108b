import Kernels
import Preconditions

/// What is done to every image before a model sees it, beyond scaling to 0…1 and normalising: deskewing
/// (each digit sheared upright, `AffineWarp.Matrix.deskewing`, as LeCun et al.'s "deskewed" MNIST entries
/// were preprocessed) and width normalisation (each digit's ink stretched or squeezed to a fixed width,
/// `AffineWarp.Matrix.widthNormalizing`, as Cireşan et al. preprocessed MNIST for their committee's
/// columns), in that order. A model trained on preprocessed digits needs the same done to every image it is
/// given, so a weights file says in its metadata (`metadata`), and the commands that read one do it too. Models
/// trained on differently preprocessed digits make different mistakes, which is what a committee needs.
///
/// Each transformed image is resampled bilinearly and rounded to whole grey levels, so a preprocessed
/// dataset is bytes again, and a 28×28 image given as whole levels 0–255 gives exactly the dataset's bytes.
public struct InputPreprocessing: Sendable, Hashable {
    /// Shear every digit upright.
    public var deskew: Bool
    /// Scale every digit horizontally so its ink is this many pixels wide (1…28), after deskewing; nil
    /// leaves widths as they are.
    public var inkWidth: Int?

    /// Deskewing if `deskew`, then width normalisation to `inkWidth` pixels (1…28) when one is given; the defaults
    /// change nothing (`none`).
    public init(deskew: Bool = false, inkWidth: Int? = nil) {
        self.deskew = deskew
        self.inkWidth = inkWidth
    }

    /// Images as they are.
    public static let none = InputPreprocessing()

    /// The metadata keys a weights file keeps these settings under.
    public static let metadataKeys = (deskew: "deskew", inkWidth: "ink_width")

    /// These settings as weights-file metadata: `deskew` ("true" or "false") and, when set, `ink_width`.
    public var metadata: [String: String] {
        var metadata = [Self.metadataKeys.deskew: String(deskew)]
        if let inkWidth { metadata[Self.metadataKeys.inkWidth] = String(inkWidth) }
        return metadata
    }

    /// The settings a weights file's metadata gives: none where it says nothing (files written by PyTorch or
    /// before these settings existed).
    /// - Throws: `InputPreprocessingError` for a value that is not one (deskew other than true or false, a
    ///   width that is not a whole number in 1…28).
    public init(metadata: [String: String]) throws {
        let deskewValue = metadata[Self.metadataKeys.deskew]
        guard deskewValue == nil || deskewValue == "true" || deskewValue == "false" else {
            throw InputPreprocessingError(
                "its metadata's \(Self.metadataKeys.deskew) is '\(deskewValue!)' (expected true or false)")
        }
        var inkWidth: Int?
        if let widthValue = metadata[Self.metadataKeys.inkWidth] {
            guard let value = Int(widthValue), (1...28).contains(value) else {
                throw InputPreprocessingError(
                    "its metadata's \(Self.metadataKeys.inkWidth) is '\(widthValue)' (expected a whole number of pixels, 1 to 28)"
                )
            }
            inkWidth = value
        }
        self.init(deskew: deskewValue == "true", inkWidth: inkWidth)
    }

    /// Whether images pass unchanged.
    public var isNone: Bool { !deskew && inkWidth == nil }

    /// `image` ([rows × columns] row-major, 0 background to 255 ink) preprocessed, each value rounded to a
    /// whole level in 0…255; the image itself when there is nothing to do.
    public func apply(to image: [Float], rows: Int, columns: Int) -> [Float] {
        checkPrecondition(
            image.count == rows * columns, "a \(rows)×\(columns) image has \(rows * columns) pixels, got \(image.count)"
        )
        guard !isNone else { return image }
        checkInkWidth(columns: columns)
        var output = [Float](repeating: 0, count: image.count)
        var scratch = [Float](repeating: 0, count: image.count)
        image.withUnsafeBufferPointer { source in
            apply(source: source.baseAddress!, output: &output, scratch: &scratch, rows: rows, columns: columns)
        }
        return output
    }

    /// `dataset` with every image preprocessed (`apply(to:rows:columns:)`) and the same labels; the images are
    /// split over the cores. The dataset itself when there is nothing to do.
    public func apply(to dataset: MNISTDataset) -> MNISTDataset {
        guard !isNone else { return dataset }
        checkInkWidth(columns: dataset.columns)
        let size = dataset.pixelsPerImage
        let (rows, columns) = (dataset.rows, dataset.columns)
        let images = [UInt8](unsafeUninitializedCapacity: dataset.images.count) { output, initialized in
            let output = output.baseAddress!
            dataset.images.withUnsafeBufferPointer { images in
                Parallel.forEachChunk(of: dataset.imageCount) { indices in
                    var source = [Float](repeating: 0, count: size)
                    var result = [Float](repeating: 0, count: size)
                    var scratch = [Float](repeating: 0, count: size)
                    for index in indices {
                        for offset in 0..<size { source[offset] = Float(images[index * size + offset]) }
                        apply(source: source, output: &result, scratch: &scratch, rows: rows, columns: columns)
                        for offset in 0..<size { output[index * size + offset] = UInt8(result[offset]) }
                    }
                }
            }
            initialized = dataset.images.count
        }
        return MNISTDataset(images: images, labels: dataset.labels, rows: rows, columns: columns)
    }

    /// Stops the program unless `inkWidth` (when set) is 1 to `columns` pixels: 0 would scale by infinity and a
    /// negative width mirror the digit.
    private func checkInkWidth(columns: Int) {
        guard let inkWidth else { return }
        checkPrecondition(
            (1...max(columns, 1)).contains(inkWidth),
            "inkWidth must be 1 to \(columns) pixels for images \(columns) pixels wide, got \(inkWidth)")
    }

    /// output = `source` deskewed (if `deskew`), then width-normalised (if `inkWidth`), rounded to whole levels.
    /// source, output, scratch: [rows, columns], values 0–255, distinct buffers.
    private func apply(
        source: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int
    ) {
        var current = source
        if deskew {
            let matrix = AffineWarp.Matrix.deskewing(source: current, rows: rows, columns: columns)
            AffineWarp.bilinear(source: current, output: scratch, rows: rows, columns: columns, matrix: matrix)
            Self.round(scratch, count: rows * columns)
            current = UnsafePointer(scratch)
        }
        if let inkWidth {
            let matrix = AffineWarp.Matrix.widthNormalizing(
                source: current, rows: rows, columns: columns, width: inkWidth)
            AffineWarp.bilinear(source: current, output: output, rows: rows, columns: columns, matrix: matrix)
            Self.round(output, count: rows * columns)
        } else {
            output.update(from: current, count: rows * columns)
        }
    }

    /// Each value rounded to a whole level in 0…255.
    private static func round(_ values: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0..<count { values[index] = min(max(values[index].rounded(), 0), 255) }
    }
}

/// Why a weights file's preprocessing metadata cannot be used, in a sentence.
public struct InputPreprocessingError: Error, CustomStringConvertible, Equatable {
    /// The reason, phrased to follow the weights file's name: `its metadata's ink_width is '40' (expected …)`.
    public let description: String

    /// An error whose `description` is `description`.
    public init(_ description: String) {
        self.description = description
    }
}
