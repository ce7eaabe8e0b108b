import Autograd
import Foundation
import TestSupport
import Testing

@testable import Datasets

@Suite struct MNISTDatasetTests {
    /// Four 2×3 images whose pixels are 10 × image index + pixel index.
    let images = idxBytes(
        dimensions: [4, 2, 3], data: (0..<4).flatMap { image in (0..<6).map { UInt8(10 * image + $0) } })
    let labels = idxBytes(dimensions: [4], data: [3, 1, 4, 1])

    @Test func loadsRawOrGzipFilesWithTheirImageSize() throws {
        try withTemporaryDirectory { directory in
            try write(images, to: directory, as: "train-images-idx3-ubyte")
            try write(gzip(labels), to: directory, as: "train-labels-idx1-ubyte.gz")
            let dataset = try MNISTDataset.load(directory: directory, split: .train)
            #expect(dataset.imageCount == 4)
            #expect((dataset.rows, dataset.columns) == (2, 3))
            #expect(dataset.labels == [3, 1, 4, 1])
            #expect(Array(dataset.pixels(at: 2)) == [20, 21, 22, 23, 24, 25])
            #expect(dataset.labelCounts == [0, 2, 0, 1, 1, 0, 0, 0, 0, 0])

            let sample = dataset.sampleTensor(at: 1)
            #expect(sample.shape == [1, 2, 3])
            #expect(sample.data == (10..<16).map { Float($0) / 255 })
        }
    }

    @Test func prefersTheGzipFileWhenBothArePresent() throws {
        try withTemporaryDirectory { directory in
            try write(images, to: directory, as: "t10k-images-idx3-ubyte")
            try write(labels, to: directory, as: "t10k-labels-idx1-ubyte")
            try write(
                gzip(idxBytes(dimensions: [4], data: [9, 9, 9, 9])), to: directory, as: "t10k-labels-idx1-ubyte.gz")
            #expect(try MNISTDataset.load(directory: directory, split: .test).labels == [9, 9, 9, 9])
        }
    }

    @Test func reportsMissingFiles() throws {
        try withTemporaryDirectory { directory in
            try write(images, to: directory, as: "t10k-images-idx3-ubyte")
            expectDatasetError(
                .missingFile,
                containing: [
                    "t10k-labels-idx1-ubyte: file not found",
                    "t10k-labels-idx1-ubyte.gz or t10k-labels-idx1-ubyte in \(directory.path)",
                ]
            ) {
                _ = try MNISTDataset.load(directory: directory, split: .test)
            }
        }
    }

    @Test func rejectsImagesAndLabelsOfDifferentCounts() throws {
        try withTemporaryDirectory { directory in
            try write(gzip(images), to: directory, as: "train-images-idx3-ubyte.gz")
            try write(
                gzip(idxBytes(dimensions: [3], data: [1, 2, 3])), to: directory, as: "train-labels-idx1-ubyte.gz")
            expectDatasetError(
                .countMismatch,
                containing: [
                    "train-labels-idx1-ubyte.gz: count mismatch at offset 4",
                    "expected 4 labels (one per image in train-images-idx3-ubyte.gz), found 3",
                ]
            ) {
                _ = try MNISTDataset.load(directory: directory, split: .train)
            }
        }
    }

    @Test func rejectsLabelsAboveNine() throws {
        try withTemporaryDirectory { directory in
            try write(images, to: directory, as: "train-images-idx3-ubyte")
            try write(idxBytes(dimensions: [4], data: [1, 2, 12, 10]), to: directory, as: "train-labels-idx1-ubyte")
            expectDatasetError(
                .labelOutOfRange,
                containing: ["train-labels-idx1-ubyte: label out of range at offset 10: expected a digit 0–9, found 12"]
            ) {
                _ = try MNISTDataset.load(directory: directory, split: .train)
            }
        }
    }

    @Test func rejectsAnImagesFileInPlaceOfLabels() throws {
        try withTemporaryDirectory { directory in
            try write(images, to: directory, as: "train-images-idx3-ubyte")
            try write(images, to: directory, as: "train-labels-idx1-ubyte")
            expectDatasetError(
                .badMagic,
                containing: [
                    "train-labels-idx1-ubyte: bad magic number at offset 0: expected 2049 (labels), found 2051"
                ]
            ) {
                _ = try MNISTDataset.load(directory: directory, split: .train)
            }
        }
    }

    @Test func findsTheBundledDirectory() throws {
        let directory = try #require(MNISTDataset.defaultDirectory())
        #expect(directory.path.hasSuffix("data/mnist"))
        #expect(
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path))
    }

    @Test func bundledSplitsHaveTheKnownShapesAndLabelCounts() throws {
        let train = try Bundled.train.get()
        let test = try Bundled.test.get()
        #expect((train.imageCount, train.rows, train.columns, train.images.count) == (60000, 28, 28, 60000 * 784))
        #expect((test.imageCount, test.rows, test.columns) == (10000, 28, 28))
        #expect(train.labelCounts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        #expect(test.labelCounts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        #expect(train.labels.prefix(5) == [5, 0, 4, 1, 9])
    }

    @Test func bundledTrainingPixelsHaveTheTutorialsMeanAndDeviation() throws {
        let (mean, standardDeviation) = try Bundled.train.get().pixelStatistics()
        #expect((mean * 10000).rounded() == 1307)
        #expect((standardDeviation * 10000).rounded() == 3081)
    }
}
