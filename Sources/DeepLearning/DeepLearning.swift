// The engine as one module: tensors and reverse-mode autodiff (Autograd), modules, layers, losses and
// safetensors weights (NN), optimizers and schedules (Optimizers), IDX files, MNIST and the DataLoader
// (Datasets), the training loop with its callbacks (Training). `import DeepLearning` is all a program needs to
// define, train and save its own models. Each is a direct dependency, so that the documentation
// (DeepLearning.docc) can link to every one of them.
@_exported import Autograd
@_exported import Datasets
@_exported import NN
@_exported import Optimizers
@_exported import Training
