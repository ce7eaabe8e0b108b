/// Stops the program with `message` (and the caller's file and line) when `condition` is false: the checks of a
/// caller's arguments, shapes and indices throughout the package. Unlike the standard library's
/// `precondition`, whose message is dropped in optimised builds (`-O`: release builds, and the kernels even in
/// debug builds), the message survives every build but `-Ounchecked`, so a release build of an app using the
/// library still says which shapes did not match.
@inlinable @inline(__always)
package func checkPrecondition(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
