import Foundation

/// The four files of MNIST, with their names and published checksums.
public enum MNISTFile: String, CaseIterable, Sendable {
    /// The 60,000 training images.
    case trainImages = "train-images-idx3-ubyte"
    /// The 60,000 training labels.
    case trainLabels = "train-labels-idx1-ubyte"
    /// The 10,000 test images.
    case testImages = "t10k-images-idx3-ubyte"
    /// The 10,000 test labels.
    case testLabels = "t10k-labels-idx1-ubyte"

    /// The images file of `split`.
    public static func images(_ split: MNISTDataset.Split) -> MNISTFile {
        split == .train ? .trainImages : .testImages
    }

    /// The labels file of `split`.
    public static func labels(_ split: MNISTDataset.Split) -> MNISTFile {
        split == .train ? .trainLabels : .testLabels
    }

    /// The name of the uncompressed file, e.g. `train-images-idx3-ubyte`.
    public var name: String { rawValue }

    /// The name of the gzip file, as the mirrors publish it: `train-images-idx3-ubyte.gz`.
    public var compressedName: String { rawValue + ".gz" }

    /// The MD5 of the uncompressed IDX content, whichever gzip wrapper carries it.
    public var uncompressedMD5: String {
        switch self {
        case .trainImages: "6bbc9ace898e44ae57da46a324031adb"
        case .trainLabels: "a25bea736e30d166cdddb491f175f624"
        case .testImages: "2646ac647ad5339dbf082846283269ea"
        case .testLabels: "27ae3e4e09519cfbb04c329615203637"
        }
    }

    /// The MD5 of the `.gz` file on the mirrors (the values torchvision checks).
    public var compressedMD5: String {
        switch self {
        case .trainImages: "f68b3c2dcbeaaa9fbdd348bbdeb94873"
        case .trainLabels: "d53e105ee54ea40749a09fcbcd1e9432"
        case .testImages: "9fb629c4189551a2d022fa330f9573f3"
        case .testLabels: "ec29112dd5afa0611ce80d1b7f02629c"
        }
    }

    /// The file in `directory`: the `.gz` one if present (that is what the downloader writes and verifies),
    /// else the uncompressed one.
    /// - Throws: `DatasetError.Kind.missingFile` when neither exists.
    public func location(in directory: URL) throws -> URL {
        for candidate in [compressedName, name] {
            let url = directory.appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw DatasetError(
            .missingFile, file: name,
            detail: "expected \(compressedName) or \(name) in \(directory.path), found neither")
    }
}
