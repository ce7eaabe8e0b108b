import Testing
@testable import Autograd

@Suite struct RandomGeneratorTests {
    @Test func sameSeedSameNumbersAndStateRoundTrips() throws {
        var first = RandomGenerator(seed: 42), second = RandomGenerator(seed: 42)
        for _ in 0..<10 { _ = first.next() }
        for _ in 0..<10 { _ = second.next() }
        var restored = try #require(RandomGenerator(state: first.state))
        #expect((0..<100).map { _ in first.next() } == (0..<100).map { _ in restored.next() })
        #expect(RandomGenerator(state: [0, 0, 0, 0]) == nil)
        #expect(RandomGenerator(state: [1, 2]) == nil)
    }

    @Test func distributionsHaveTheirMoments() {
        var generator = RandomGenerator(seed: 1)
        let uniforms = (0..<20_000).map { _ in generator.nextUniform(low: -2, high: 2) }
        #expect(uniforms.allSatisfy { $0 >= -2 && $0 < 2 })
        #expect(abs(uniforms.reduce(0, +) / 20_000) < 0.05)
        let normals = (0..<20_000).map { _ in Double(generator.nextNormal()) }
        let mean = normals.reduce(0, +) / 20_000
        let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20_000
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
    }

    @Test func permutationIsAPermutation() {
        var generator = RandomGenerator(seed: 3)
        let permutation = generator.permutation(1000)
        #expect(permutation.sorted() == Array(0..<1000))
        #expect(permutation != Array(0..<1000))
    }
}
