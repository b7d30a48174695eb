"""Tensors as raw bytes: the binary tensor data extension over HTTP and ``raw_*_contents`` over
gRPC share one layout.

A tensor's raw form is its elements flattened row-major, little-endian, without padding:
fixed-size datatypes (``BOOL`` one byte 0/1, ``INT8``..``UINT64``, ``FP16``/``FP32``/``FP64``)
back to back, and ``BYTES`` as each element's length (4-byte little-endian unsigned) followed
by its bytes. Decoding yields the plain values the JSON path yields (``BYTES`` as text, which
must be valid UTF-8), so every later step (row checks, scoring, the prediction log, monitoring)
sees one kind of input whatever the wire carried. Every size is checked against the bytes
actually present before anything is allocated, so a hostile size costs nothing.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from verdict.serving._errors import ServiceError
from verdict.serving._schemas import ErrorDetail

FIXED: dict[str, np.dtype] = {
    "BOOL": np.dtype("?"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
_LENGTH = struct.Struct("<I")


class RawTensorError(ValueError):
    """Raw bytes that do not hold the tensor they claim to (the message says why)."""


def decode_raw(datatype: str, raw: bytes | memoryview, count: int) -> list[Any]:
    """The ``count`` elements of a raw tensor as plain Python values.

    Raises
    ------
    RawTensorError
        The bytes are not ``count`` elements of ``datatype`` exactly (or a ``BOOL`` byte is
        not 0/1, or a ``BYTES`` element is not UTF-8).
    """
    if datatype == "BYTES":
        return _decode_bytes(raw, count)
    dtype = FIXED.get(datatype)
    if dtype is None:
        raise RawTensorError(f"datatype {datatype[:32]!r} has no raw form")
    if count < 0 or len(raw) != count * dtype.itemsize:
        raise RawTensorError(
            f"{len(raw):,} bytes cannot hold {count:,} {datatype} elements "
            f"({dtype.itemsize} byte{'s' if dtype.itemsize > 1 else ''} each)"
        )
    if datatype == "BOOL":
        values = np.frombuffer(raw, dtype=np.uint8)
        if values.size and values.max() > 1:
            raise RawTensorError("a BOOL element is neither 0 nor 1")
        return values.astype(bool).tolist()
    return np.frombuffer(raw, dtype=dtype).tolist()


def _decode_bytes(raw: bytes | memoryview, count: int) -> list[Any]:
    view = memoryview(raw)
    out: list[Any] = []
    at, end = 0, len(view)
    while at < end:
        if len(out) == count:
            raise RawTensorError(f"{end - at:,} bytes follow the {count:,} BYTES elements")
        if end - at < 4:
            raise RawTensorError(f"element {len(out)} is cut inside its 4-byte length")
        (size,) = _LENGTH.unpack_from(view, at)
        at += 4
        if size > end - at:
            raise RawTensorError(
                f"element {len(out)} claims {size:,} bytes where {end - at:,} remain"
            )
        try:
            out.append(str(view[at : at + size], "utf-8"))
        except UnicodeDecodeError:
            raise RawTensorError(f"element {len(out)} is not valid UTF-8 text") from None
        at += size
    if len(out) != count:
        raise RawTensorError(f"{len(out):,} BYTES elements where the shape needs {count:,}")
    return out


def encode_raw(datatype: str, values: Any) -> bytes:
    """``values`` (a sequence or array, flat row-major) in the raw form of ``datatype``."""
    if datatype == "BYTES":
        parts = [str(v).encode("utf-8") for v in values]
        return b"".join(_LENGTH.pack(len(p)) + p for p in parts)
    return np.ascontiguousarray(np.asarray(values), dtype=FIXED[datatype]).tobytes()


def split_binary_inputs(
    inputs: Sequence[dict[str, Any]], binary: bytes | memoryview
) -> list[dict[str, Any]]:
    """The inputs with each binary one's ``data`` decoded from its slice of ``binary``.

    An input is binary when its ``parameters`` hold ``binary_data_size``; the slices follow
    one another in input order and must use up ``binary`` exactly.

    Raises
    ------
    ServiceError
        400 naming the input whose size, shape or bytes are wrong.
    """
    view, at, out = memoryview(binary), 0, []
    for i, tensor in enumerate(inputs):
        size = _binary_size(tensor, i)
        if size is None:
            out.append(tensor)
            continue
        if "data" in tensor:
            raise bad_binary(f"input {i} has both 'data' and binary_data_size", i)
        if size > len(view) - at:
            raise bad_binary(
                f"input {i} claims {size:,} bytes of binary data where {len(view) - at:,} "
                "remain after the JSON header",
                i,
            )
        count = _element_count(tensor, i)
        try:
            data = decode_raw(str(tensor.get("datatype")), view[at : at + size], count)
        except RawTensorError as exc:
            raise bad_binary(f"input {i} ({str(tensor.get('name'))[:64]!r}): {exc}", i) from None
        out.append({**tensor, "data": data})
        at += size
    if at != len(view):
        raise bad_binary(
            f"{len(view) - at:,} bytes of binary data follow the last binary input "
            "(binary_data_size must add up to the bytes after the JSON header)",
            None,
        )
    return out


def _binary_size(tensor: Any, index: int) -> int | None:
    parameters = tensor.get("parameters") if type(tensor) is dict else None
    if type(parameters) is not dict or "binary_data_size" not in parameters:
        return None
    size = parameters["binary_data_size"]
    if type(size) is not int or size < 0:
        raise bad_binary(f"input {index}'s binary_data_size must be a whole number >= 0", index)
    return size


def _element_count(tensor: dict[str, Any], index: int) -> int:
    shape = tensor.get("shape")
    if type(shape) is not list or not all(type(d) is int and d >= 0 for d in shape):
        raise bad_binary(f"input {index} needs a shape of whole numbers >= 0", index)
    count = 1
    for d in shape:
        count *= d
    return count


def bad_binary(message: str, index: int | None) -> ServiceError:
    """The 400 for binary tensor data that does not match its JSON header."""
    loc: list[str | int] = ["body", "inputs", index] if index is not None else ["body"]
    return ServiceError(
        400,
        f"{message}. To fix: send each binary input's raw bytes after the JSON header, in "
        "input order, with parameters.binary_data_size equal to its length (BYTES elements "
        "each preceded by a 4-byte little-endian length), and Inference-Header-Content-Length "
        "equal to the JSON header's length.",
        kind="invalid_binary",
        details=[ErrorDetail(loc=loc, kind="invalid_binary", message=message)],
    )
