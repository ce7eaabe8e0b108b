import CHardware

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CPU's instruction-set features that decide which code runs: the build's baseline (AVX2 and FMA on
/// x86-64), AVX-512 for wider kernels and OpenBLAS's core, and what is reported beside benchmark figures.
///
/// This target is compiled for any CPU of its architecture, so `CPUBaseline.require` can run before any
/// AVX2 instruction does.
public struct CPUFeatures: Sendable, Equatable, CustomStringConvertible {
    /// Vector instruction sets the kernels choose between at run time.
    public enum Level: String, Sendable, CaseIterable, Comparable {
        /// The architecture's own baseline: SSE2 on x86-64, NEON on arm64.
        case baseline
        /// AVX2 and fused multiply-add (x86-64-v3): the least this package's x86-64 builds need.
        case avx2
        /// AVX-512 F, BW, DQ and VL (x86-64-v4).
        case avx512

        public static func < (lhs: Level, rhs: Level) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// True on x86-64, where the flags below mean something.
    public var isX86: Bool
    public var hasAVX2: Bool
    public var hasFMA: Bool
    /// AVX-512 F, BW, DQ and VL together.
    public var hasAVX512: Bool
    public var hasAVX512BF16: Bool
    /// AMX tiles (Sapphire Rapids and later), used by no kernel here; reported.
    public var hasAMX: Bool
    /// "GenuineIntel", "AuthenticAMD", or empty off x86-64.
    public var vendor: String
    /// The brand string, "AMD EPYC 9B14" say, or empty.
    public var brand: String
    /// CPUID's display family and model (AMD family 25 is Zen 3 and Zen 4), 0 off x86-64.
    public var family: Int
    public var model: Int

    /// The features of the CPU this process runs on, as CPUID and the operating system report them.
    public static let detected: CPUFeatures = {
        var raw = hardware_cpu_features()
        hardware_detect_cpu(&raw)
        return CPUFeatures(raw)
    }()

    /// The features the kernels use: `detected`, capped by the environment variable `MNIST_CPU_LEVEL`
    /// (`baseline`, `avx2` or `avx512`) when it is set, so that a run can take the code paths of a lesser CPU
    /// (to compare results with one, or to measure what the wider units bring).
    public static let current: CPUFeatures = {
        guard let value = getenv("MNIST_CPU_LEVEL").map({ String(cString: $0) }), let level = Level(rawValue: value)
        else {
            return detected
        }
        return detected.capped(at: level)
    }()

    /// The widest vector level this CPU has.
    public var level: Level {
        guard isX86 else { return .baseline }
        if hasAVX512 && hasAVX2 && hasFMA { return .avx512 }
        return hasAVX2 && hasFMA ? .avx2 : .baseline
    }

    /// Whether this package's build runs here: AVX2 and FMA on x86-64 (the kernels are compiled for them),
    /// anything on other architectures.
    public var meetsBaseline: Bool { !isX86 || level >= .avx2 }

    /// These features without those above `level`.
    public func capped(at level: Level) -> CPUFeatures {
        var capped = self
        if level < .avx512 {
            capped.hasAVX512 = false
            capped.hasAVX512BF16 = false
            capped.hasAMX = false
        }
        if level < .avx2 {
            capped.hasAVX2 = false
            capped.hasFMA = false
        }
        return capped
    }

    /// "AMD EPYC 9B14 (AuthenticAMD family 25 model 17): avx512", or the architecture off x86-64.
    public var description: String {
        guard isX86 else { return "\(brand.isEmpty ? "CPU" : brand) (not x86-64): \(level.rawValue)" }
        var flags = [level.rawValue]
        if hasAVX512BF16 { flags.append("avx512-bf16") }
        if hasAMX { flags.append("amx") }
        return
            "\(brand.isEmpty ? "x86-64 CPU" : brand) (\(vendor) family \(family) model \(model)): \(flags.joined(separator: ", "))"
    }
}

/// The check an executable makes before anything else, so that a CPU below the build's baseline gets a
/// message rather than an illegal-instruction signal.
public enum CPUBaseline {
    /// The message for a CPU this build cannot run on, or nil when it can.
    public static func problem(with features: CPUFeatures = .detected, program: String) -> String? {
        guard !features.meetsBaseline else { return nil }
        var missing: [String] = []
        if !features.hasAVX2 { missing.append("AVX2") }
        if !features.hasFMA { missing.append("FMA") }
        return """
            \(program): this CPU, \(features.brand.isEmpty ? "an x86-64 CPU" : features.brand), lacks \(missing.joined(separator: " and ")), \
            which this build needs: it runs on x86-64 CPUs with AVX2 and FMA (x86-64-v3: Intel Haswell, AMD Excavator \
            and Zen or later) and on arm64.
            """
    }

    /// Exits with status 1 and `problem`'s message on standard error when the CPU is below the baseline.
    /// Call it first in `main`, before any code compiled for the baseline runs.
    public static func require(program: String) {
        guard let message = problem(program: program) else { return }
        // Straight to file descriptor 2: C's `stderr` is a mutable global that strict concurrency refuses.
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(1)
    }
}

extension CPUFeatures {
    init(_ raw: hardware_cpu_features) {
        isX86 = raw.x86
        hasAVX2 = raw.avx2
        hasFMA = raw.fma
        hasAVX512 = raw.avx512f && raw.avx512bw && raw.avx512dq && raw.avx512vl
        hasAVX512BF16 = raw.avx512bf16
        hasAMX = raw.amxTile
        vendor = withUnsafeBytes(of: raw.vendor) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        brand = withUnsafeBytes(of: raw.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            .trimmingSpaces()
        family = Int(raw.family)
        model = Int(raw.model)
    }
}

extension String {
    /// Without leading and trailing spaces (CPUID pads brand strings), without Foundation.
    fileprivate func trimmingSpaces() -> String {
        let characters = Array(self)
        guard let first = characters.firstIndex(where: { $0 != " " }),
            let last = characters.lastIndex(where: { $0 != " " })
        else { return "" }
        return String(characters[first...last])
    }
}
