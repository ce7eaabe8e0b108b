import COpenBLAS
import Hardware

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Single-precision matrix products through the system BLAS (OpenBLAS on Linux).
///
/// OpenBLAS is loaded on first use (`COpenBLAS`) with its core type chosen for the CPU (`chosenCoreType`),
/// unless `OPENBLAS_CORETYPE` is already set. OpenBLAS's own threading collapses on the small, skinny products of MNIST-sized layers (see
/// ../shared/REFERENCES.md: conv1 as a GEMM runs 4× slower on 2 threads than on 1), so it is pinned to one
/// thread and the kernels parallelise across the batch themselves (`Parallel`). Every call, from any
/// thread, is then one single-threaded product: two training parts calling BLAS at once each get their
/// own core and never wait on OpenBLAS's thread pool.
public enum BLAS {
    /// Loads OpenBLAS and pins it to one thread: nil when that worked, else why not (the loader's message,
    /// naming the library and the package that installs it).
    private static let loadingResult: String? = {
        var message = [CChar](repeating: 0, count: 512)
        guard openblas_load(chosenCoreType(for: .current), &message, Int32(message.count)) == 0 else {
            return message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                + " (Debian: apt-get install libopenblas0; scripts/setup does)"
        }
        openblas_set_threads(1)
        // A core type OpenBLAS does not take (a misspelt OPENBLAS_CORETYPE, say) makes it fall back to its own
        // detection, which may land on generic kernels: say so rather than run five times slower in silence.
        let core = String(cString: openblas_core_name())
        if isGeneric(core: core, on: .current) {
            let warning =
                "warning: OpenBLAS runs its generic \(core) kernels on this CPU, which has \(CPUFeatures.current.level.rawValue): "
                + "matrix products will be slow (OPENBLAS_CORETYPE=\(chosenCoreType(for: .current) ?? "?") selects the right ones)\n"
            let bytes = Array(warning.utf8)
            _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
        return nil
    }()

    /// OpenBLAS loaded and pinned to one thread; stops the process with the reason when it cannot be loaded.
    private static let loaded: Void = {
        if let failure = loadingResult { fatalError(failure) }
    }()

    /// Why OpenBLAS cannot be loaded (the loader's message, naming the library and the Debian package that
    /// installs it), or nil when it is loaded and ready. The first matrix product stops the process with this
    /// reason; a program asks first to exit with it cleanly instead (`mnist` and `mnist-serve` do, before
    /// any work).
    public static var loadingFailure: String? { loadingResult }

    /// The OpenBLAS core whose kernels suit `cpu`, to set before OpenBLAS loads: the 0.3.21 that Debian ships
    /// recognises CPUs by model number and falls back to its generic Prescott kernels (SSE3, a fifth of the
    /// speed) on those it does not know, such as Emerald Rapids, whatever vector units they have. Chosen by
    /// features instead: the AVX-512 core where AVX-512 is there, else the AVX2 ones (Zen's and Haswell's
    /// share their single-precision kernels). nil off x86-64 (OpenBLAS chooses).
    public static func chosenCoreType(for cpu: CPUFeatures) -> String? {
        guard cpu.isX86 else { return nil }
        switch cpu.level {
        // SkylakeX also for CPUs with BF16: 0.3.21 does not take "Cooperlake" as a name (it falls back to its
        // own detection), and the two share their single-precision kernels.
        case .avx512: return "SkylakeX"
        case .avx2: return cpu.vendor == "AuthenticAMD" ? "Zen" : "Haswell"
        case .baseline: return nil
        }
    }

    /// The core OpenBLAS runs ("Cooperlake", "Haswell", …): what benchmark reports name beside their figures.
    public static var coreName: String {
        ensureSingleThreaded()
        return String(cString: openblas_core_name())
    }

    /// OpenBLAS's build configuration ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64").
    public static var configuration: String {
        ensureSingleThreaded()
        return String(cString: openblas_configuration())
    }

    /// Whether OpenBLAS runs a generic core that uses none of the CPU's AVX2 or AVX-512 units: what happens
    /// when `OPENBLAS_CORETYPE` was set by hand to a lesser or unknown core.
    public static var runsGenericCore: Bool { isGeneric(core: coreName, on: .current) }

    /// Whether OpenBLAS's `core` leaves the vector units of `cpu` unused.
    static func isGeneric(core: String, on cpu: CPUFeatures) -> Bool {
        let vectorCores: Set<String> = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]
        return cpu.level >= .avx2 && !vectorCores.contains(core.lowercased())
    }

