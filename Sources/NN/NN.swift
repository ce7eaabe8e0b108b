// The NN target; see Package.swift.
