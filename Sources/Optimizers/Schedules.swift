import Foundation
import Preconditions

/// A learning rate as a function of the step (the epoch or the batch, as the caller counts), set on the
/// optimizer before each step: `optimizer.learningRate = schedule.learningRate(at: step)`.
public protocol LearningRateSchedule {
    func learningRate(at step: Int) -> Float
}

/// PyTorch's `StepLR`: the base rate times `gamma` every `stepSize` steps.
public struct StepSchedule: LearningRateSchedule {
    public let baseLearningRate: Float
    public let stepSize: Int
    public let gamma: Float

    public init(baseLearningRate: Float, stepSize: Int, gamma: Float = 0.1) {
        checkPrecondition(stepSize > 0, "stepSize must be positive")
        self.baseLearningRate = baseLearningRate
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func learningRate(at step: Int) -> Float {
        baseLearningRate * pow(gamma, Float(step / stepSize))
    }
}

/// PyTorch's `CosineAnnealingLR`: from the base rate down to `minimumLearningRate` along half a cosine
/// over `totalSteps`.
public struct CosineSchedule: LearningRateSchedule {
    public let baseLearningRate: Float
    public let totalSteps: Int
    public let minimumLearningRate: Float

    public init(baseLearningRate: Float, totalSteps: Int, minimumLearningRate: Float = 0) {
        checkPrecondition(totalSteps > 0, "totalSteps must be positive")
        self.baseLearningRate = baseLearningRate
        self.totalSteps = totalSteps
        self.minimumLearningRate = minimumLearningRate
    }

    public func learningRate(at step: Int) -> Float {
        let progress = Float(min(step, totalSteps)) / Float(totalSteps)
        return minimumLearningRate + (baseLearningRate - minimumLearningRate) * (1 + cos(Float.pi * progress)) / 2
    }
}

/// PyTorch's `OneCycleLR` (cosine annealing, learning rate only): from maximum / divisionFactor up to
/// `maximumLearningRate` over the first `warmupFraction` of `totalSteps`, then down to
/// initial / finalDivisionFactor. PyTorch also cycles Adam's β1 by default; this schedule does not.
public struct OneCycleSchedule: LearningRateSchedule {
    public let maximumLearningRate: Float
    public let totalSteps: Int
    public let warmupFraction: Float
    public let divisionFactor: Float
    public let finalDivisionFactor: Float

    public init(
        maximumLearningRate: Float, totalSteps: Int, warmupFraction: Float = 0.3, divisionFactor: Float = 25,
        finalDivisionFactor: Float = 1e4
    ) {
        checkPrecondition(totalSteps > 1, "totalSteps must be at least 2")
        self.maximumLearningRate = maximumLearningRate
        self.totalSteps = totalSteps
        self.warmupFraction = warmupFraction
        self.divisionFactor = divisionFactor
        self.finalDivisionFactor = finalDivisionFactor
    }

    public func learningRate(at step: Int) -> Float {
        let initial = maximumLearningRate / divisionFactor
        let final = initial / finalDivisionFactor
        // PyTorch's phase boundaries: the warm-up ends at step warmupFraction·total − 1, the run at total − 1.
        let warmupEnd = Float(warmupFraction * Float(totalSteps)) - 1
        let end = Float(totalSteps - 1)
        let position = Float(min(step, totalSteps - 1))
        func cosineAnneal(from start: Float, to stop: Float, _ fraction: Float) -> Float {
            stop + (start - stop) * (1 + cos(Float.pi * fraction)) / 2
        }
        if position <= warmupEnd {
            return cosineAnneal(from: initial, to: maximumLearningRate, warmupEnd > 0 ? position / warmupEnd : 1)
        }
        return cosineAnneal(from: maximumLearningRate, to: final, (position - warmupEnd) / (end - warmupEnd))
    }
}
