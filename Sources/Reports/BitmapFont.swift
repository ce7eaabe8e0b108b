/// A tiny 5×7 pixel font for labelling report images: the digits, `%`, `→`, space, and the capitals of
/// "TRUE" and "PREDICTED" (C D E I P R T U). Each glyph is seven rows of five characters, `#` for ink.
public enum BitmapFont {
    public static let glyphWidth = 5
    public static let glyphHeight = 7
    /// Blank columns between neighbouring glyphs, before scaling.
    public static let spacing = 1

    static let glyphs: [Character: [String]] = [
        "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
        "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
        "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
        "3": ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
        "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
        "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
        "6": ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
        "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
        "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
        "9": [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
        "%": ["##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"],
        "→": [".....", "..#..", "...#.", "#####", "...#.", "..#..", "....."],
        " ": [".....", ".....", ".....", ".....", ".....", ".....", "....."],
        "C": [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
        "D": ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
        "E": ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
        "I": [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
        "P": ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
        "R": ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
        "T": ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
        "U": ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    ]

    /// Whether pixel (`column`, `row`) of `character`'s glyph is ink; `character` must be one the font has.
    public static func isInk(_ character: Character, column: Int, row: Int) -> Bool {
        guard let glyph = glyphs[character] else { fatalError("BitmapFont has no glyph for \(character)") }
        let line = glyph[row]
        return line[line.index(line.startIndex, offsetBy: column)] == "#"
    }

    /// The width in pixels of `text` drawn at `scale` (glyphs and the spacing between them).
    public static func width(of text: String, scale: Int = 1) -> Int {
        text.isEmpty ? 0 : (text.count * (glyphWidth + spacing) - spacing) * scale
    }
}
