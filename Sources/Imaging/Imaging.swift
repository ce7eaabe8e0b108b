// The Imaging target; see Package.swift.
