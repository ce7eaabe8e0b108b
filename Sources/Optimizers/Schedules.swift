import Foundation
import Preconditions

/// A learning rate as a function of the step (the epoch or the batch, as the caller counts), set on the
/// optimizer before each step: `optimizer.learningRate = schedule.learningRate(at: step)`.
public protocol LearningRateSchedule {
    /// The learning rate for step `step`, counted from 0.
    func learningRate(at step: Int) -> Float
}

/// PyTorch's `StepLR`: the base rate times `gamma` every `stepSize` steps.
public struct StepSchedule: LearningRateSchedule {
    /// The rate of the first `stepSize` steps.
    public let baseLearningRate: Float
    /// The number of steps between decays (PyTorch's `step_size`).
    public let stepSize: Int
    /// The factor applied every `stepSize` steps (PyTorch's `gamma`).
    public let gamma: Float

    /// `baseLearningRate` times `gamma` (0.1 by default, as in PyTorch) every `stepSize` steps; a `stepSize` below 1
    /// stops the program.
    public init(baseLearningRate: Float, stepSize: Int, gamma: Float = 0.1) {
        checkPrecondition(stepSize > 0, "stepSize must be positive")
        self.baseLearningRate = baseLearningRate
        self.stepSize = stepSize
        self.gamma = gamma
    }

    /// baseLearningRate · gamma^⌊step / stepSize⌋.
    public func learningRate(at step: Int) -> Float {
        baseLearningRate * pow(gamma, Float(step / stepSize))
    }
}

/// PyTorch's `CosineAnnealingLR`: from the base rate down to `minimumLearningRate` along half a cosine
/// over `totalSteps`.
public struct CosineSchedule: LearningRateSchedule {
    /// The rate at step 0.
    public let baseLearningRate: Float
    /// The steps from the base rate to the minimum (PyTorch's `T_max`).
    public let totalSteps: Int
    /// The rate at `totalSteps` and after (PyTorch's `eta_min`).
    public let minimumLearningRate: Float

    /// Half a cosine from `baseLearningRate` down to `minimumLearningRate` (0 by default) over `totalSteps` steps; a
    /// `totalSteps` below 1 stops the program.
    public init(baseLearningRate: Float, totalSteps: Int, minimumLearningRate: Float = 0) {
        checkPrecondition(totalSteps > 0, "totalSteps must be positive")
        self.baseLearningRate = baseLearningRate
        self.totalSteps = totalSteps
        self.minimumLearningRate = minimumLearningRate
    }

    /// min + (base − min) · (1 + cos(π · step / totalSteps)) / 2, the step capped at `totalSteps` (where PyTorch's
    /// rate would rise again).
    public func learningRate(at step: Int) -> Float {
        let progress = Float(min(step, totalSteps)) / Float(totalSteps)
        return minimumLearningRate + (baseLearningRate - minimumLearningRate) * (1 + cos(Float.pi * progress)) / 2
    }
}

/// PyTorch's `OneCycleLR` (cosine annealing, learning rate only): from maximum / divisionFactor up to
/// `maximumLearningRate` over the first `warmupFraction` of `totalSteps`, then down to
/// initial / finalDivisionFactor. PyTorch also cycles Adam's β1 by default; this schedule does not.
public struct OneCycleSchedule: LearningRateSchedule {
    /// The peak rate, reached at the end of the warm-up (PyTorch's `max_lr`).
    public let maximumLearningRate: Float
    /// The steps of the whole cycle (PyTorch's `total_steps`); later steps keep the final rate.
    public let totalSteps: Int
    /// The fraction of `totalSteps` spent rising to the peak (PyTorch's `pct_start`).
    public let warmupFraction: Float
    /// The initial rate is maximumLearningRate / divisionFactor (PyTorch's `div_factor`).
    public let divisionFactor: Float
    /// The final rate is the initial rate / finalDivisionFactor (PyTorch's `final_div_factor`).
    public let finalDivisionFactor: Float

    /// A cycle over `totalSteps` steps (at least 2), by default with PyTorch's warm-up over 0.3 of the steps, initial
    /// rate maximum / 25 and final rate initial / 1e4. Fewer steps, a warm-up fraction outside 0…1 or a division
    /// factor that is not positive stop the program.
    public init(
        maximumLearningRate: Float, totalSteps: Int, warmupFraction: Float = 0.3, divisionFactor: Float = 25,
        finalDivisionFactor: Float = 1e4
    ) {
        checkPrecondition(totalSteps > 1, "totalSteps must be at least 2")
        checkPrecondition(
            warmupFraction >= 0 && warmupFraction <= 1, "warmupFraction must be between 0 and 1, got \(warmupFraction)")
        checkPrecondition(
            divisionFactor > 0 && finalDivisionFactor > 0,
            "divisionFactor and finalDivisionFactor must be positive, got \(divisionFactor) and \(finalDivisionFactor)")
        self.maximumLearningRate = maximumLearningRate
        self.totalSteps = totalSteps
        self.warmupFraction = warmupFraction
        self.divisionFactor = divisionFactor
        self.finalDivisionFactor = finalDivisionFactor
    }

    /// Half a cosine from the initial rate up to the peak until step warmupFraction · totalSteps − 1, then another
    /// down to the final rate at step totalSteps − 1, kept after.
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
