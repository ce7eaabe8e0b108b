"""Writes Tests/AutogradTests/Fixtures/operations.json: PyTorch's results for the tensor operations.

For each case: the float32 inputs, the output, a fixed random upstream gradient, and the gradient of
sum(output * upstream) with respect to each differentiable input (null for a condition, and for
comparisons, whose results carry no gradient). Computed in float64 from the float32 inputs and stored as
float32 (shortest round-trip decimal), so the fixture is a better oracle than any float32 engine.
OperationParityTests runs every case by name. Run by hand:

    python3 scripts/make_operation_fixtures.py
"""

import argparse
import json
import os

import numpy as np
import torch

SEED = 0
DEFAULT_OUT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "AutogradTests", "Fixtures",
                 "operations.json"))


def uniform(shape, low=-1.0, high=1.0):
    return (torch.rand(shape, dtype=torch.float32) * (high - low) + low)


def positive(shape):
    return uniform(shape, 0.5, 2.0)


def condition(shape):
    return (torch.rand(shape) > 0.5).to(torch.float32)


def first_max(x, dim, keepdim):
    return x.max(dim=dim, keepdim=keepdim).values


def cases():
    """(name, inputs, the differentiable inputs (None: all), function of float64 tensors), the inputs drawn
    from torch's generator in order. Swift's OperationParityTests has one closure per name."""
    return [
        ("add_bias_nchw", [uniform([2, 3, 2, 2]), uniform([3, 1, 1])], None, lambda x, b: x + b),
        ("add_same_shape", [uniform([2, 3]), uniform([2, 3])], None, lambda a, b: a + b),
        ("add_scalar_tensor", [uniform([2, 3]), uniform([])], None, lambda a, b: a + b),
        ("subtract_broadcast_both", [uniform([3, 1]), uniform([4])], None, lambda a, b: a - b),
        ("multiply_broadcast", [uniform([2, 1, 4]), uniform([3, 1])], None, lambda a, b: a * b),
        ("multiply_same_shape", [uniform([3, 4]), uniform([3, 4])], None, lambda a, b: a * b),
        ("divide_broadcast", [uniform([2, 3]), positive([3])], None, lambda a, b: a / b),
        ("divide_same_shape", [uniform([2, 3]), positive([2, 3])], None, lambda a, b: a / b),
        ("scalar_minus_tensor", [uniform([2, 3])], None, lambda a: 2.0 - a),
        ("scalar_divided_by_tensor", [positive([2, 3])], None, lambda a: 3.0 / a),
        ("greater_broadcast", [uniform([2, 3]), uniform([3])], [], lambda a, b: (a > b).to(a.dtype)),
        ("less_equal_scalar", [uniform([2, 3])], [], lambda a: (a <= 0.25).to(a.dtype)),
        ("where_broadcast", [condition([2, 3]), uniform([2, 3]), uniform([3])], [1, 2],
         lambda c, a, b: torch.where(c != 0, a, b)),
        ("sum_all", [uniform([2, 3, 4])], None, lambda x: x.sum()),
        ("mean_all", [uniform([2, 3, 4])], None, lambda x: x.mean()),
        ("sum_dim1", [uniform([2, 3, 4])], None, lambda x: x.sum(dim=1)),
        ("sum_dim_minus1_keepdim", [uniform([2, 3, 4])], None, lambda x: x.sum(dim=-1, keepdim=True)),
        ("mean_dim0_keepdim", [uniform([2, 3, 4])], None, lambda x: x.mean(dim=0, keepdim=True)),
        ("mean_dim_minus2", [uniform([2, 3, 4])], None, lambda x: x.mean(dim=-2)),
        ("max_dim_minus1", [uniform([2, 3, 4])], None, lambda x: first_max(x, -1, False)),
        ("max_dim1_keepdim", [uniform([2, 3, 4])], None, lambda x: first_max(x, 1, True)),
        ("permute_2_0_1", [uniform([2, 3, 4])], None, lambda x: x.permute(2, 0, 1)),
        ("transpose_0_minus1", [uniform([2, 3, 4])], None, lambda x: x.transpose(0, -1)),
        ("reshape_minus1", [uniform([2, 3, 4])], None, lambda x: x.reshape(-1, 4)),
        ("cat_dim1", [uniform([2, 3]), uniform([2, 5])], None, lambda a, b: torch.cat([a, b], dim=1)),
        ("cat_dim0_three", [uniform([1, 4]), uniform([2, 4]), uniform([3, 4])], None,
         lambda a, b, c: torch.cat([a, b, c], dim=0)),
        ("stack_dim1", [uniform([2, 4]), uniform([2, 4]), uniform([2, 4])], None,
         lambda a, b, c: torch.stack([a, b, c], dim=1)),
        ("stack_dim_minus1", [uniform([2, 3]), uniform([2, 3])], None, lambda a, b: torch.stack([a, b], dim=-1)),
        ("narrow_dim1", [uniform([4, 6])], None, lambda x: x.narrow(1, 2, 3)),
        ("narrow_dim_minus3", [uniform([3, 2, 4])], None, lambda x: x.narrow(-3, 1, 2)),
        ("exp", [uniform([2, 3])], None, torch.exp),
        ("log", [positive([2, 3])], None, torch.log),
        ("sqrt", [positive([2, 3])], None, torch.sqrt),
        ("pow_3", [uniform([2, 3])], None, lambda x: x.pow(3.0)),
        ("pow_half", [positive([2, 3])], None, lambda x: x.pow(0.5)),
        ("pow_minus2", [positive([2, 3])], None, lambda x: x.pow(-2.0)),
        ("softmax_dim1", [uniform([2, 3, 4], -3, 3)], None, lambda x: torch.softmax(x, dim=1)),
        ("softmax_dim_minus1", [uniform([3, 5], -3, 3)], None, lambda x: torch.softmax(x, dim=-1)),
        ("log_softmax_dim0", [uniform([2, 3, 4], -3, 3)], None, lambda x: torch.log_softmax(x, dim=0)),
        ("log_softmax_dim_minus1", [uniform([3, 5], -3, 3)], None, lambda x: torch.log_softmax(x, dim=-1)),
        # Indexing and slicing; Swift's subscript beside each, in OperationParityTests.
        ("select_dim1", [uniform([3, 4, 5])], None, lambda x: x.select(1, 2)),
        ("select_dim_minus1_index_minus2", [uniform([3, 4, 5])], None, lambda x: x.select(-1, -2)),
        ("index_first", [uniform([3, 4])], None, lambda x: x[1]),
        ("index_negative", [uniform([3, 4])], None, lambda x: x[-1]),
        ("slice_first", [uniform([4, 3])], None, lambda x: x[1:3]),
        ("subscript_all_range", [uniform([3, 6, 2])], None, lambda x: x[:, 2:5]),
        ("subscript_index_all_index", [uniform([2, 3, 4])], None, lambda x: x[-1, :, 0]),
        ("subscript_closed_partial", [uniform([4, 5])], None, lambda x: x[1:3, 2:]),
        ("subscript_scalar", [uniform([2, 3, 4])], None, lambda x: x[0, 1, 2]),
    ]


