"""Shared helpers for the latent-MNIST tools: data loading, the mnist-features classifier, FD."""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.append(os.path.join(ROOT, "tools", "train"))  # after this folder: both have a unet.py
from train_classifier import Classifier  # noqa: E402  (the FD feature network, reused as is)

PROJECT_DATA = os.path.join(ROOT, "tools", "train", "data")
LATENT_DATA = os.path.join(HERE, "data")
CKPT = os.path.join(HERE, "checkpoints")
OUT_DIR = os.path.join(ROOT, "models", "latent-mnist")


def _load(dirname, name):
    x = np.fromfile(os.path.join(dirname, f"{name}_images.u8"), dtype=np.uint8).reshape(-1, 1, 28, 28)
    y = np.fromfile(os.path.join(dirname, f"{name}_labels.u8"), dtype=np.uint8)
    return torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0), torch.from_numpy(y.astype(np.int64))


def load_train(source):
    """source 'full': the 58,000 MNIST training digits of prepare_data.py; 'project': the 8,000."""
    if source == "full":
        return _load(LATENT_DATA, "train")
    return _load(PROJECT_DATA, "train")


def load_heldout():
    return _load(PROJECT_DATA, "heldout")


def load_classifier():
    m = Classifier()
    sd = torch.load(os.path.join(ROOT, "models", "mnist-features", "weights.pt"), map_location="cpu")
    m.load_state_dict(sd["state_dict"])
    return m.eval()


@torch.no_grad()
def classify(clf, x, batch=500):
    """Returns (logits, features) for images in [-1, 1] (clipped first, as bench/quality.ts expects)."""
    ls, fs = [], []
    for i in range(0, len(x), batch):
        l, f = clf(x[i:i + batch].clamp(-1, 1))
        ls.append(l)
        fs.append(f)
    return torch.cat(ls), torch.cat(fs)


def moments(feats):
    f = feats.double().numpy()
    return f.mean(0), np.cov(f, rowvar=False)


def frechet(m1, m2):
    """‖μ₁−μ₂‖² + Tr(Σ₁+Σ₂−2(Σ₁^½ Σ₂ Σ₁^½)^½) with symmetric eigen square roots (as bench/frechet.ts)."""
    (mu1, s1), (mu2, s2) = m1, m2

    def sqrt_psd(a):
        w, v = np.linalg.eigh((a + a.T) / 2)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T

    r = sqrt_psd(s1)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * sqrt_psd(r @ s2 @ r)))
