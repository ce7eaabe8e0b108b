/// The version of this package.
public enum PackageVersion {
    /// The release this source tree is; tags are this string.
    public static let current = "0.2.0"
}
