import Foundation
import Hummingbird
import HummingbirdTesting
import Serving
import Testing

@testable import ServingHTTP

#if canImport(Glibc)
import Glibc
#endif

/// A body trickled slower than `ServerLimits.bodyTimeout` allows: each byte arrives well within the idle
/// timeout, so only the body deadline ends it, with 408, a JSON error and a closed connection.
@Suite struct SlowBodyTests {
    @Test func aBodyTrickledPastTheDeadlineGets408AndTheConnectionCloses() async throws {
        var limits = ServerLimits()
        limits.bodyTimeout = .milliseconds(600)
        let application = try ServingApplicationTests.application(limits: limits)
        try await application.test(.live) { client in
            let port = try #require(client.port)
            let socket = try Self.connect(port: port)
            defer { close(socket) }
            let start = ContinuousClock.now
            let headers = "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100"
            Self.send(headers + "\r\n\r\n", on: socket)
            // One byte every 100 ms: 10 bytes a second, 100 bytes would take 10 s.
            var answer = "", bytesSent = 0
            for _ in 0..<50 where answer.isEmpty {
                Self.send("{", on: socket)
                bytesSent += 1
                try await Task.sleep(for: .milliseconds(100))
                answer = Self.receiveAvailable(on: socket)
            }
            let elapsed = ContinuousClock.now - start
            // The rest of the answer, then the end of the stream: the server closes the connection, so a read
            // returns 0 rather than nothing yet.
            var closed = false
            for _ in 0..<40 where !closed {
                try await Task.sleep(for: .milliseconds(50))
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = recv(socket, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if count > 0 { answer += String(decoding: buffer[..<count], as: UTF8.self) }
                closed = count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            }
            #expect(closed)
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
            #expect(answer.lowercased().contains("connection: close"), "\(answer)")
            let message = ServingError.bodyTimedOut(.milliseconds(600)).message
            #expect(message == "the body did not all arrive within 0.6 seconds of the headers")
            #expect(answer.hasSuffix("{\"error\":\"\(message)\"}"), "\(answer)")
            // Not before the deadline, and while the body was still trickling in (at most half of it sent). No
            // upper bound on the wall time: beside the other suites' training on both cores, the sleeps above
            // have taken far longer than asked, and that is no fault of the server.
            #expect(elapsed >= .milliseconds(600), "\(elapsed)")
            #expect(!answer.isEmpty && bytesSent < 50, "\(bytesSent) bytes sent before the answer")
            // And the server goes on serving.
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
        }
    }

    /// A blocking TCP socket connected to 127.0.0.1:`port`.
    static func connect(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(result == 0, "connect: \(String(cString: strerror(errno)))")
        return descriptor
    }

    static func send(_ text: String, on socket: Int32) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// What has arrived on `socket` so far, without waiting.
    static func receiveAvailable(on socket: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(socket, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }
}
