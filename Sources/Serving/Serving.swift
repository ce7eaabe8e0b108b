// The Serving target; see Package.swift.
