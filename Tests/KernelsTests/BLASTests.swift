import Testing

@testable import Hardware
@testable import Kernels

/// The OpenBLAS core chosen for a CPU, that the loaded library runs one that uses the vector units, and the
/// matrix transpose.
@Suite struct BLASTests {
    static func cpu(vendor: String, level: CPUFeatures.Level, bf16: Bool = false) -> CPUFeatures {
        CPUFeatures(
            isX86: true, hasAVX2: level >= .avx2, hasFMA: level >= .avx2, hasAVX512: level >= .avx512,
            hasAVX512BF16: bf16, hasAMX: false, vendor: vendor, brand: "", family: 6, model: 207)
    }

    /// The transpose against the definition, element for element: whole and partial 8 × 8 blocks, one row or
    /// column, the MLP's 784 × 784, on one thread and split over two.
    @Test(arguments: [(1, 1), (1, 9), (9, 1), (8, 8), (13, 21), (16, 7), (17, 64), (784, 784)])
    func transposeMatchesTheDefinition(rows: Int, columns: Int) {
        let source = (0..<(rows * columns)).map { Float($0) * 0.5 - 7 }
        let expected = (0..<(rows * columns)).map { index in source[(index % rows) * columns + index / rows] }
        for threads in [1, 2] {
            var target = [Float](repeating: .nan, count: rows * columns)
            Parallel.withThreadCount(threads) {
                BLAS.transpose(source, rows: rows, columns: columns, into: &target)
            }
            #expect(
                target.map(\.bitPattern) == expected.map(\.bitPattern), "\(rows) × \(columns), \(threads) threads")
        }
    }

    @Test func theCoreFollowsTheFeaturesNotTheModelNumber() {
        // Emerald Rapids (family 6 model 207), which Debian's OpenBLAS 0.3.21 does not know: AVX-512 kernels.
        #expect(BLAS.chosenCoreType(for: Self.cpu(vendor: "GenuineIntel", level: .avx512, bf16: true)) == "SkylakeX")
        #expect(BLAS.chosenCoreType(for: Self.cpu(vendor: "AuthenticAMD", level: .avx512)) == "SkylakeX")
        #expect(BLAS.chosenCoreType(for: Self.cpu(vendor: "AuthenticAMD", level: .avx2)) == "Zen")
        #expect(BLAS.chosenCoreType(for: Self.cpu(vendor: "GenuineIntel", level: .avx2)) == "Haswell")
        #expect(BLAS.chosenCoreType(for: Self.cpu(vendor: "GenuineIntel", level: .baseline)) == nil)
        var arm = Self.cpu(vendor: "", level: .baseline)
        arm.isX86 = false
        #expect(BLAS.chosenCoreType(for: arm) == nil)
    }

    @Test func genericCoresAreRecognised() {
        let avx2 = Self.cpu(vendor: "GenuineIntel", level: .avx2)
        #expect(BLAS.isGeneric(core: "Prescott", on: avx2))
        #expect(BLAS.isGeneric(core: "Core2", on: avx2))
        #expect(!BLAS.isGeneric(core: "Haswell", on: avx2))
        #expect(!BLAS.isGeneric(core: "SkylakeX", on: Self.cpu(vendor: "GenuineIntel", level: .avx512)))
    }

    /// On the machine running the tests, the loaded OpenBLAS uses the vector units (unless someone set
    /// OPENBLAS_CORETYPE to a generic core by hand), and a product through it is right.
    @Test func theLoadedLibraryRunsAVectorCoreAndMultiplies() {
        #expect(!BLAS.runsGenericCore, "OpenBLAS core \(BLAS.coreName) on \(CPUFeatures.current)")
        let (m, n, k) = (3, 5, 4)
        let a = (0..<(m * k)).map { Float($0 % 7) - 3 }, b = (0..<(k * n)).map { Float($0 % 5) - 2 }
        var c = [Float](repeating: .nan, count: m * n)
        BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n)
        for row in 0..<m {
            for column in 0..<n {
                let expected = (0..<k).reduce(Float(0)) { $0 + a[row * k + $1] * b[$1 * n + column] }
                #expect(c[row * n + column] == expected, "C[\(row), \(column)]")
            }
        }
    }
}
