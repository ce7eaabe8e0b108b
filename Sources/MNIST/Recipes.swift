/// Named training recipes, `mnist train --recipe NAME`: each sets the model, the optimizer and its learning
/// rate, the schedule, the batch size, augmentation, normalisation and the epochs. Options given on the
/// command line override the recipe's settings.
public enum Recipe: String, CaseIterable, Codable, Sendable {
    /// The PyTorch tutorial's (the default): LeNet5, Adam with learning rate 0.001, a constant rate, batches
    /// of 64, 10 epochs, no augmentation, no normalisation.
    case tutorial
    /// 99% test accuracy in a few seconds on two cores: `FastCNN`, Adam up to 0.01 and down again
    /// (one-cycle), batches of 128, one epoch (seeds 0–4 on a Zen 4: 98.97–99.15%, median 99.06%, in 3.6–5.0
    /// s from process start to exit; see the README).
    case speed
    /// The best single model this package trains within 30 minutes on two cores: the VGG-style network
    /// with augmentation, AdamW (learning rate 0.001 along a cosine, decoupled weight decay 0.05), batches of
    /// 64, 25 epochs: what fits in 30 minutes, process start to exit, at the 54–65 s an epoch first measured on
    /// a Zen 4 (seeds 0–2 reached 99.69, 99.65 and 99.70% on an Intel Xeon, against 99.64, 99.67 and 99.62%
    /// with Adam; see the README).
    case best

    /// The recipe's settings, seed 0.
    public var configuration: TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.recipe = self
        switch self {
        case .tutorial:
            break
        case .speed:
            configuration.model = .fast
            configuration.learningRate = 0.01
            configuration.schedule = .onecycle
            configuration.batchSize = 128
            configuration.epochs = 1
        case .best:
            configuration.model = .vgg
            configuration.optimizer = .adamw
            configuration.weightDecay = 0.05
            configuration.augment = true
            configuration.schedule = .cosine
            configuration.epochs = 25
        }
        return configuration
    }
}
