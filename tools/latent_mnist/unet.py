"""Class-conditional noise-prediction network for 4×7×7 MNIST latents (diffusers UNet2D layout).

Inputs  sample [B,4,7,7] float, timestep [B] int64 (0..999), class_labels [B] int64 (0–9, 10 = null)
Output  out_sample [B,4,7,7] (the v-prediction of diffusers' v_prediction)

The latent is only 7×7, so the network stays at that resolution (no down/up-sampling: a stack of
3×3 residual blocks already sees the whole latent after a few layers). Each block gets the sum of a
sinusoidal timestep embedding (through an MLP) and a learned class embedding as a per-channel scale
and shift (FiLM). Group normalisation is written with elementary ops (ReduceMean, Sub, Mul, Sqrt) so
the exported graph holds only ops that also have float16 kernels in onnxruntime.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NULL_CLASS = 10


class GroupNorm(nn.Module):
    def __init__(self, groups, channels, eps=1e-5):
        super().__init__()
        self.groups, self.eps = groups, eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        b, c, h, w = x.shape
        g = x.reshape(b, self.groups, -1)
        mean = g.mean(-1, keepdim=True)
        d = g - mean
        var = (d * d).mean(-1, keepdim=True)
        g = d / torch.sqrt(var + self.eps)
        return g.reshape(b, c, h, w) * self.weight.reshape(1, c, 1, 1) + self.bias.reshape(1, c, 1, 1)


class Block(nn.Module):
    def __init__(self, c, emb, groups=8, dropout=0.0):
        super().__init__()
        self.n1 = GroupNorm(groups, c)
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.film = nn.Linear(emb, 2 * c)
        self.n2 = GroupNorm(groups, c)
        self.drop = nn.Dropout(dropout)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)

    def forward(self, x, e):
        h = self.c1(F.silu(self.n1(x)))
        scale, shift = self.film(e)[:, :, None, None].chunk(2, dim=1)
        h = self.n2(h) * (1 + scale) + shift
        return x + self.c2(self.drop(F.silu(h)))


class LatentUNet(nn.Module):
    def __init__(self, in_ch=4, ch=48, blocks=4, emb=128, classes=10, dropout=0.0):
        super().__init__()
        self.ch, self.emb_dim = ch, emb
        self.t_mlp = nn.Sequential(nn.Linear(ch, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.class_emb = nn.Embedding(classes + 1, emb)  # index `classes` = null (unconditional)
        self.inp = nn.Conv2d(in_ch, ch, 3, padding=1)
        self.blocks = nn.ModuleList([Block(ch, emb, dropout=dropout) for _ in range(blocks)])
        self.out_norm = GroupNorm(8, ch)
        self.out = nn.Conv2d(ch, in_ch, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        half = ch // 2
        # frequencies 1 … 1/10000 over the 0..999 timestep range (as diffusers' Timesteps)
        self.register_buffer("freqs", torch.exp(-math.log(10000.0) * torch.arange(half) / half), persistent=False)

    def forward(self, sample, timestep, class_labels):
        a = timestep.to(sample.dtype)[:, None] * self.freqs.to(sample.dtype)[None]
        t = torch.cat([torch.cos(a), torch.sin(a)], dim=1)
        e = F.silu(self.t_mlp(t) + self.class_emb(class_labels))
        h = self.inp(sample)
        for blk in self.blocks:
            h = blk(h, e)
        return self.out(F.silu(self.out_norm(h)))
