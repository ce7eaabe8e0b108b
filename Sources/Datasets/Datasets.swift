// The Datasets target; see Package.swift.
