import CLibFuzzer

#if canImport(Glibc)
import Glibc
#endif

/// Runs libFuzzer on `harness` with the process's command line (`-runs=N`, `-max_total_time=S`, corpus
/// folders, crash files to replay…), then exits with libFuzzer's status.
///
/// SwiftPM links an executable target's top-level code as the program's `main` (it renames the entry point
/// and defines `main` to it), so libFuzzer's own `main` is never linked; each harness calls this instead.
public func runLibFuzzer(_ harness: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argumentCount = CommandLine.argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, harness))
}

/// The bytes libFuzzer hands a harness, as an array (an empty input may come with no pointer).
public func inputBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}
