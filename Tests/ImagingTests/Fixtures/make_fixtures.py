#!/usr/bin/env python3
"""Writes the small PNG fixtures the Imaging tests decode, and `expected.json` with the gray levels each
should decode to (alpha composited onto white, then Rec. 601 luma, on the 8-bit sRGB-encoded values).

Only the standard library (zlib, struct): every colour type, the bit depths libpng's simplified writer
cannot make (1, 2, 4, 16), palettes with transparency, and Adam7 interlacing. Run from anywhere:

    python3 Tests/ImagingTests/Fixtures/make_fixtures.py

The output is deterministic; the files are checked in and nothing in the build runs this script.
"""
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

GRAY, RGB, PALETTE, GRAY_ALPHA, RGBA = 0, 2, 3, 4, 6
CHANNELS = {GRAY: 1, RGB: 3, PALETTE: 1, GRAY_ALPHA: 2, RGBA: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def scanline(samples, depth):
    """One row's bytes (without the filter byte) from its samples."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    per_byte = 8 // depth
    out = bytearray()
    for start in range(0, len(samples), per_byte):
        group = samples[start:start + per_byte]
        byte = 0
        for index, sample in enumerate(group):
            byte |= sample << (8 - depth * (index + 1))
        out.append(byte)
    return bytes(out)


def png(width, height, depth, color, rows, palette=None, transparency=None, interlaced=False):
    """rows[y][x] is a tuple of the pixel's samples (a palette index for PALETTE)."""
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 1 if interlaced else 0)
    raw = bytearray()
    passes = ADAM7 if interlaced else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        xs = range(x0, width, dx)
        for y in range(y0, height, dy):
            if len(xs) == 0:
                continue
            raw.append(0)  # filter type None
            raw += scanline([s for x in xs for s in rows[y][x]], depth)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    if palette is not None:
        data += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    if transparency is not None:
        data += chunk(b"tRNS", transparency)
    return data + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")


def to8(sample, depth):
    maximum = (1 << depth) - 1
    return (sample * 255 + maximum // 2) // maximum


def over_white_luma(r, g, b, a):
    r, g, b = ((c * a + 255 * (255 - a) + 127) // 255 for c in (r, g, b))
    return (299 * r + 587 * g + 114 * b + 500) // 1000


def expected_gray(width, height, depth, color, rows, palette=None, transparency=None):
    out = []
    for y in range(height):
        for x in range(width):
            s = rows[y][x]
            if color == PALETTE:
                r, g, b = palette[s[0]]
                a = transparency[s[0]] if transparency is not None and s[0] < len(transparency) else 255
            elif color in (GRAY, GRAY_ALPHA):
                r = g = b = to8(s[0], depth)
                a = to8(s[1], depth) if color == GRAY_ALPHA else 255
                if color == GRAY and transparency is not None and s[0] == struct.unpack(">H", transparency)[0]:
                    a = 0
            else:
                r, g, b = (to8(c, depth) for c in s[:3])
                a = to8(s[3], depth) if color == RGBA else 255
                if color == RGB and transparency is not None and tuple(s) == struct.unpack(">HHH", transparency):
                    a = 0
            out.append(over_white_luma(r, g, b, a))
    return out


def main():
    os.makedirs(HERE, exist_ok=True)
    expected = {}

    def add(name, width, height, depth, color, pixel, palette=None, transparency=None, interlaced=False):
        rows = [[pixel(x, y) for x in range(width)] for y in range(height)]
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(png(width, height, depth, color, rows, palette, transparency, interlaced))
        expected[name] = {"width": width, "height": height,
                          "gray": expected_gray(width, height, depth, color, rows, palette, transparency)}

    # Odd widths so packed rows end mid-byte.
    for depth in (1, 2, 4):
        levels = 1 << depth
        add(f"gray{depth}.png", 11, 5, depth, GRAY, lambda x, y, n=levels: ((x + 3 * y) % n,))
    # 16-bit gray: multiples of 257 (exact 8-bit levels) including mid-grays, and values between them.
    add("gray16.png", 9, 4, 16, GRAY, lambda x, y: (((x * 29 + y * 71) % 256) * 257 + (y % 2) * 100,))
    add("gray-alpha8.png", 8, 4, 8, GRAY_ALPHA, lambda x, y: ((x * 37) % 256, (0, 64, 128, 255)[y]))
    add("gray-alpha16.png", 8, 4, 16, GRAY_ALPHA, lambda x, y: (((x * 37) % 256) * 257, (0, 64, 128, 255)[y] * 257))
    add("gray-trns8.png", 6, 3, 8, GRAY, lambda x, y: ((x * 50 + y) % 256,), transparency=struct.pack(">H", 100))
    add("rgb16.png", 7, 3, 16, RGB, lambda x, y: ((x * 40 % 256) * 257, (y * 90 % 256) * 257, ((x + y) * 30 % 256) * 257))
    add("rgb-trns8.png", 5, 2, 8, RGB, lambda x, y: (10 * x, 200, 7 * y) if x != 2 else (1, 2, 3),
        transparency=struct.pack(">HHH", 1, 2, 3))
    add("rgba8.png", 8, 4, 8, RGBA, lambda x, y: (x * 30, 255 - x * 30, y * 60, (0, 64, 128, 255)[y]))
    add("rgba16.png", 8, 4, 16, RGBA, lambda x, y: (x * 30 * 257, (255 - x * 30) * 257, y * 60 * 257, (0, 64, 128, 255)[y] * 257))
    palette = [(0, 0, 0), (255, 255, 255), (255, 0, 0), (0, 128, 0), (0, 0, 255), (128, 128, 128),
               (30, 60, 90), (250, 200, 10), (12, 34, 56), (200, 100, 50), (5, 250, 5), (77, 77, 77),
               (1, 2, 3), (240, 240, 240), (90, 10, 160), (33, 66, 99)]
    add("palette1.png", 13, 3, 1, PALETTE, lambda x, y: ((x + y) % 2,), palette=palette[:2])
    add("palette4.png", 9, 4, 4, PALETTE, lambda x, y: ((x + 5 * y) % 16,), palette=palette,
        transparency=bytes([0, 255, 128, 64]))
    add("palette8.png", 10, 3, 8, PALETTE, lambda x, y: ((x * 3 + y) % 16,), palette=palette,
        transparency=bytes([255, 0]))
    # Interlaced: sizes that leave some Adam7 passes empty or partial.
    add("interlaced-gray8.png", 11, 9, 8, GRAY, lambda x, y: ((x * 23 + y * 17) % 256,), interlaced=True)
    add("interlaced-rgba8.png", 3, 2, 8, RGBA, lambda x, y: (x * 80, y * 120, 60, 255 - 100 * x), interlaced=True)
    add("interlaced-gray2.png", 5, 5, 2, GRAY, lambda x, y: ((x + y) % 4,), interlaced=True)

    # A browser canvas export: transparent black background (0, 0, 0, 0), black ink whose edges are
    # anti-aliased through alpha only. Composited naively (ignoring alpha) it is all black.
    def ring(x, y):
        distance = ((x - 19.5) ** 2 + (y - 19.5) ** 2) ** 0.5
        coverage = max(0.0, min(1.0, 3 - abs(distance - 12)))
        return (0, 0, 0, int(round(255 * coverage)))
    add("canvas-export.png", 40, 40, 8, RGBA, ring)

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        # One line per fixture.
        lines = [f"  {json.dumps(name)}: {json.dumps(expected[name])}" for name in sorted(expected)]
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
