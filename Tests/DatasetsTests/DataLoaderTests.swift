import Autograd
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
}
