"""Read TensorFlow frozen graphs (``GraphDef`` ``.pb``) and text graphs (``.pbtxt``) without TensorFlow.

The message types (``GraphDef``, ``NodeDef``, ``AttrValue``, ``TensorProto``, ``TensorShapeProto``
and the ``DataType`` enum) are declared here in code, field numbers as in TensorFlow's
``tensorflow/core/framework/*.proto``, and built with the ``protobuf`` package's descriptor pool
and message factory (no ``protoc``, no generated ``_pb2`` modules).  Only the fields a frozen
inference graph uses are declared; anything else in a file (``versions``, function library
contents, ...) is kept as unknown fields by the binary parser and skipped by the text parser.

``const_arrays(graph)`` turns every ``Const`` node into a numpy array (``tensor_content`` bytes or
the repeated ``*_val`` fields, broadcast to the shape as TensorFlow does for a single value).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import DataError, UsageError

PACKAGE = "vcmbench_tf"

# DataType enum values (tensorflow/core/framework/types.proto) -> numpy dtype (None: not convertible here).
DATA_TYPES: dict[str, tuple[int, Any]] = {
    "DT_INVALID": (0, None), "DT_FLOAT": (1, np.float32), "DT_DOUBLE": (2, np.float64), "DT_INT32": (3, np.int32),
    "DT_UINT8": (4, np.uint8), "DT_INT16": (5, np.int16), "DT_INT8": (6, np.int8), "DT_STRING": (7, None),
    "DT_COMPLEX64": (8, np.complex64), "DT_INT64": (9, np.int64), "DT_BOOL": (10, np.bool_),
    "DT_QINT8": (11, None), "DT_QUINT8": (12, None), "DT_QINT32": (13, None), "DT_BFLOAT16": (14, None),
    "DT_QINT16": (15, None), "DT_QUINT16": (16, None), "DT_UINT16": (17, np.uint16), "DT_COMPLEX128": (18, np.complex128),
    "DT_HALF": (19, np.float16), "DT_RESOURCE": (20, None), "DT_VARIANT": (21, None), "DT_UINT32": (22, np.uint32),
    "DT_UINT64": (23, np.uint64),
}
NUMPY_DTYPE = {num: dt for num, dt in DATA_TYPES.values()}

# The repeated value field of a TensorProto for each dtype (used when tensor_content is empty).
VAL_FIELD = {1: "float_val", 2: "double_val", 3: "int_val", 4: "int_val", 5: "int_val", 6: "int_val", 9: "int64_val",
             10: "bool_val", 17: "int_val", 19: "half_val", 22: "uint32_val", 23: "uint64_val"}


def _file_descriptor():
    from google.protobuf import descriptor_pb2

    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="vcmbench_tf_graph.proto", package=PACKAGE, syntax="proto3")

    enum = fdp.enum_type.add(name="DataType")
    for name, (num, _) in DATA_TYPES.items():
        enum.value.add(name=name, number=num)

    def msg(name: str, parent=None):
        return (parent.nested_type if parent is not None else fdp.message_type).add(name=name)

    def field(m, name: str, number: int, ftype: int, label: int = F.LABEL_OPTIONAL, type_name: str | None = None,
              packed: bool = False, oneof: int | None = None):
        f = m.field.add(name=name, number=number, type=ftype, label=label)
        if type_name:
            f.type_name = f".{PACKAGE}.{type_name}"
        if packed:
            f.options.packed = True
        if oneof is not None:
            f.oneof_index = oneof
        return f

    rep = F.LABEL_REPEATED
    shape = msg("TensorShapeProto")
    dim = msg("Dim", shape)
    field(dim, "size", 1, F.TYPE_INT64)
    field(dim, "name", 2, F.TYPE_STRING)
    field(shape, "dim", 2, F.TYPE_MESSAGE, rep, "TensorShapeProto.Dim")
    field(shape, "unknown_rank", 3, F.TYPE_BOOL)

    tensor = msg("TensorProto")
    field(tensor, "dtype", 1, F.TYPE_ENUM, type_name="DataType")
    field(tensor, "tensor_shape", 2, F.TYPE_MESSAGE, type_name="TensorShapeProto")
    field(tensor, "version_number", 3, F.TYPE_INT32)
    field(tensor, "tensor_content", 4, F.TYPE_BYTES)
    field(tensor, "float_val", 5, F.TYPE_FLOAT, rep, packed=True)
    field(tensor, "double_val", 6, F.TYPE_DOUBLE, rep, packed=True)
    field(tensor, "int_val", 7, F.TYPE_INT32, rep, packed=True)
    field(tensor, "string_val", 8, F.TYPE_BYTES, rep)
    field(tensor, "int64_val", 10, F.TYPE_INT64, rep, packed=True)
    field(tensor, "bool_val", 11, F.TYPE_BOOL, rep, packed=True)
    field(tensor, "half_val", 13, F.TYPE_INT32, rep, packed=True)
    field(tensor, "uint32_val", 16, F.TYPE_UINT32, rep, packed=True)
    field(tensor, "uint64_val", 17, F.TYPE_UINT64, rep, packed=True)

    attr = msg("AttrValue")
    attr.oneof_decl.add(name="value")
    lst = msg("ListValue", attr)
    field(lst, "s", 2, F.TYPE_BYTES, rep)
    field(lst, "i", 3, F.TYPE_INT64, rep, packed=True)
    field(lst, "f", 4, F.TYPE_FLOAT, rep, packed=True)
    field(lst, "b", 5, F.TYPE_BOOL, rep, packed=True)
    field(lst, "type", 6, F.TYPE_ENUM, rep, "DataType", packed=True)
    field(lst, "shape", 7, F.TYPE_MESSAGE, rep, "TensorShapeProto")
    field(lst, "tensor", 8, F.TYPE_MESSAGE, rep, "TensorProto")
    field(attr, "list", 1, F.TYPE_MESSAGE, type_name="AttrValue.ListValue", oneof=0)
    field(attr, "s", 2, F.TYPE_BYTES, oneof=0)
    field(attr, "i", 3, F.TYPE_INT64, oneof=0)
    field(attr, "f", 4, F.TYPE_FLOAT, oneof=0)
    field(attr, "b", 5, F.TYPE_BOOL, oneof=0)
    field(attr, "type", 6, F.TYPE_ENUM, type_name="DataType", oneof=0)
    field(attr, "shape", 7, F.TYPE_MESSAGE, type_name="TensorShapeProto", oneof=0)
    field(attr, "tensor", 8, F.TYPE_MESSAGE, type_name="TensorProto", oneof=0)
    field(attr, "placeholder", 9, F.TYPE_STRING, oneof=0)

    node = msg("NodeDef")
    entry = msg("AttrEntry", node)
    entry.options.map_entry = True
    field(entry, "key", 1, F.TYPE_STRING)
    field(entry, "value", 2, F.TYPE_MESSAGE, type_name="AttrValue")
    field(node, "name", 1, F.TYPE_STRING)
    field(node, "op", 2, F.TYPE_STRING)
    field(node, "input", 3, F.TYPE_STRING, rep)
    field(node, "device", 4, F.TYPE_STRING)
    field(node, "attr", 5, F.TYPE_MESSAGE, rep, "NodeDef.AttrEntry")

    graph = msg("GraphDef")
    field(graph, "node", 1, F.TYPE_MESSAGE, rep, "NodeDef")
    field(graph, "version", 3, F.TYPE_INT32)
    return fdp


@lru_cache(maxsize=1)
def graph_def_class():
    """The ``GraphDef`` message class, built once per process in a private descriptor pool."""
    try:
        from google.protobuf import descriptor_pool, message_factory
    except ImportError as exc:  # pragma: no cover - protobuf is a dependency
        raise UsageError("Reading TensorFlow graphs needs the protobuf package: `pip install protobuf`.") from exc
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file_descriptor())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.GraphDef"))


def read_graph(path: str | Path):
    """Parse a binary ``GraphDef`` (frozen ``.pb``)."""
    from google.protobuf.message import DecodeError

    g = graph_def_class()()
    try:
        g.ParseFromString(Path(path).read_bytes())
    except DecodeError as exc:
        raise DataError(f"{path} is not a TensorFlow GraphDef ({exc}); reinstall the model package.") from exc
    return g


def read_text_graph(path: str | Path):
    """Parse a text-format ``GraphDef`` (``.pbtxt``, e.g. OpenCV's text graphs); unknown fields are skipped."""
    from google.protobuf import text_format

    g = graph_def_class()()
    try:
        text_format.Parse(Path(path).read_text(encoding="utf-8"), g, allow_unknown_field=True)
    except text_format.ParseError as exc:
        raise DataError(f"{path} is not a TensorFlow text graph ({exc}).") from exc
    return g


def tensor_to_array(t) -> np.ndarray:
    """A ``TensorProto`` as a numpy array of its shape."""
    shape = tuple(int(d.size) for d in t.tensor_shape.dim)
    if t.dtype == 7:  # DT_STRING: an object array of bytes
        vals = [bytes(v) for v in t.string_val]
        return np.asarray(vals * (int(np.prod(shape)) if len(vals) == 1 and shape else 1), dtype=object).reshape(shape)
    dtype = NUMPY_DTYPE.get(t.dtype)
    if dtype is None:
        raise DataError(f"TensorProto of data type {t.dtype} cannot be read here.")
    n = int(np.prod(shape)) if shape else 1
    if t.tensor_content:
        a = np.frombuffer(t.tensor_content, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
    else:
        vals = list(getattr(t, VAL_FIELD[t.dtype]))
        if t.dtype == 19:  # half values are stored as their bit patterns in int32s
            a = np.asarray(vals, dtype=np.uint16).view(np.float16)
        else:
            a = np.asarray(vals, dtype=dtype)
        if a.size == 1 and n != 1:  # TensorFlow repeats a single (or the last) value to fill the shape
            a = np.full(n, a[0], dtype=dtype)
        elif a.size == 0:
            a = np.zeros(n, dtype=dtype)
    if a.size != n:
        raise DataError(f"TensorProto holds {a.size} values for shape {shape}.")
    return a.reshape(shape)


def const_arrays(graph) -> dict[str, np.ndarray]:
    """``{node name: array}`` for every ``Const`` node of ``graph``."""
    return {n.name: tensor_to_array(n.attr["value"].tensor) for n in graph.node if n.op == "Const"}


def attr_value(node, key: str, default: Any = None) -> Any:
    """Python value of ``node.attr[key]`` (ints, floats, bools, strings, lists of ints/floats, arrays)."""
    if key not in node.attr:
        return default
    a = node.attr[key]
    kind = a.WhichOneof("value")
    if kind == "list":
        if len(a.list.i):
            return [int(v) for v in a.list.i]
        if len(a.list.f):
            return [float(v) for v in a.list.f]
        return [bytes(v).decode() for v in a.list.s]
    if kind == "s":
        return bytes(a.s).decode()
    if kind == "tensor":
        return tensor_to_array(a.tensor)
    return getattr(a, kind) if kind else default