def values(tensor):
    """Float32 values as the shortest decimals that round-trip through float32."""
    return [float(str(value)) for value in tensor.detach().to(torch.float32).numpy().astype(np.float32).ravel()]


def encode(tensor):
    return {"shape": list(tensor.shape), "data": values(tensor)}


def make_case(name, inputs, differentiable, function):
    differentiable = range(len(inputs)) if differentiable is None else differentiable
    doubles = [x.to(torch.float64).requires_grad_(index in differentiable) for index, x in enumerate(inputs)]
    output = function(*doubles)
    case = {"name": name, "inputs": [encode(x) for x in inputs], "output": encode(output)}
    if differentiable:
        upstream = uniform(list(output.shape)).to(torch.float64)
        gradients = torch.autograd.grad((output * upstream).sum(), [doubles[i] for i in differentiable])
        by_input = dict(zip(differentiable, gradients))
        case["upstream"] = values(upstream)
        case["gradients"] = [encode(by_input[i]) if i in by_input else None for i in range(len(inputs))]
    else:
        case["upstream"] = []
        case["gradients"] = [None] * len(inputs)
    return case


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    arguments = parser.parse_args()
    torch.manual_seed(SEED)
    made = [make_case(*case) for case in cases()]
    document = {
        "description": "PyTorch %s, float64 from float32 inputs, stored as float32; "
                       "gradients of sum(output * upstream); scripts/make_operation_fixtures.py" % torch.__version__,
        "cases": made,
    }
    with open(arguments.out, "w") as file:
        json.dump(document, file, separators=(",", ":"))
        file.write("\n")
    print("wrote %d cases to %s (%d bytes)" % (len(made), arguments.out, os.path.getsize(arguments.out)))


if __name__ == "__main__":
    main()
