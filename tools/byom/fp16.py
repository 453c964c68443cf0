"""float32 ONNX graph -> float16 graph, with the onnx package only.

torch 1.13 cannot run half convolutions on the CPU, so the fixtures are exported in float32 and
converted here. The part of the graph computed from the time input alone (sinusoidal embedding,
alpha-bar lookup, time MLP) stays float32: in float16 a product like 999 * f rounds to a multiple
of 0.5 and sin() of it is off by up to 0.25; diffusers also computes its time embedding in float32
and casts it to the sample dtype. A Cast to float16 is inserted where that part feeds the rest.

Converted: float initializers, Constant / ConstantOfShape values, Cast `to` attributes, graph
input/output and value_info types. Integer tensors are untouched.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32, F16 = TensorProto.FLOAT, TensorProto.FLOAT16


def _time_only(graph, time_inputs):
    """Names of tensors computed from the time inputs alone (plus constants)."""
    consts = {i.name for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            consts.update(node.output)
    time_only = set(time_inputs)
    for node in graph.node:  # nodes are topologically sorted
        ins = [i for i in node.input if i]
        if node.op_type != "Constant" and ins and all(i in time_only or i in consts for i in ins) and any(
            i in time_only for i in ins
        ):
            time_only.update(node.output)
    return time_only


def _to_half(t):
    return numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name)


def convert(model, time_inputs):
    """Returns a float16 copy of `model`; tensors computed from `time_inputs` alone stay float32."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    keep = _time_only(g, time_inputs)
    consumers = {}
    for node in g.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)

    def kept_node(node):
        return all(o in keep for o in node.output) and len(node.output) > 0

    def only_kept_consumers(name):
        return all(kept_node(c) for c in consumers.get(name, []))

    # Constants (initializers, Constant nodes) follow their consumers; a constant shared by both sides would
    # need two copies (none is in these graphs).
    for i, init in enumerate(g.initializer):
        if init.data_type == F32 and not only_kept_consumers(init.name):
            assert not any(kept_node(c) for c in consumers.get(init.name, [])), init.name
            g.initializer[i].CopyFrom(_to_half(init))
    new_nodes = []
    for node in g.node:
        if node.op_type == "Constant" and not only_kept_consumers(node.output[0]):
            for a in node.attribute:
                if a.name == "value" and a.t.data_type == F32:
                    a.t.CopyFrom(_to_half(a.t))
        if node.op_type == "ConstantOfShape" and not kept_node(node):
            for a in node.attribute:
                if a.name == "value" and a.t.data_type == F32:
                    a.t.CopyFrom(_to_half(a.t))
        if node.op_type == "Cast" and not kept_node(node):
            for a in node.attribute:
                if a.name == "to" and a.i == F32:
                    a.i = F16
        if not kept_node(node):
            for j, name in enumerate(node.input):
                if name in keep and name not in time_inputs:
                    cast = name + "_to_fp16"
                    if not any(n.output[0] == cast for n in new_nodes):
                        new_nodes.append(helper.make_node("Cast", [name], [cast], to=F16, name=cast))
                    node.input[j] = cast
        new_nodes.append(node)
    del g.node[:]
    g.node.extend(new_nodes)
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type == F32 and vi.name not in keep:
            vi.type.tensor_type.elem_type = F16
    onnx.checker.check_model(m)
    # Type errors (a float32 tensor reaching a float16 input) surface here.
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    return m
