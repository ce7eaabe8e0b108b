import CVectorKernels
import Hardware

/// The AVX-512 versions of the hottest inner loops (the `CVectorKernels` C target, compiled for AVX-512 function
/// by function), chosen at run time. Each computes bit for bit what the Swift loop it stands in for computes, so
/// the choice changes speed, never results; the tests compare the two on every CPU that can run both.
public enum VectorKernels {
    /// Whether the kernels run their AVX-512 inner loops: this build has them (x86-64) and the CPU, as capped by
    /// `MNIST_CPU_LEVEL`, has AVX-512 (`CPUFeatures.current`).
    public static let enabled: Bool = vector_kernels_available() && CPUFeatures.current.level >= .avx512
}
