import CPNG
import Foundation
import Preconditions

/// Reads PNG files of any kind into 8-bit grayscale, with libpng's simplified API.
///
/// Every PNG libpng accepts comes out the same way: gray, RGB, palette, with or without alpha; 1-, 2-, 4-, 8- or
/// 16-bit; interlaced or not. libpng converts the samples to 8-bit sRGB-encoded RGBA (16-bit files without
/// colour-space chunks are taken as sRGB-encoded, as nearly all are, not libpng's default of linear); this type
/// then composites the alpha onto white and takes the Rec. 601 luma of the result, both on the encoded
/// values as image viewers and PIL's `convert("L")` do. So a drawing exported with a transparent background
/// and dark ink comes out dark on white, a gray PNG's levels come out unchanged, and an RGB pixel gets
/// `(299 R + 587 G + 114 B) / 1000`.
public enum PNGDecoder {
    /// The longest side accepted by default, in pixels.
    public static let maximumSide = 20_000
    /// The most pixels accepted by default (40 megapixels: 160 MB while decoding).
    public static let maximumPixelCount = 40_000_000

    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The PNG file at `url`, as grayscale.
    /// - Throws: `ImageError` naming the file (its path as given): missing, unreadable, empty, not a PNG,
    ///   corrupt or truncated, or too large.
    public static func decode(contentsOf url: URL) throws -> GrayImage {
        let name = url.isFileURL ? url.relativePath : url.absoluteString
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ImageError(file: name, problem: .missingFile)
        }
        guard !isDirectory.boolValue else { throw ImageError(file: name, problem: .unreadable("it is a folder")) }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            throw ImageError(file: name, problem: .unreadable(reason))
        }
        return try decode([UInt8](data), file: name)
    }

    /// The PNG in `bytes`, as grayscale; `file` names the bytes in errors. An image wider or taller than
    /// `maximumSide`, or with more than `maximumPixelCount` pixels, is refused from its header, before any pixel
    /// is decoded or allocated (a server takes tighter limits than a file on disk: see `PredictionService`).
    /// - Throws: `ImageError`: empty, not a PNG, corrupt or truncated, or too large.
    public static func decode(
        _ bytes: [UInt8], file: String = "image", maximumSide: Int = maximumSide,
        maximumPixelCount: Int = maximumPixelCount
    ) throws -> GrayImage {
        guard !bytes.isEmpty else { throw ImageError(file: file, problem: .emptyFile) }
        guard bytes.starts(with: signature) else {
            throw ImageError(file: file, problem: .notPNG(firstBytes: Array(bytes.prefix(8))))
        }

        try checkChunkLengths(bytes, file: file)

        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        // libpng frees its state itself on failure; freeing again is harmless (it checks `opaque`).
        defer { png_image_free(&image) }
        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard began != 0 else { throw ImageError(file: file, problem: .corrupt(message(of: image))) }

        // The header is read, nothing is allocated yet: refuse huge images now.
        let width = Int(image.width)
        let height = Int(image.height)
        guard width <= maximumSide, height <= maximumSide, width * height <= maximumPixelCount else {
            throw ImageError(
                file: file,
                problem: .tooLarge(
                    width: width, height: height, maximumSide: maximumSide, maximumPixelCount: maximumPixelCount))
        }

        image.format = png_uint_32(rgbaFormat)
        image.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let stride = width * 4
        var rgba = [UInt8](repeating: 0, count: stride * height)
        let finished = rgba.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, png_int_32(stride), nil)
        }
        guard finished != 0 else { throw ImageError(file: file, problem: .corrupt(message(of: image))) }

        var gray = [UInt8](repeating: 0, count: width * height)
        rgba.withUnsafeBufferPointer { source in
            for index in 0..<(width * height) {
                let alpha = UInt32(source[4 * index + 3])
                // Over a white background, on the encoded values, rounded.
                func composite(_ channel: UInt8) -> UInt32 {
                    (UInt32(channel) * alpha + 255 * (255 - alpha) + 127) / 255
                }
                let red = composite(source[4 * index]), green = composite(source[4 * index + 1])
                let blue = composite(source[4 * index + 2])
                gray[index] = UInt8((299 * red + 587 * green + 114 * blue + 500) / 1000)
            }
        }
        return GrayImage(width: width, height: height, pixels: gray)
    }

    /// Refuses a chunk that declares more data than follows it in `bytes` (read from memory, such a chunk is
    /// truncated anyway). libpng takes memory for a chunk's declared length before reading its data: a
    /// 112-byte file whose tEXt chunk declared 1,953,776,984 bytes took the PNG fuzzing harness to 1.96 GB
    /// resident for 3.4 s (docs/fuzzing.md). Chunks after IEND are not looked at, as libpng does not.
    static func checkChunkLengths(_ bytes: [UInt8], file: String) throws {
        // A chunk: its data's length (4 bytes, big-endian), its type (4 bytes), the data, a 4-byte CRC.
        var offset = signature.count
        while offset + 8 <= bytes.count {
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let available = max(bytes.count - offset - 12, 0)
            guard length <= available else {
                throw ImageError(
                    file: file,
                    problem: .corrupt(
                        "chunk \(type) at byte \(offset) declares \(length) bytes of data, but the file has room for"
                            + " \(available)"))
            }
            if type == "IEND" { return }
            offset += 12 + length
        }
    }

    /// 8-bit sRGB RGBA, not premultiplied.
    private static let rgbaFormat = PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA

    /// libpng's error (or warning) text, or a fallback when it left none.
    static func message(of image: png_image) -> String {
        let text = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "libpng reported an error without a message" : text
    }
}

