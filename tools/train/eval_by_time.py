"""Held-out ε loss of the shipped MNIST network at fixed times (for the model card).

    /usr/bin/python3 tools/train/eval_by_time.py [--weights models/mnist/weights.pt] [--n 256] [--seed 0]

For each t in a fixed list, noises the first n held-out digits with one draw of ε each (the same draw
for every t) and prints mean((ε_θ(x_t, 999 t) − ε)²). The loss per t shows where the network's fitting
error lives: large near t = 0 (fine detail), tiny near t = 1 thanks to the ε = σx + αF output.
"""

import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from train_diffusion import dsm_loss, load_split  # noqa: E402
from unet import UNet  # noqa: E402

TIMES = [0.002, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0]


@torch.no_grad()
def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=os.path.join(ROOT, "models", "mnist", "weights.pt"))
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    ck = torch.load(a.weights, map_location="cpu")
    model = UNet(**ck["config"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    x0 = load_split("heldout")[0][: a.n]
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(a.seed))
    parts = []
    for t in TIMES:
        loss = dsm_loss(model, x0, torch.full((x0.shape[0],), t), eps).item()
        parts.append(f"t = {t:g}: {loss:.3g}")
    print(f"held-out ε loss ({a.n} digits, step {ck.get('step')}): " + " · ".join(parts))


if __name__ == "__main__":
    main()
