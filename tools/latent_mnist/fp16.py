"""float32 → float16 conversion of an ONNX graph, written for the latent-MNIST exports.

All float initializers, Constant tensors, Cast targets and float graph inputs/outputs become float16;
integer tensors stay integer. Exception (`keep_fp32_from`): nodes whose only non-constant inputs come
from the named integer inputs (e.g. the timestep's sinusoidal embedding, Cast → Mul → Sin/Cos → Concat)
stay float32 up to the first Gemm/MatMul, and a Cast to float16 is inserted where they meet the rest (and Resize's roi/scales stay float32, as the op requires):
in float16 an angle t·f near t = 999 has a spacing of 0.5 rad, which would scramble sin/cos.
Second exception: every ReduceMean (the group norms' means of x and of (x − μ)²) runs in float32
between two Casts. onnxruntime's CPU kernel accumulates a float16 reduction in float32, its WebGPU
kernel in float16, where the sum of squares overflows (65504) and the network's output was off by 40 %.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32, F16 = TensorProto.FLOAT, TensorProto.FLOAT16
STOP = {"Gemm", "MatMul", "Conv"}


def _tensor_to_f16(t):
    if t.data_type != F32:
        return t
    a = numpy_helper.to_array(t).astype(np.float16)
    return numpy_helper.from_array(a, t.name)


def convert(model, keep_fp32_from=()):
    g = model.graph
    const = {i.name for i in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            const.update(n.output)
    island_t = set(keep_fp32_from)
    island_n = set()
    for i, n in enumerate(g.node):  # nodes are topologically sorted
        if n.op_type in STOP or n.op_type == "Constant":
            continue
        ins = [x for x in n.input if x and x not in const]
        if ins and all(x in island_t for x in ins):
            island_n.add(i)
            island_t.update(n.output)
    # constants used only by island nodes stay float32
    users = {}
    for i, n in enumerate(g.node):
        for x in n.input:
            users.setdefault(x, set()).add(i)
    keep_const = {c for c in const if users.get(c) and users[c] <= island_n}
    for n in g.node:  # Resize's roi and scales are float32 whatever the data type
        if n.op_type == "Resize":
            keep_const.update(x for x in n.input[1:3] if x in const)

    new_inits = [i if i.name in keep_const else _tensor_to_f16(i) for i in g.initializer]
    del g.initializer[:]
    g.initializer.extend(new_inits)
    casts = {}
    new_nodes = []
    reduce_casts = 0
    for i, n in enumerate(g.node):
        if n.op_type in ("Constant", "ConstantOfShape") and not (set(n.output) & keep_const) and i not in island_n:
            for a in n.attribute:
                if a.name == "value" and a.t.data_type == F32:
                    a.t.CopyFrom(_tensor_to_f16(a.t))
        if n.op_type == "Cast" and i not in island_n:
            for a in n.attribute:
                if a.name == "to" and a.i == F32:
                    a.i = F16
        if i not in island_n:
            for k, x in enumerate(n.input):
                if x in island_t and x not in keep_fp32_from:  # float32 island output → float16
                    if x not in casts:
                        casts[x] = x + "_f16"
                        new_nodes.append(helper.make_node("Cast", [x], [casts[x]], to=F16, name=x + "_to_f16"))
                    n.input[k] = casts[x]
        if n.op_type == "ReduceMean" and i not in island_n:
            # float16 in and out, the accumulation in float32 (see the module docstring)
            src, dst = n.input[0], n.output[0]
            new_nodes.append(helper.make_node("Cast", [src], [src + "_rm32"], to=F32, name=src + "_to_f32_rm"))
            n.input[0] = src + "_rm32"
            n.output[0] = dst + "_rm32"
            new_nodes.append(n)
            new_nodes.append(helper.make_node("Cast", [dst + "_rm32"], [dst], to=F16, name=dst + "_to_f16_rm"))
            reduce_casts += 1
            continue
        new_nodes.append(n)
    del g.node[:]
    g.node.extend(new_nodes)
    for v in list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == F32:
            v.type.tensor_type.elem_type = F16
    del g.value_info[:]
    onnx.checker.check_model(model)
    return model, dict(fp32_nodes=len(island_n), casts=len(casts), fp32_reductions=reduce_casts)
