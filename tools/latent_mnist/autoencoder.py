"""Deterministic convolutional autoencoder: 28×28 digit in [-1, 1] ↔ latent [4, 7, 7].

No KL term and no sampling: the latent is a plain function of the image. Training adds a small
Gaussian perturbation to the latent (see train_ae.py) so the decoder tolerates the imperfect latents
a diffusion sampler produces, and a tiny L2 penalty keeps the latent scale bounded.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

LATENT_SHAPE = (4, 7, 7)


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class Encoder(nn.Module):
    def __init__(self, ch=(16, 32, 64), zc=4):
        super().__init__()
        a, b, c = ch
        self.net = nn.Sequential(
            nn.Conv2d(1, a, 3, padding=1), nn.SiLU(),                # 28
            nn.Conv2d(a, b, 3, stride=2, padding=1), nn.SiLU(),      # 14
            nn.Conv2d(b, c, 3, stride=2, padding=1),                 # 7
            ResBlock(c), nn.SiLU(),
            nn.Conv2d(c, zc, 3, padding=1))

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self, ch=(16, 32, 64), zc=4):
        super().__init__()
        a, b, c = ch
        self.net = nn.Sequential(
            nn.Conv2d(zc, c, 3, padding=1),                          # 7
            ResBlock(c), nn.SiLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(c, b, 3, padding=1), nn.SiLU(),                # 14
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(b, a, 3, padding=1), nn.SiLU(),                # 28
            nn.Conv2d(a, 1, 3, padding=1))

    def forward(self, z):
        # linear output (a tanh saturated at the −1 background and stalled training); the values stay
        # within about [−1.1, 1.1], and consumers clip to the declared dataRange [−1, 1]
        return self.net(z)


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def forward(self, x):
        return self.decoder(self.encoder(x))


def macs(model, shape):
    """Multiply-accumulates of the Conv2d/Linear layers for one input of `shape` (no batch)."""
    total = [0]

    def hook(m, i, o):
        if isinstance(m, nn.Conv2d):
            total[0] += o[0].numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total[0] += m.in_features * m.out_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(*[torch.zeros(1, *s) if isinstance(s, tuple) else s for s in shape])
    for h in hs:
        h.remove()
    return total[0]
