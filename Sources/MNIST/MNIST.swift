// The MNIST target; see Package.swift.