/// Writes PNG files (8-bit gray or RGB) with libpng's simplified API.
public enum PNGEncoder {
    /// An 8-bit grayscale PNG of `image` (at least 1×1). `fast` trades size for speed (libpng's
    /// `PNG_IMAGE_FLAG_FAST`: files up to several times larger, written several times faster).
    public static func encode(_ image: GrayImage, fast: Bool = false) -> [UInt8] {
        write(width: image.width, height: image.height, format: 0, channels: 1, pixels: image.pixels, fast: fast)
    }

    /// An 8-bit RGB PNG of `pixels`: `width × height` pixels of three bytes (red, green, blue), row-major.
    /// `fast` as for `encode`.
    public static func encodeRGB(width: Int, height: Int, pixels: [UInt8], fast: Bool = false) -> [UInt8] {
        write(width: width, height: height, format: PNG_FORMAT_FLAG_COLOR, channels: 3, pixels: pixels, fast: fast)
    }

    private static func write(
        width: Int, height: Int, format: UInt32, channels: Int, pixels: [UInt8], fast: Bool
    ) -> [UInt8] {
        checkPrecondition(
            width > 0 && height > 0 && width <= PNGDecoder.maximumSide && height <= PNGDecoder.maximumSide,
            "PNG sides must be in 1...\(PNGDecoder.maximumSide), got \(width)×\(height)")
        checkPrecondition(
            pixels.count == width * height * channels,
            "\(width)×\(height) with \(channels) channels needs \(width * height * channels) bytes, got \(pixels.count)"
        )
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = png_uint_32(format)
        if fast { image.flags = png_uint_32(PNG_IMAGE_FLAG_FAST) }
        defer { png_image_free(&image) }
        let stride = png_int_32(width * channels)
        var size: png_alloc_size_t = 0
        let measured = pixels.withUnsafeBytes {
            png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, stride, nil)
        }
        checkPrecondition(measured != 0, "libpng could not encode: \(PNGDecoder.message(of: image))")
        var output = [UInt8](repeating: 0, count: Int(size))
        let written = output.withUnsafeMutableBytes { memory in
            pixels.withUnsafeBytes {
                png_image_write_to_memory(&image, memory.baseAddress, &size, 0, $0.baseAddress, stride, nil)
            }
        }
        checkPrecondition(written != 0, "libpng could not encode: \(PNGDecoder.message(of: image))")
        return Array(output.prefix(Int(size)))
    }
}
