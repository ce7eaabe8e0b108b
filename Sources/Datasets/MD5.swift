/// The MD5 message digest (RFC 1321), for checking downloads and bundled files against published checksums.
/// Not for security: MD5 is broken against deliberate collisions.
public enum MD5 {
    /// The 16-byte digest of `bytes`.
    public static func digest(of bytes: [UInt8]) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
        let fullBlocks = bytes.count / 64
        bytes.withUnsafeBytes { buffer in
            for block in 0..<fullBlocks {
                compress(&state, UnsafeRawBufferPointer(rebasing: buffer[(block * 64)..<(block * 64 + 64)]))
            }
        }
        // The tail, a 1 bit, zeros, and the message length in bits (little-endian), in one or two blocks.
        var tail = Array(bytes[(fullBlocks * 64)...])
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        let bitLength = UInt64(bytes.count) &* 8
        for shift in stride(from: 0, to: 64, by: 8) {
            tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        tail.withUnsafeBytes { buffer in
            for block in 0..<(tail.count / 64) {
                compress(&state, UnsafeRawBufferPointer(rebasing: buffer[(block * 64)..<(block * 64 + 64)]))
            }
        }
        return [state.0, state.1, state.2, state.3].flatMap { word in
            (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) }
        }
    }

    /// The digest of `bytes` as 32 lowercase hexadecimal digits, the form checksums are published in.
    public static func hex(of bytes: [UInt8]) -> String {
        digest(of: bytes).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Folds one 64-byte block into `state`. The 64 steps are written out, with their constants (the integer
    /// part of 2³² × |sin(i + 1)|) and rotations inline: without a call per step, a debug build checks the
    /// 47 MB of training images in a fraction of a second rather than seconds.
    private static func compress(_ state: inout (UInt32, UInt32, UInt32, UInt32), _ block: UnsafeRawBufferPointer) {
        let x0 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let x1 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let x2 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let x3 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let x4 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        let x5 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
        let x6 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        let x7 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 28, as: UInt32.self))
        let x8 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 32, as: UInt32.self))
        let x9 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 36, as: UInt32.self))
        let x10 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 40, as: UInt32.self))
        let x11 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 44, as: UInt32.self))
        let x12 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 48, as: UInt32.self))
        let x13 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 52, as: UInt32.self))
        let x14 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 56, as: UInt32.self))
        let x15 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
        var (a, b, c, d) = state
        // Each step: a = b + ((a + round function + word + constant) rotated left), the roles of a, b, c, d
        // rotating from step to step.
        var sum: UInt32
        // Round 1: F(b, c, d) = (b & c) | (~b & d)
        sum = a &+ ((b & c) | (~b & d)) &+ x0 &+ 0xD76A_A478; a = b &+ (sum &<< 7 | sum &>> 25)
        sum = d &+ ((a & b) | (~a & c)) &+ x1 &+ 0xE8C7_B756; d = a &+ (sum &<< 12 | sum &>> 20)
        sum = c &+ ((d & a) | (~d & b)) &+ x2 &+ 0x2420_70DB; c = d &+ (sum &<< 17 | sum &>> 15)
        sum = b &+ ((c & d) | (~c & a)) &+ x3 &+ 0xC1BD_CEEE; b = c &+ (sum &<< 22 | sum &>> 10)
        sum = a &+ ((b & c) | (~b & d)) &+ x4 &+ 0xF57C_0FAF; a = b &+ (sum &<< 7 | sum &>> 25)
        sum = d &+ ((a & b) | (~a & c)) &+ x5 &+ 0x4787_C62A; d = a &+ (sum &<< 12 | sum &>> 20)
        sum = c &+ ((d & a) | (~d & b)) &+ x6 &+ 0xA830_4613; c = d &+ (sum &<< 17 | sum &>> 15)
        sum = b &+ ((c & d) | (~c & a)) &+ x7 &+ 0xFD46_9501; b = c &+ (sum &<< 22 | sum &>> 10)
        sum = a &+ ((b & c) | (~b & d)) &+ x8 &+ 0x6980_98D8; a = b &+ (sum &<< 7 | sum &>> 25)
        sum = d &+ ((a & b) | (~a & c)) &+ x9 &+ 0x8B44_F7AF; d = a &+ (sum &<< 12 | sum &>> 20)
        sum = c &+ ((d & a) | (~d & b)) &+ x10 &+ 0xFFFF_5BB1; c = d &+ (sum &<< 17 | sum &>> 15)
        sum = b &+ ((c & d) | (~c & a)) &+ x11 &+ 0x895C_D7BE; b = c &+ (sum &<< 22 | sum &>> 10)
        sum = a &+ ((b & c) | (~b & d)) &+ x12 &+ 0x6B90_1122; a = b &+ (sum &<< 7 | sum &>> 25)
        sum = d &+ ((a & b) | (~a & c)) &+ x13 &+ 0xFD98_7193; d = a &+ (sum &<< 12 | sum &>> 20)
        sum = c &+ ((d & a) | (~d & b)) &+ x14 &+ 0xA679_438E; c = d &+ (sum &<< 17 | sum &>> 15)
        sum = b &+ ((c & d) | (~c & a)) &+ x15 &+ 0x49B4_0821; b = c &+ (sum &<< 22 | sum &>> 10)
        // Round 2: G(b, c, d) = (b & d) | (c & ~d)
        sum = a &+ ((b & d) | (c & ~d)) &+ x1 &+ 0xF61E_2562; a = b &+ (sum &<< 5 | sum &>> 27)
        sum = d &+ ((a & c) | (b & ~c)) &+ x6 &+ 0xC040_B340; d = a &+ (sum &<< 9 | sum &>> 23)
        sum = c &+ ((d & b) | (a & ~b)) &+ x11 &+ 0x265E_5A51; c = d &+ (sum &<< 14 | sum &>> 18)
        sum = b &+ ((c & a) | (d & ~a)) &+ x0 &+ 0xE9B6_C7AA; b = c &+ (sum &<< 20 | sum &>> 12)
        sum = a &+ ((b & d) | (c & ~d)) &+ x5 &+ 0xD62F_105D; a = b &+ (sum &<< 5 | sum &>> 27)
        sum = d &+ ((a & c) | (b & ~c)) &+ x10 &+ 0x0244_1453; d = a &+ (sum &<< 9 | sum &>> 23)
        sum = c &+ ((d & b) | (a & ~b)) &+ x15 &+ 0xD8A1_E681; c = d &+ (sum &<< 14 | sum &>> 18)
        sum = b &+ ((c & a) | (d & ~a)) &+ x4 &+ 0xE7D3_FBC8; b = c &+ (sum &<< 20 | sum &>> 12)
        sum = a &+ ((b & d) | (c & ~d)) &+ x9 &+ 0x21E1_CDE6; a = b &+ (sum &<< 5 | sum &>> 27)
        sum = d &+ ((a & c) | (b & ~c)) &+ x14 &+ 0xC337_07D6; d = a &+ (sum &<< 9 | sum &>> 23)
        sum = c &+ ((d & b) | (a & ~b)) &+ x3 &+ 0xF4D5_0D87; c = d &+ (sum &<< 14 | sum &>> 18)
        sum = b &+ ((c & a) | (d & ~a)) &+ x8 &+ 0x455A_14ED; b = c &+ (sum &<< 20 | sum &>> 12)
        sum = a &+ ((b & d) | (c & ~d)) &+ x13 &+ 0xA9E3_E905; a = b &+ (sum &<< 5 | sum &>> 27)
        sum = d &+ ((a & c) | (b & ~c)) &+ x2 &+ 0xFCEF_A3F8; d = a &+ (sum &<< 9 | sum &>> 23)
        sum = c &+ ((d & b) | (a & ~b)) &+ x7 &+ 0x676F_02D9; c = d &+ (sum &<< 14 | sum &>> 18)
        sum = b &+ ((c & a) | (d & ~a)) &+ x12 &+ 0x8D2A_4C8A; b = c &+ (sum &<< 20 | sum &>> 12)
        // Round 3: H(b, c, d) = b ^ c ^ d
        sum = a &+ (b ^ c ^ d) &+ x5 &+ 0xFFFA_3942; a = b &+ (sum &<< 4 | sum &>> 28)
        sum = d &+ (a ^ b ^ c) &+ x8 &+ 0x8771_F681; d = a &+ (sum &<< 11 | sum &>> 21)
        sum = c &+ (d ^ a ^ b) &+ x11 &+ 0x6D9D_6122; c = d &+ (sum &<< 16 | sum &>> 16)
        sum = b &+ (c ^ d ^ a) &+ x14 &+ 0xFDE5_380C; b = c &+ (sum &<< 23 | sum &>> 9)
        sum = a &+ (b ^ c ^ d) &+ x1 &+ 0xA4BE_EA44; a = b &+ (sum &<< 4 | sum &>> 28)
        sum = d &+ (a ^ b ^ c) &+ x4 &+ 0x4BDE_CFA9; d = a &+ (sum &<< 11 | sum &>> 21)
        sum = c &+ (d ^ a ^ b) &+ x7 &+ 0xF6BB_4B60; c = d &+ (sum &<< 16 | sum &>> 16)
        sum = b &+ (c ^ d ^ a) &+ x10 &+ 0xBEBF_BC70; b = c &+ (sum &<< 23 | sum &>> 9)
        sum = a &+ (b ^ c ^ d) &+ x13 &+ 0x289B_7EC6; a = b &+ (sum &<< 4 | sum &>> 28)
        sum = d &+ (a ^ b ^ c) &+ x0 &+ 0xEAA1_27FA; d = a &+ (sum &<< 11 | sum &>> 21)
        sum = c &+ (d ^ a ^ b) &+ x3 &+ 0xD4EF_3085; c = d &+ (sum &<< 16 | sum &>> 16)
        sum = b &+ (c ^ d ^ a) &+ x6 &+ 0x0488_1D05; b = c &+ (sum &<< 23 | sum &>> 9)
        sum = a &+ (b ^ c ^ d) &+ x9 &+ 0xD9D4_D039; a = b &+ (sum &<< 4 | sum &>> 28)
        sum = d &+ (a ^ b ^ c) &+ x12 &+ 0xE6DB_99E5; d = a &+ (sum &<< 11 | sum &>> 21)
        sum = c &+ (d ^ a ^ b) &+ x15 &+ 0x1FA2_7CF8; c = d &+ (sum &<< 16 | sum &>> 16)
        sum = b &+ (c ^ d ^ a) &+ x2 &+ 0xC4AC_5665; b = c &+ (sum &<< 23 | sum &>> 9)
        // Round 4: I(b, c, d) = c ^ (b | ~d)
        sum = a &+ (c ^ (b | ~d)) &+ x0 &+ 0xF429_2244; a = b &+ (sum &<< 6 | sum &>> 26)
        sum = d &+ (b ^ (a | ~c)) &+ x7 &+ 0x432A_FF97; d = a &+ (sum &<< 10 | sum &>> 22)
        sum = c &+ (a ^ (d | ~b)) &+ x14 &+ 0xAB94_23A7; c = d &+ (sum &<< 15 | sum &>> 17)
        sum = b &+ (d ^ (c | ~a)) &+ x5 &+ 0xFC93_A039; b = c &+ (sum &<< 21 | sum &>> 11)
        sum = a &+ (c ^ (b | ~d)) &+ x12 &+ 0x655B_59C3; a = b &+ (sum &<< 6 | sum &>> 26)
        sum = d &+ (b ^ (a | ~c)) &+ x3 &+ 0x8F0C_CC92; d = a &+ (sum &<< 10 | sum &>> 22)
        sum = c &+ (a ^ (d | ~b)) &+ x10 &+ 0xFFEF_F47D; c = d &+ (sum &<< 15 | sum &>> 17)
        sum = b &+ (d ^ (c | ~a)) &+ x1 &+ 0x8584_5DD1; b = c &+ (sum &<< 21 | sum &>> 11)
        sum = a &+ (c ^ (b | ~d)) &+ x8 &+ 0x6FA8_7E4F; a = b &+ (sum &<< 6 | sum &>> 26)
        sum = d &+ (b ^ (a | ~c)) &+ x15 &+ 0xFE2C_E6E0; d = a &+ (sum &<< 10 | sum &>> 22)
        sum = c &+ (a ^ (d | ~b)) &+ x6 &+ 0xA301_4314; c = d &+ (sum &<< 15 | sum &>> 17)
        sum = b &+ (d ^ (c | ~a)) &+ x13 &+ 0x4E08_11A1; b = c &+ (sum &<< 21 | sum &>> 11)
        sum = a &+ (c ^ (b | ~d)) &+ x4 &+ 0xF753_7E82; a = b &+ (sum &<< 6 | sum &>> 26)
        sum = d &+ (b ^ (a | ~c)) &+ x11 &+ 0xBD3A_F235; d = a &+ (sum &<< 10 | sum &>> 22)
        sum = c &+ (a ^ (d | ~b)) &+ x2 &+ 0x2AD7_D2BB; c = d &+ (sum &<< 15 | sum &>> 17)
        sum = b &+ (d ^ (c | ~a)) &+ x9 &+ 0xEB86_D391; b = c &+ (sum &<< 21 | sum &>> 11)
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}