    /// target[columns × rows] = source[rows × columns]ᵀ, row-major. On x86-64 in 8 × 8 blocks of 8-lane vectors,
    /// the blocks of rows split over threads: training transposes the MLP's 784 × 784 weights at every step, and
    /// OpenBLAS's `somatcopy`, used elsewhere, took 14% of an epoch's samples on one thread (Intel Xeon,
    /// SkylakeX kernels). A copy either way: the same values.
    public static func transpose(
        _ source: UnsafePointer<Float>, rows: Int, columns: Int, into target: UnsafeMutablePointer<Float>
    ) {
        guard rows > 0, columns > 0 else { return }
        #if arch(x86_64)
        Parallel.forEachChunk(of: (rows + 7) / 8) { rowBlocks in
            for rowBlock in rowBlocks {
                let firstRow = rowBlock * 8
                var column = 0
                if firstRow + 8 <= rows {
                    while column + 8 <= columns {
                        SparseLinear.storeTransposed(
                            source + firstRow * columns + column, rowStride: columns, width: 8,
                            to: target + column * rows + firstRow, stride: rows, accumulate: false)
                        column += 8
                    }
                }
                // The last columns of whole blocks, and every column of a last block of fewer than 8 rows.
                for sourceRow in firstRow..<min(firstRow + 8, rows) {
                    for column in column..<columns {
                        target[column * rows + sourceRow] = source[sourceRow * columns + column]
                    }
                }
            }
        }
        #else
        ensureSingleThreaded()
        openblas_somatcopy(
            Int32(openblas_row_major), Int32(openblas_transpose), Int32(rows), Int32(columns), 1, source,
            Int32(columns), target, Int32(rows))
        #endif
    }

    /// C[m×n] = alpha · op(A) · op(B) + beta · C, all row-major.
    /// op(A) is [m×k] (A is [k×m] when `transposeA`), op(B) is [k×n] (B is [n×k] when `transposeB`).
    @inlinable
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        ensureSingleThreaded()
        if m == 1 {
            // One row (one image through a layer): a matrix–vector product. sgemm would first pack all of B,
            // copying a whole weight matrix per call; sgemv reads it once. C's row is op(B)ᵀ · (A's row).
            // Row-major B [n×k] (transposed) gives C = B · a; B [k×n] gives C = Bᵀ · a. A's row is
            // contiguous, or a column of A [k×1] stored lda apart when transposed.
            openblas_sgemv(
                Int32(openblas_row_major), Int32(transposeB ? openblas_no_transpose : openblas_transpose),
                Int32(transposeB ? n : k), Int32(transposeB ? k : n),
                alpha, b, Int32(ldb), a, Int32(transposeA ? lda : 1), beta, c, 1)
            return
        }
        openblas_sgemm(
            Int32(openblas_row_major), Int32(transposeA ? openblas_transpose : openblas_no_transpose),
            Int32(transposeB ? openblas_transpose : openblas_no_transpose),
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Like `gemm`, but splits C across `Parallel.threadCount` threads when the product is large enough to
    /// pay for it: by rows, or by columns when there are too few rows (one image through a wide layer, a
    /// matrix–vector product bound by reading B). Each block is one single-threaded BLAS call computing its
    /// elements exactly as the whole call would, so results do not depend on timing (only on the thread count).
    public static func parallelGemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let work = m * n * k
        guard Parallel.splitsWork, work >= 1 << 18 else {
            gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if m >= 2 * Parallel.threadCount {
            Parallel.forEachChunk(of: m) { rows in
                // Row r of op(A) starts at A + r·lda, or at column r (A + r) when A is stored transposed.
                let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
                gemm(
                    transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k, alpha: alpha,
                    a: aStart, lda: lda, b: b, ldb: ldb, beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
            }
        } else {
            Parallel.forEachChunk(of: n) { columns in
                // Column j of op(B) starts at B + j, or at row j (B + j·ldb) when B is stored transposed.
                let bStart = transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound
                gemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: columns.count, k: k, alpha: alpha,
                    a: a, lda: lda, b: bStart, ldb: ldb, beta: beta, c: c + columns.lowerBound, ldc: ldc)
            }
        }
    }

    @usableFromInline
    static func ensureSingleThreaded() { _ = loaded }
}
