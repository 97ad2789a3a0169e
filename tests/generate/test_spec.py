"""The kernel spec: the shipped examples load, and every mistake names its field."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from labkit.generate import SpecError, load_spec, spec_from_dict
from labkit.generate.spec import element_type

from _gen_data import SPECS

GOOD = {
    "kernel": {"name": "scale", "control": "ap_ctrl_hs", "max_batch": 8, "clock_mhz": 100},
    "inputs": [{"name": "x", "dtype": "int16", "shape": [4, 8], "beat_bits": 32}],
    "outputs": [{"name": "y", "dtype": "int32", "shape": 32, "tlast": "end_of_item"}],
    "scalars": [{"name": "gain", "dtype": "int32", "min": -4, "max": 4, "default": 1}],
}


def test_the_shipped_examples_load():
    points = load_spec(SPECS["points"])
    assert (points.control, points.inputs[0].count, points.inputs[0].dtype.name) == ("ap_ctrl_none", 1024, "int32")
    assert points.vlnv == "xilinx.com:hls:points:1.0" and not points.has_lite
    cnn = load_spec(SPECS["cnn_classifier"])
    assert cnn.inputs[0].shape == (28, 28) and cnn.inputs[0].per_beat == 8 and cnn.inputs[0].beats == 98
    assert cnn.register_offsets() == {"batch": 0x10}  # as the hand-written kernel's BATCH_OFFSET
    assert cnn.dma_length_bits == 16  # 64 images x 784 B = 50176 B: 16 bits, within PG021's 8..26


def test_a_dict_and_its_derived_values():
    spec = spec_from_dict(GOOD)
    assert spec.register_offsets() == {"batch": 0x10, "gain": 0x18}
    assert spec.inputs[0].per_beat == 2 and spec.inputs[0].beats == 16
    assert spec.largest_transfer() == 8 * 32 * 4


@pytest.mark.parametrize("text, bits, kind, frac", [
    ("int8", 8, "int", 0), ("uint32", 32, "uint", 0), ("float32", 32, "float", 0),
    ("fixed<16,8>", 16, "fixed", 8), ("ufixed<8, 2>", 8, "fixed", 6)])
def test_element_types(text, bits, kind, frac):
    t = element_type(text, "here")
    assert (t.bits, t.kind, t.frac_bits) == (bits, kind, frac)


def _with(path: str, value):
    data = copy.deepcopy(GOOD)
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize("path, value, words", [
    ("kernel.name", "3d", "kernel.name"),
    ("kernel.name", KeyError, "kernel.name is missing"),
    ("kernel.vlnv", "xilinx.com:ip:scale:1.0", "kernel.vlnv"),
    ("kernel.control", "ap_ctrl_chain", "kernel.control"),
    ("kernel.clock_mhz", 1000, "kernel.clock_mhz"),
    ("kernel.max_batch", 0, "kernel.max_batch"),
    ("kernel.hp_port", "S_AXI_ACP", "kernel.hp_port"),
    ("kernel.colour", "red", "kernel: unknown field colour"),
    ("inputs.0.dtype", "int12", "inputs[0].dtype"),
    ("inputs.0.shape", [4, 0], "inputs[0].shape[1]"),
    ("inputs.0.shape", KeyError, "inputs[0].shape is missing"),
    ("inputs.0.beat_bits", 48, "inputs[0].beat_bits"),
    ("inputs.0.tlast", "end_of_call", "inputs[0].tlast"),
    ("outputs.0.tlast", "sometimes", "outputs[0].tlast"),
    ("outputs.0.shape", 3, "outputs[0].shape"),  # 3 int32 is fine; see the packing case below
    ("scalars.0.max", 1 << 40, "scalars[0]"),
    ("scalars.0.default", 9, "scalars[0].default"),
    ("scalars.0.name", "batch", "scalars[0].name"),
    ("scalars.0.name", "x", "x appears twice"),
])
def test_errors_name_the_field(path, value, words):
    data = _with(path, value)
    if path == "outputs.0.shape":  # 3 int8 in a 32-bit beat do not fill it
        data["outputs"][0].update(dtype="int8", beat_bits=32)
    with pytest.raises(SpecError) as err:
        spec_from_dict(data)
    assert words in str(err.value)


def test_more_than_one_stream_is_refused_with_the_reason():
    data = copy.deepcopy(GOOD)
    data["inputs"].append({"name": "z", "dtype": "int8", "shape": 4})
    with pytest.raises(SpecError, match="exactly one input and one output"):
        spec_from_dict(data)


def test_a_transfer_larger_than_the_dma_allows_is_refused():
    data = _with("kernel.max_batch", 60000)
    data["inputs"][0]["shape"] = [1024, 4]
    with pytest.raises(SpecError, match="kernel.max_batch: one call moves"):
        spec_from_dict(data)


def test_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[kernel\nname = 1\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(SpecError, match="no kernel spec at"):
        load_spec(tmp_path / "missing.toml")


def test_fixed_point_limits():
    t = element_type("fixed<16,8>", "f")
    assert t.limits == (-128.0, 128.0 - 2 ** -8)
    assert t.storage == np.dtype("<i2")
