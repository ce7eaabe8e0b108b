import Autograd
import Kernels
import Testing

@testable import Datasets

@Suite struct DataLoaderTests {
    /// Ten 2×3 images; every pixel of image i is i, and its label is i too.
    let dataset = MNISTDataset(
        images: (0..<10).flatMap { [UInt8](repeating: UInt8($0), count: 6) }, labels: (0..<10).map(UInt8.init),
        rows: 2, columns: 3)

    /// The image indices of an epoch's batches, read back from the pixel values.
    func indices(_ epoch: DataLoader.Epoch) -> [[Int]] {
        epoch.map { images, labels in
            let fromPixels = (0..<labels.count).map { Int(images.data[$0 * 6] * 255 + 0.5) }
            #expect(fromPixels == labels.map(Int.init))
            return fromPixels
        }
    }

    @Test func batchesInOrderWithAPartialLastBatch() {
        let loader = DataLoader(dataset: dataset, batchSize: 4)
        #expect(loader.batchCount == 3)
        let epoch = loader.epoch()
        #expect(epoch.count == 3)
        #expect(epoch.map(\.images.shape) == [[4, 1, 2, 3], [4, 1, 2, 3], [2, 1, 2, 3]])
        #expect(epoch[2].labels == [8, 9])
        #expect(indices(epoch) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }

    @Test func dropLastLeavesOutThePartialBatch() {
        let loader = DataLoader(dataset: dataset, batchSize: 4, dropLast: true)
        #expect(loader.batchCount == 2)
        #expect(indices(loader.epoch()) == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(DataLoader(dataset: dataset, batchSize: 5, dropLast: true).batchCount == 2)
        #expect(DataLoader(dataset: dataset, batchSize: 11, dropLast: true).batchCount == 0)
    }

    @Test func shufflingVisitsEveryImageOnceInANewOrderEachEpoch() {
        let loader = DataLoader(dataset: dataset, batchSize: 3, shuffle: true)
        var generator = RandomGenerator(seed: 42)
        let first = indices(loader.epoch(generator: &generator))
        let second = indices(loader.epoch(generator: &generator))
        #expect(first.map(\.count) == [3, 3, 3, 1])
        #expect(first.joined().sorted() == Array(0..<10))
        #expect(second.joined().sorted() == Array(0..<10))
        #expect(first != second)
    }

    @Test func theSameGeneratorStateGivesTheSameOrder() throws {
        let loader = DataLoader(dataset: dataset, batchSize: 3, shuffle: true)
        var generator = RandomGenerator(seed: 42)
        var twin = RandomGenerator(seed: 42)
        #expect(indices(loader.epoch(generator: &generator)) == indices(loader.epoch(generator: &twin)))

        var restored = try #require(RandomGenerator(state: generator.state))
        #expect(indices(loader.epoch(generator: &generator)) == indices(loader.epoch(generator: &restored)))
    }

    @Test func aLoaderThatDoesNotShuffleLeavesTheGeneratorAlone() {
        var generator = RandomGenerator(seed: 1)
        let before = generator
        let epoch = DataLoader(dataset: dataset, batchSize: 4).epoch(generator: &generator)
        #expect(generator == before)
        #expect(indices(epoch) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }

    @Test func scalesAndNormalisesLikeToTensorAndNormalize() {
        let extremes = MNISTDataset(images: [0, 51, 255, 128], labels: [7], rows: 2, columns: 2)
        let scaled = DataLoader(dataset: extremes, batchSize: 1).epoch()[0].images.data
        #expect(scaled == [0, 0.2, 1, Float(128) / 255])

        let normalised = DataLoader(dataset: extremes, batchSize: 1, normalization: .mnist).epoch()[0].images.data
        let expected: [Float] = [0, 51, 255, 128].map { (Float($0) / 255 - 0.1307) / 0.3081 }
        #expect(normalised == expected)
        #expect(abs(normalised[0] - -0.424212917) < 1e-6)
        #expect(abs(normalised[2] - 2.821486528) < 1e-6)
    }

    @Test func theTrainingSetMakes938BatchesOf64() throws {
        let train = try Bundled.train.get()
        var generator = RandomGenerator(seed: 1)
        let loader = DataLoader(dataset: train, batchSize: 64, shuffle: true, normalization: .mnist)
        #expect(loader.batchCount == 938)
        let epoch = loader.epoch(generator: &generator)
        #expect(epoch[0].images.shape == [64, 1, 28, 28])
        #expect(epoch[937].images.shape == [32, 1, 28, 28])
        #expect(DataLoader(dataset: train, batchSize: 64, dropLast: true).batchCount == 937)
    }

    /// Sixteen 8×8 images with a bright bar at a different place in each, labels 0–9 over and over.
    let bars: MNISTDataset = {
        var images = [UInt8](repeating: 0, count: 16 * 64)
        for image in 0..<16 {
            let row = image % 6 + 1
            for column in 0..<8 { images[image * 64 + row * 8 + column] = UInt8(200 + image) }
        }
        return MNISTDataset(images: images, labels: (0..<16).map { UInt8($0 % 10) }, rows: 8, columns: 8)
    }()

    @Test func augmentationThatDrawsNoChangeGivesThePlainBatches() {
        let still = RandomAffine(maximumRotation: 0, scale: 1...1, maximumShift: 0)
        for normalization in [nil, DataLoader.Normalization.mnist] {
            var generator = RandomGenerator(seed: 3)
            var twin = RandomGenerator(seed: 3)
            let augmented = DataLoader(
                dataset: bars, batchSize: 5, shuffle: true, normalization: normalization, augmentation: still)
            let plain = DataLoader(dataset: bars, batchSize: 5, shuffle: true, normalization: normalization)
            let augmentedBatches = augmented.epoch(generator: &generator)
            let plainBatches = plain.epoch(generator: &twin)
            #expect(augmentedBatches.map(\.images.data) == plainBatches.map(\.images.data))
            #expect(augmentedBatches.map(\.labels) == plainBatches.map(\.labels))
        }
    }

    @Test func augmentedEpochsAreReproducibleAndDifferFromEachOther() throws {
        let loader = DataLoader(dataset: bars, batchSize: 4, shuffle: true, augmentation: .mnist)
        var generator = RandomGenerator(seed: 11)
        var restored = try #require(RandomGenerator(state: generator.state))
        let first = loader.epoch(generator: &generator)
        let again = loader.epoch(generator: &restored)
        #expect(first.map(\.images.data) == again.map(\.images.data))
        #expect(generator == restored)

        let second = loader.epoch(generator: &generator)
        #expect(first.map(\.images.data) != second.map(\.images.data))
        // Each image is transformed, not replaced: its label goes with it, and its ink stays in 0…1.
        let plainOrder = DataLoader(dataset: bars, batchSize: 4, shuffle: true)
        var orderOnly = RandomGenerator(seed: 11)
        #expect(first.map(\.labels) == plainOrder.epoch(generator: &orderOnly).map(\.labels))
        for batch in first {
            #expect(batch.images.data.allSatisfy { (0...1).contains($0) })
            #expect(batch.images.data.contains { $0 > 0.3 })
        }
    }

    @Test func aFixedTransformEpochIsThePlainEpochForTheIdentityAndShiftsEveryImageOtherwise() throws {
        for normalization in [nil, DataLoader.Normalization.mnist] {
            let loader = DataLoader(dataset: bars, batchSize: 5, normalization: normalization)
            #expect(loader.epoch(transformedBy: .identity).map(\.images.data) == loader.epoch().map(\.images.data))
            #expect(loader.epoch(transformedBy: .identity).map(\.labels) == loader.epoch().map(\.labels))
        }
        // One pixel right: each output pixel reads the source one column to its left; column 0 is background.
        let loader = DataLoader(dataset: bars, batchSize: 16)
        let right = AffineWarp.Matrix.rotation(degrees: 0, scale: 1, shiftX: 1, shiftY: 0, rows: 8, columns: 8)
        let plain = loader.epoch()[0].images.data, shifted = loader.epoch(transformedBy: right)[0].images.data
        for image in 0..<16 {
            for row in 0..<8 {
                let start = image * 64 + row * 8
                #expect(shifted[start] == 0)
                #expect(Array(shifted[(start + 1)..<(start + 8)]) == Array(plain[start..<(start + 7)]))
            }
        }
    }

    @Test func augmentationIsAppliedBeforeNormalisation() {
        var generator = RandomGenerator(seed: 5)
        var twin = RandomGenerator(seed: 5)
        let raw = DataLoader(dataset: bars, batchSize: 16, augmentation: .mnist).epoch(generator: &generator)[0]
        let normalised = DataLoader(dataset: bars, batchSize: 16, normalization: .mnist, augmentation: .mnist)
            .epoch(generator: &twin)[0]
        let expected = raw.images.data.map { ($0 - 0.1307) / 0.3081 }
        #expect(normalised.images.data == expected)
    }
}
