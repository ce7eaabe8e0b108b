import Autograd
import Foundation
import Preconditions

/// The MNIST handwritten digits of one split: grayscale images (white digit on black) and their labels.
///
/// Pixels stay as bytes, one contiguous array for all images, and become Floats only in a batch
/// (`DataLoader`) or a sample (`sampleTensor(at:)`).
public struct MNISTDataset: Sendable {
    /// Which half of MNIST: 60,000 training or 10,000 test images.
    public enum Split: String, CaseIterable, Sendable {
        /// The 60,000 training images (`train-*` files).
        case train
        /// The 10,000 test images (`t10k-*` files).
        case test
    }

    /// The number of classes: the digits 0–9.
    public static let classCount = 10

    /// Every image's pixels, row-major, image after image: `imageCount × rows × columns` bytes.
    public let images: [UInt8]
    /// The digit shown in each image, 0–9.
    public let labels: [UInt8]
    /// The height of each image in pixels (28 for MNIST).
    public let rows: Int
    /// The width of each image in pixels (28 for MNIST).
    public let columns: Int

    /// A dataset of `labels.count` images of `rows × columns` pixels stored one after another in `images`.
    /// Every label must be below `classCount`.
    public init(images: [UInt8], labels: [UInt8], rows: Int, columns: Int) {
        checkPrecondition(rows >= 0 && columns >= 0, "negative image size \(rows)×\(columns)")
        checkPrecondition(
            images.count == labels.count * rows * columns,
            "\(labels.count) images of \(rows)×\(columns) need \(labels.count * rows * columns) bytes, got \(images.count)"
        )
        checkPrecondition(labels.allSatisfy { Int($0) < Self.classCount }, "labels must be below \(Self.classCount)")
        self.images = images
        self.labels = labels
        self.rows = rows
        self.columns = columns
    }

    /// The number of images.
    public var imageCount: Int { labels.count }

    /// The number of pixels in one image.
    public var pixelsPerImage: Int { rows * columns }

    /// The first `count` images and their labels (all of them when there are fewer): a quick subset.
    public func prefix(_ count: Int) -> MNISTDataset {
        let kept = min(max(count, 0), imageCount)
        return MNISTDataset(
            images: Array(images.prefix(kept * pixelsPerImage)), labels: Array(labels.prefix(kept)), rows: rows,
            columns: columns)
    }

    /// Loads `split` from `directory`, reading each file as `<name>.gz` or, failing that, `<name>` (see
    /// `MNISTFile`).
    /// - Throws: `DatasetError` for a missing or malformed file, images and labels of different counts, or a
    ///   label above 9 (naming the labels file and the label's offset).
    public static func load(directory: URL, split: Split) throws -> MNISTDataset {
        let imagesURL = try MNISTFile.images(split).location(in: directory)
        let labelsURL = try MNISTFile.labels(split).location(in: directory)
        let imageFile = try IDXFile(contentsOf: imagesURL, dimensionCount: 3)
        let labelFile = try IDXFile(contentsOf: labelsURL, dimensionCount: 1)
        let labelsName = labelsURL.lastPathComponent
        let (rows, columns) = (imageFile.dimensions[1], imageFile.dimensions[2])
        // Checked even when the file holds no image: the size alone sets buffers' sizes (rows × columns
        // overflows Int for a header of two 2³² − 1 sides, and elastic distortions keep rows² + columns² floats).
        guard (1...Self.maximumSide).contains(rows), (1...Self.maximumSide).contains(columns) else {
            throw DatasetError(
                .imageSizeOutOfRange, file: imagesURL.lastPathComponent, offset: 8,
                detail: "expected rows and columns of 1 to \(Self.maximumSide), found \(rows)×\(columns)")
        }
        guard labelFile.dimensions[0] == imageFile.dimensions[0] else {
            throw DatasetError(
                .countMismatch, file: labelsName, offset: 4,
                detail: "expected \(imageFile.dimensions[0]) labels (one per image in \(imagesURL.lastPathComponent)), "
                    + "found \(labelFile.dimensions[0])")
        }
        if let bad = labelFile.data.firstIndex(where: { Int($0) >= classCount }) {
            throw DatasetError(
                .labelOutOfRange, file: labelsName, offset: 8 + bad,
                detail: "expected a digit 0–9, found \(labelFile.data[bad])")
        }
        return MNISTDataset(images: imageFile.data, labels: labelFile.data, rows: rows, columns: columns)
    }

    /// The largest image side `load(directory:split:)` accepts, far beyond MNIST's 28 pixels.
    public static let maximumSide = 4096

    /// The bundled `data/mnist` directory: `./data/mnist` if the current directory has one, else the
    /// `data/mnist` of the package this source file was built from. Nil when neither exists.
    public static func defaultDirectory() -> URL? {
        let fileManager = FileManager.default
        func isDirectory(_ url: URL) -> Bool {
            var isDirectory: ObjCBool = false
            return fileManager.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        let local = URL(fileURLWithPath: fileManager.currentDirectoryPath).appendingPathComponent("data/mnist")
        if isDirectory(local) { return local.standardizedFileURL }
        // This file is <package>/Sources/Datasets/MNISTDataset.swift; the package root is the nearest
        // ancestor holding Package.swift.
        var ancestor = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while ancestor.path != "/" {
            if fileManager.fileExists(atPath: ancestor.appendingPathComponent("Package.swift").path) {
                let bundled = ancestor.appendingPathComponent("data/mnist")
                return isDirectory(bundled) ? bundled : nil
            }
            ancestor.deleteLastPathComponent()
        }
        return nil
    }

    /// The pixels of image `index`.
    public func pixels(at index: Int) -> ArraySlice<UInt8> {
        checkPrecondition(labels.indices.contains(index), "image \(index) out of 0..<\(imageCount)")
        return images[(index * pixelsPerImage)..<((index + 1) * pixelsPerImage)]
    }

    /// Image `index` as a `[1, rows, columns]` tensor of values in [0, 1] (torchvision's `ToTensor`).
    public func sampleTensor(at index: Int) -> Tensor {
        Tensor(shape: [1, rows, columns], data: pixels(at: index).map { Float($0) / 255 })
    }

    /// How many images show each digit: element `d` counts label `d`.
    public var labelCounts: [Int] {
        var counts = [Int](repeating: 0, count: Self.classCount)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// The mean and (population) standard deviation of all pixels scaled to [0, 1]: 0.1307 and 0.3081 for
    /// the training set, the constants of the tutorial's `Normalize`.
    public func pixelStatistics() -> (mean: Double, standardDeviation: Double) {
        // A histogram keeps the sums exact and the loop cheap.
        var histogram = [Int](repeating: 0, count: 256)
        histogram.withUnsafeMutableBufferPointer { histogram in
            images.withUnsafeBufferPointer { pixels in
                for pixel in pixels { histogram[Int(pixel)] += 1 }
            }
        }
        let count = Double(images.count)
        guard count > 0 else { return (0, 0) }
        var sum = 0.0
        var sumOfSquares = 0.0
        for (value, occurrences) in histogram.enumerated() {
            let scaled = Double(value) / 255
            sum += scaled * Double(occurrences)
            sumOfSquares += scaled * scaled * Double(occurrences)
        }
        let mean = sum / count
        return (mean, (max(0, sumOfSquares / count - mean * mean)).squareRoot())
    }
}
