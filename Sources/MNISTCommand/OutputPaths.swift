import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The files a command will write, checked before any work: a run that cannot save its results should
/// fail before its first epoch, not after it, and no output may replace another output or an input.
enum OutputPaths {
    /// Throws `ExitError` when an output of `outputs` (option name, path) is a directory or another
    /// non-regular file, lies in a folder that is missing or not writable, is the same file as another
    /// output, or is the same file as one of `inputs`, unless `replaceable` pairs that output with that input.
    static func check(
        outputs: [(option: String, url: URL)], inputs: [(option: String, url: URL)],
        replaceable: [(output: String, input: URL)] = []
    ) throws {
        for (option, url) in outputs {
            let path = url.path
            var info = stat()
            if stat(path, &info) == 0 {
                let type = info.st_mode & S_IFMT
                guard type != S_IFDIR else {
                    throw ExitError(message: "\(option) \(path) is a directory: give the path of a file to write")
                }
                guard type == S_IFREG else {
                    throw ExitError(
                        message:
                            "\(option) \(path) exists and is not a regular file (a device, FIFO or socket): give the path of a file to write"
                    )
                }
            }
            let folder = url.deletingLastPathComponent().path
            var folderInfo = stat()
            guard stat(folder, &folderInfo) == 0 else {
                throw ExitError(message: "\(option) \(path): the folder \(folder) does not exist")
            }
            guard folderInfo.st_mode & S_IFMT == S_IFDIR else {
                throw ExitError(message: "\(option) \(path): \(folder) is not a folder")
            }
            guard access(folder, W_OK | X_OK) == 0 else {
                throw ExitError(
                    message:
                        "\(option) \(path): the folder \(folder) is not writable (\(String(cString: strerror(errno))))")
            }
        }
        for (index, first) in outputs.enumerated() {
            for second in outputs[(index + 1)...] where identity(first.url) == identity(second.url) {
                throw ExitError(
                    message: "\(first.option) and \(second.option) are the same file, \(first.url.path): "
                        + "one would overwrite the other; give them different paths")
            }
            for input in inputs where identity(first.url) == identity(input.url) {
                if replaceable.contains(where: {
                    $0.output == first.option && identity($0.input) == identity(input.url)
                }) {
                    continue
                }
                throw ExitError(
                    message:
                        "\(first.option) \(first.url.path) is the same file as the input \(input.option) \(input.url.path): "
                        + "writing it would destroy the input; give another path")
            }
        }
    }

    /// Throws `ExitError` unless `url` is a writable folder, or a folder that can be created (its nearest
    /// existing ancestor is a writable folder), as a report's files will be written into it.
    static func checkFolder(option: String, _ url: URL) throws {
        var info = stat()
        if stat(url.path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw ExitError(
                    message: "\(option) \(url.path) exists and is not a folder: give a folder to write into")
            }
            guard access(url.path, W_OK | X_OK) == 0 else {
                throw ExitError(
                    message: "\(option) \(url.path): the folder is not writable (\(String(cString: strerror(errno))))")
            }
            return
        }
        var ancestor = url.standardizedFileURL.deletingLastPathComponent()
        while stat(ancestor.path, &info) != 0 && ancestor.path != "/" { ancestor.deleteLastPathComponent() }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw ExitError(message: "\(option) \(url.path): cannot create it, \(ancestor.path) is not a folder")
        }
        guard access(ancestor.path, W_OK | X_OK) == 0 else {
            throw ExitError(
                message:
                    "\(option) \(url.path): cannot create it, the folder \(ancestor.path) is not writable (\(String(cString: strerror(errno))))"
            )
        }
    }

    /// What makes two paths the same file: its device and inode when it exists (hard links and symbolic
    /// links included), else the real path of its folder and its name.
    static func identity(_ url: URL) -> String {
        var info = stat()
        if stat(url.path, &info) == 0 { return "inode \(info.st_dev):\(info.st_ino)" }
        let folder = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        guard let resolved = realpath(folder, nil) else { return "path " + url.standardizedFileURL.path }
        defer { free(resolved) }
        return "path " + String(cString: resolved) + "/" + name
    }
}
