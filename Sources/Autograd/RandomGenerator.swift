import Foundation
import Preconditions

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64) whose whole state can be
/// saved and restored, so a checkpointed training run continues with the very same numbers.
///
/// Every random choice in the library (initialisation, shuffling, dropout) takes one of these from the
/// caller: the same seed gives the same run.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The four 64-bit words of xoshiro256** state; never all zero.
    public private(set) var state: [UInt64]

    /// A generator whose four state words are drawn from SplitMix64 started at `seed`: the same seed gives the same
    /// numbers.
    public init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix()]
    }

    /// Restores a generator from `state` (as saved from `state`). Returns nil for a state that is not four
    /// words or is all zero, which xoshiro cannot leave.
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        self.state = state
    }

    /// The next 64 random bits (xoshiro256**), advancing the state.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotateLeft(state[3], 45)
        return result
    }

    /// A uniform Float in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A uniform Float in [low, high).
    public mutating func nextUniform(low: Float, high: Float) -> Float {
        low + (high - low) * nextUniform()
    }

    /// A standard normal Float (Box–Muller; one uniform pair per call, so the state stays four words).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        let radius = (-2 * log(1 - u1)).squareRoot() // 1 - u1 is in (0, 1]: log never sees 0
        return Float(radius * cos(2 * Double.pi * u2))
    }

    /// A uniform integer in 0..<upperBound, without modulo bias.
    public mutating func nextInt(below upperBound: Int) -> Int {
        checkPrecondition(upperBound > 0, "upperBound must be positive")
        return Int(next(upperBound: UInt64(upperBound)))
    }

    /// Shuffles `array` in place with Fisher–Yates. Written out (rather than `Array.shuffle(using:)`) so the
    /// order depends only on this generator, not on the standard library's version.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for index in stride(from: array.count - 1, to: 0, by: -1) {
            let other = nextInt(below: index + 1)
            array.swapAt(index, other)
        }
    }

    /// A permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int] {
        var indices = Array(0..<count)
        shuffle(&indices)
        return indices
    }

    private func rotateLeft(_ value: UInt64, _ amount: UInt64) -> UInt64 {
        (value << amount) | (value >> (64 - amount))
    }
}
