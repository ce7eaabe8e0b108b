// The Optimizers target; see Package.swift.
