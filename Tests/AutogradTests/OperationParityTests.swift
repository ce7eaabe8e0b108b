import Foundation
import TestSupport
import Testing
@testable import Autograd

/// The tensor operations (indexing and slicing included) against PyTorch: every case of Fixtures/operations.json (written by
/// scripts/make_operation_fixtures.py, PyTorch in float64 from the same float32 inputs) run through the
/// Swift operation of the same name, its output and the gradients of Σ output · upstream compared.
@Suite struct OperationParityTests {
    /// A tensor as the fixture stores it.
    struct StoredTensor: Decodable {
        let shape: [Int]
        let data: [Float]
    }

    /// One operation on some inputs, with PyTorch's output and input gradients (nil for an input that
    /// gets none: a condition, a comparison's operands).
    struct Case: Decodable {
        let name: String
        let inputs: [StoredTensor]
        let output: StoredTensor
        let upstream: [Float]
        let gradients: [StoredTensor?]
    }

    struct Fixture: Decodable {
        let cases: [Case]
    }

    /// The Swift side of every fixture case, by name.
    static let operations: [String: @Sendable ([Tensor]) -> Tensor] = [
        "add_bias_nchw": { $0[0] + $0[1] },
        "add_same_shape": { $0[0] + $0[1] },
        "add_scalar_tensor": { $0[0] + $0[1] },
        "subtract_broadcast_both": { $0[0] - $0[1] },
        "multiply_broadcast": { $0[0] * $0[1] },
        "multiply_same_shape": { $0[0] * $0[1] },
        "divide_broadcast": { $0[0] / $0[1] },
        "divide_same_shape": { $0[0] / $0[1] },
        "scalar_minus_tensor": { 2 - $0[0] },
        "scalar_divided_by_tensor": { 3 / $0[0] },
        "greater_broadcast": { $0[0] .> $0[1] },
        "less_equal_scalar": { $0[0] .<= 0.25 },
        "where_broadcast": { Tensor.where($0[0], $0[1], $0[2]) },
        "sum_all": { $0[0].sum() },
        "mean_all": { $0[0].mean() },
        "sum_dim1": { $0[0].sum(dim: 1) },
        "sum_dim_minus1_keepdim": { $0[0].sum(dim: -1, keepDim: true) },
        "mean_dim0_keepdim": { $0[0].mean(dim: 0, keepDim: true) },
        "mean_dim_minus2": { $0[0].mean(dim: -2) },
        "max_dim_minus1": { $0[0].max(dim: -1).values },
        "max_dim1_keepdim": { $0[0].max(dim: 1, keepDim: true).values },
        "permute_2_0_1": { $0[0].permute(2, 0, 1) },
        "transpose_0_minus1": { $0[0].transpose(0, -1) },
        "reshape_minus1": { $0[0].reshaped([-1, 4]) },
        "cat_dim1": { Tensor.cat($0, dim: 1) },
        "cat_dim0_three": { Tensor.cat($0, dim: 0) },
        "stack_dim1": { Tensor.stack($0, dim: 1) },
        "stack_dim_minus1": { Tensor.stack($0, dim: -1) },
        "narrow_dim1": { $0[0].narrow(dim: 1, start: 2, length: 3) },
        "narrow_dim_minus3": { $0[0].narrow(dim: -3, start: 1, length: 2) },
        "exp": { $0[0].exp() },
        "log": { $0[0].log() },
        "sqrt": { $0[0].sqrt() },
        "pow_3": { $0[0].pow(3) },
        "pow_half": { $0[0].pow(0.5) },
        "pow_minus2": { $0[0].pow(-2) },
        "softmax_dim1": { $0[0].softmax(dim: 1) },
        "softmax_dim_minus1": { $0[0].softmax(dim: -1) },
        "log_softmax_dim0": { $0[0].logSoftmax(dim: 0) },
        "log_softmax_dim_minus1": { $0[0].logSoftmax(dim: -1) },
        "select_dim1": { $0[0].select(dim: 1, index: 2) },
        "select_dim_minus1_index_minus2": { $0[0].select(dim: -1, index: -2) },
        "index_first": { $0[0][1] },
        "index_negative": { $0[0][-1] },
        "slice_first": { $0[0][1..<3] },
        "subscript_all_range": { $0[0][.all, 2..<5] },
        "subscript_index_all_index": { $0[0][-1, .all, 0] },
        "subscript_closed_partial": { $0[0][1...2, 2...] },
        "subscript_scalar": { $0[0][0, 1, 2] },
    ]

    static func loadCases() throws -> [Case] {
        let url = try #require(
            Bundle.module.url(forResource: "operations", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).cases
    }

    /// The fixture and the table name the same operations, so no case is skipped and none is untested.
    @Test func everyCaseHasAnOperationAndEveryOperationACase() throws {
        let names = try Self.loadCases().map(\.name)
        #expect(names.count == Set(names).count, "a case name appears twice")
        #expect(Set(names) == Set(Self.operations.keys))
    }

    /// Forward within 1e-5 of each element (relative); gradients within 1e-4 of the largest, the
    /// PyTorchParityTests bound. Measured: 2.8e-6 relative at worst (log-softmax along dimension 0, whose
    /// values near 0 are differences of larger ones), gradients 2.1e-7 of the largest.
    @Test func operationsMatchPyTorch() throws {
        for testCase in try Self.loadCases() {
            let operation = try #require(Self.operations[testCase.name], "no operation for \(testCase.name)")
            // Every input asks for a gradient, so the ones PyTorch gives none (a condition, a comparison's
            // operands) check that none comes.
            let inputs = testCase.inputs.map { Tensor(shape: $0.shape, data: $0.data, requiresGrad: true) }
            let output = operation(inputs)
            expectClose(
                output.data, testCase.output.data, relative: 1e-5,
                shapes: (output.shape, testCase.output.shape), "\(testCase.name) output")
            guard testCase.gradients.contains(where: { $0 != nil }) else {
                #expect(!output.requiresGrad, "\(testCase.name) records a gradient")
                continue
            }
            output.backward(seed: testCase.upstream)
            for (index, (input, expected)) in zip(inputs, testCase.gradients).enumerated() {
                guard let expected else {
                    #expect(input.grad == nil, "\(testCase.name): input \(index) got a gradient")
                    continue
                }
                let gradient = try #require(input.grad, "\(testCase.name): input \(index) got no gradient")
                expectClose(
                    gradient.data, expected.data, relativeToLargest: 1e-4, shapes: (gradient.shape, expected.shape),
                    "\(testCase.name) gradient of input \(index)")
            }
        }
    }
}
