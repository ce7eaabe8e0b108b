import Testing

@testable import Hardware

@Suite struct CPUFeaturesTests {
    /// A Haswell-class CPU: what the build's x86-64 baseline needs, no more.
    static let haswell = CPUFeatures(
        isX86: true, hasAVX2: true, hasFMA: true, hasAVX512: false, hasAVX512BF16: false, hasAMX: false,
        vendor: "GenuineIntel", brand: "Intel Core i7-4770", family: 6, model: 60)

    @Test func levelsFollowTheFeatures() {
        #expect(Self.haswell.level == .avx2)
        var skylakeX = Self.haswell
        skylakeX.hasAVX512 = true
        #expect(skylakeX.level == .avx512)
        var nehalem = Self.haswell
        nehalem.hasAVX2 = false
        nehalem.hasFMA = false
        #expect(nehalem.level == .baseline)
        var avx2WithoutFMA = Self.haswell
        avx2WithoutFMA.hasFMA = false
        #expect(avx2WithoutFMA.level == .baseline)
    }

    @Test func cappingRemovesTheWiderUnits() {
        var sapphireRapids = Self.haswell
        sapphireRapids.hasAVX512 = true
        sapphireRapids.hasAVX512BF16 = true
        sapphireRapids.hasAMX = true
        let capped = sapphireRapids.capped(at: .avx2)
        #expect(capped.level == .avx2 && !capped.hasAVX512BF16 && !capped.hasAMX)
        #expect(sapphireRapids.capped(at: .avx512) == sapphireRapids)
        #expect(sapphireRapids.capped(at: .baseline).level == .baseline)
    }

    @Test func belowTheBaselineIsNamed() throws {
        #expect(CPUBaseline.problem(with: Self.haswell, program: "mnist") == nil)
        var nehalem = Self.haswell
        nehalem.hasAVX2 = false
        nehalem.hasFMA = false
        nehalem.brand = "Intel Core i7 920"
        let message = try #require(CPUBaseline.problem(with: nehalem, program: "mnist"))
        #expect(message.hasPrefix("mnist: this CPU, Intel Core i7 920, lacks AVX2 and FMA"))
        var arm = nehalem
        arm.isX86 = false
        #expect(CPUBaseline.problem(with: arm, program: "mnist") == nil)
    }

    /// The machine running the tests ran the kernels' tests too, so it meets the baseline; its description
    /// names the level it detected.
    @Test func thisMachineIsDescribed() {
        let detected = CPUFeatures.detected
        #expect(detected.meetsBaseline)
        #expect(
            detected.description.hasSuffix(detected.level.rawValue)
                || detected.description.contains("\(detected.level.rawValue),"))
        #if arch(x86_64)
        #expect(detected.isX86 && ["GenuineIntel", "AuthenticAMD"].contains(detected.vendor))
        #endif
    }
}
