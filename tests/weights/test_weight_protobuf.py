"""The protobuf wire-format reader on hand-encoded messages."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from caffe_writer import _int, _ld, _varint

from senet.weights.protobuf import ProtobufError, as_float, as_floats, as_ints, as_string, fields


def test_wire_types_and_repeated_encodings() -> None:
    values = np.array([1.5, -2.25, 3e-3], np.float32)
    unpacked = b"".join(_varint(5 << 3 | 5) + struct.pack("<f", v) for v in values)  # one fixed32 each
    doubles = _ld(8, np.array([0.1, 2.0]).astype("<f8").tobytes())
    message = _ld(1, b"conv1/7x7_s2") + _int(3, 300) + _ld(4, b"".join(_varint(d) for d in (64, 3, 7, 7)))
    message += unpacked + _ld(6, values.astype("<f4").tobytes()) + doubles
    message += _varint(9 << 3 | 1) + struct.pack("<d", 1.0) + _varint(10 << 3 | 5) + struct.pack("<f", 1e-4)
    f = fields(message)
    assert as_string(f[1]) == "conv1/7x7_s2" and as_ints(f[3]) == [300] and as_ints(f[4]) == [64, 3, 7, 7]
    np.testing.assert_array_equal(as_floats(f[5]), values)  # unpacked
    np.testing.assert_array_equal(as_floats(f[6]), values)  # packed
    np.testing.assert_array_equal(as_floats(f[8], double=True), [0.1, 2.0])
    assert f[9][0] == (1, int.from_bytes(struct.pack("<d", 1.0), "little"))
    assert as_float(f[10], 1e-5) == pytest.approx(1e-4) and as_float(None, 1e-5) == 1e-5


@pytest.mark.parametrize("bad", [_ld(1, b"abc")[:-1], b"\x80", _varint(1 << 3 | 3)])
def test_malformed_messages_are_errors(bad: bytes) -> None:
    with pytest.raises(ProtobufError):
        fields(bad)
