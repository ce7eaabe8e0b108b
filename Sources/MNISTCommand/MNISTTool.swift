import ArgumentParser
#if canImport(Glibc)
// C's stdout is a mutable global; these programs touch it from the main thread only (buffering, flushing).
@preconcurrency import Glibc
#endif
import Foundation
import Hardware
import MNIST

@main
struct MNISTTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist",
        abstract: "Handwritten-digit recognition in Swift: the PyTorch MNIST tutorial, and more.",
        discussion: """
            Start with `mnist train`: it trains LeNet5 on the bundled MNIST with the tutorial's recipe \
            (Adam, learning rate 0.001, batches of 64, 10 epochs) and writes lenet5.safetensors.
            """,
        version: PackageVersion.current,
        subcommands: [
            Train.self, Evaluate.self, Predict.self, Export.self, Serve.self, DataCommand.self, Download.self,
            Bench.self,
        ])

    static func main() {
        // First, before any code compiled for the AVX2 baseline runs: a clear message on an older CPU.
        CPUBaseline.require(program: "mnist")
        // Line-buffered even into a pipe or file, so `mnist train | tee log` shows each epoch as it ends.
        setvbuf(stdout, nil, _IOLBF, 0)
        keepLargeBuffersInTheHeap()
        main(nil)
    }
}

/// Training allocates and frees the same large activation and gradient buffers (up to a few MB) at every
/// step. By default glibc serves each from a fresh mmap and unmaps it on free, so every step pays the page
/// faults of zeroing them anew, and trims the heap top as soon as it is free; measured, that was a large
/// share of a LeNet5 epoch's system time. Raising the thresholds keeps such buffers in the heap for reuse
/// (peak memory stays the same: the same buffers, kept rather than returned).
private func keepLargeBuffersInTheHeap() {
    #if os(Linux)
    // <malloc.h>'s M_TRIM_THRESHOLD, M_TOP_PAD and M_MMAP_THRESHOLD (the Glibc module leaves malloc.h out).
    let (trimThreshold, topPad, mmapThreshold): (Int32, Int32, Int32) = (-1, -2, -3)
    _ = glibcMallopt(mmapThreshold, 32 << 20) // glibc's largest allowed value
    _ = glibcMallopt(trimThreshold, 256 << 20)
    _ = glibcMallopt(topPad, 16 << 20)
    #endif
}

#if os(Linux)
/// glibc's `int mallopt(int parameter, int value)`.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
