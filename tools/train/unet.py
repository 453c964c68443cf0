"""Small epsilon-prediction U-Net for 1x28x28 MNIST digits (continuous-time VP linear SDE).

The network takes
  x : [B, 1, 28, 28] float32, the noised digit x_t = alpha(t) x0 + sigma(t) eps (data in [-1, 1])
  t : [B] float32, the *scaled* time 999 * t (score_sde convention), t in [1e-3, 1]
and returns eps_theta(x, t) : [B, 1, 28, 28].

Output parameterisation (param="v", the default): the U-Net body F predicts v = alpha eps - sigma x0
and the network returns eps_theta = sigma(t) x + alpha(t) F(x, t) (MATH.md section 9), computed
inside the network from t = t_scaled / 999. It is still an eps-prediction model (input x, t; output
eps; trained with the plain eps DSM loss), but near t = 1, where alpha(1) = 0.0066, the output is
~x with an error of alpha times F's error instead of F's full error: a directly eps-parameterised
net of this size plateaus at an eps loss of ~6e-4 there (x0 error ~4 rms), which drove about a third
of DDIM trajectories off the data manifold in a first run. param="eps" returns F itself.

Layout (channels C0, C1, C2 = 8, 24, 48 at 28x28, 14x14, 7x7):
  conv_in 3x3 -> ResBlock(C0)                          [skip s0]
  down 3x3/2 -> ResBlock(C1)                           [skip s1]
  down 3x3/2 -> ResBlock(C2)                           [skip s2]
  middle: self-attention (1 head) at 7x7 + ResBlock(C2)  (the ResBlock only if mid_block)
  ResBlock(C2) on h + s2
  nearest x2, 1x1 conv C2->C1, ResBlock(C1) on h + s1
  nearest x2, 1x1 conv C1->C0, ResBlock(C0) on h + s0
  GroupNorm, SiLU, conv_out 3x3 -> 1 channel
Skips are added (not concatenated) to keep the cost low: 24 MFLOP per evaluation at the default
widths 8 / 24 / 48. A first version at 16 / 32 / 56 (47 MFLOP) put the quality benchmark's full run
(about 2.6 M sample-evaluations, bench/quality.ts) near 2 hours on two CPU cores; the 28x28 level,
the most expensive per channel, was thinned the most.
Output: eps = sigma(t) x + alpha(t) * (that 1-channel map), see below.
ResBlock: GN -> SiLU -> conv3x3 -> + Linear(temb) -> GN -> SiLU -> conv3x3, + identity.
Time embedding: sinusoidal(999 t, 64) -> Linear -> SiLU -> Linear (dim temb_dim).

The exported weights (models/mnist/weights.pt) load with this file; it depends only on
torch. `count_flops(model)` counts the multiply-accumulates of one evaluation analytically.

VP linear SDE helpers (MATH.md section 2): beta(t) = b0 + t (b1 - b0),
log alphabar(t) = -(b1 - b0) t^2 / 2 - b0 t, alpha = sqrt(alphabar), sigma = sqrt(1 - alphabar).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BETA_MIN = 0.1
BETA_MAX = 20.0
T_EPS = 1e-3
TIME_SCALE = 999.0


def log_alphabar(t):
    return -(BETA_MAX - BETA_MIN) * t * t / 2.0 - BETA_MIN * t


def alpha_sigma(t):
    """alpha(t), sigma(t) of the VP linear SDE (sigma computed without cancellation)."""
    la = log_alphabar(t)
    alpha = torch.exp(0.5 * la)
    sigma = torch.sqrt(-torch.expm1(la))
    return alpha, sigma


def sinusoidal_embedding(t, dim, max_period=10000.0):
    """[B] -> [B, dim]; t is the scaled time (0..999)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def _gn(c):
    return nn.GroupNorm(min(8, c // 2), c)


class ResBlock(nn.Module):
    def __init__(self, ch, temb_dim, dropout=0.0):
        super().__init__()
        self.norm1 = _gn(ch)
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.temb = nn.Linear(temb_dim, ch)
        self.norm2 = _gn(ch)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(temb)[:, :, None, None]
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return x + h


class Attention(nn.Module):
    """Single-head self-attention over the HxW positions."""

    def __init__(self, ch):
        super().__init__()
        self.norm = _gn(ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)
        self.ch = ch

    def forward(self, x):
        b, c, hh, ww = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, hh * ww).unbind(1)
        # plain MatMul (no Einsum) so the ONNX graph uses only common operators
        w = torch.softmax(torch.matmul(q.transpose(1, 2), k) * (c ** -0.5), dim=-1)  # [b, i, j]
        h = torch.matmul(v, w.transpose(1, 2)).reshape(b, c, hh, ww)  # h[c, i] = sum_j v[c, j] w[i, j]
        return x + self.proj(h)

    def extra_macs(self, x_shape):
        b, c, hh, ww = x_shape
        n = hh * ww
        return 2 * n * n * c  # q k^T and w v, per sample


class UNet(nn.Module):
    def __init__(self, channels=(8, 24, 48), temb_dim=128, attention=True, mid_block=False, dropout=0.0,
                 param="v"):
        super().__init__()
        c0, c1, c2 = channels
        assert param in ("v", "eps")
        self.param = param
        self.config = dict(channels=list(channels), temb_dim=temb_dim, attention=attention,
                           mid_block=mid_block, dropout=dropout, param=param)
        self.emb_dim = 64
        self.temb = nn.Sequential(nn.Linear(self.emb_dim, temb_dim), nn.SiLU(), nn.Linear(temb_dim, temb_dim))
        self.conv_in = nn.Conv2d(1, c0, 3, padding=1)
        self.rb_d0 = ResBlock(c0, temb_dim, dropout)
        self.down0 = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.rb_d1 = ResBlock(c1, temb_dim, dropout)
        self.down1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.rb_d2 = ResBlock(c2, temb_dim, dropout)
        self.attn = Attention(c2) if attention else None
        self.rb_mid = ResBlock(c2, temb_dim, dropout) if mid_block else None
        self.rb_u2 = ResBlock(c2, temb_dim, dropout)
        self.up1 = nn.Conv2d(c2, c1, 1)
        self.rb_u1 = ResBlock(c1, temb_dim, dropout)
        self.up0 = nn.Conv2d(c1, c0, 1)
        self.rb_u0 = ResBlock(c0, temb_dim, dropout)
        self.norm_out = _gn(c0)
        self.conv_out = nn.Conv2d(c0, 1, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x, t_scaled):
        """x: [B,1,28,28]; t_scaled: [B] = 999 * t. Returns eps prediction [B,1,28,28]."""
        temb = F.silu(self.temb(sinusoidal_embedding(t_scaled, self.emb_dim)))
        s0 = self.rb_d0(self.conv_in(x), temb)
        s1 = self.rb_d1(self.down0(s0), temb)
        s2 = self.rb_d2(self.down1(s1), temb)
        h = s2
        if self.attn is not None:
            h = self.attn(h)
        if self.rb_mid is not None:
            h = self.rb_mid(h, temb)
        h = self.rb_u2(h + s2, temb)
        h = self.up1(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.rb_u1(h + s1, temb)
        h = self.up0(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.rb_u0(h + s0, temb)
        out = self.conv_out(F.silu(self.norm_out(h)))
        if self.param == "eps":
            return out
        # eps = sigma x + alpha v. In float32, 1 - exp(la) loses relative accuracy only where sigma
        # itself is tiny (t ~ 1e-3: sigma ~ 0.01, relative error ~ 6e-4), so the eps error is < 1e-5.
        t = t_scaled.float() / TIME_SCALE
        la = log_alphabar(t)[:, None, None, None]
        alpha = torch.exp(0.5 * la)
        sigma = torch.sqrt(torch.clamp(1.0 - torch.exp(la), min=0.0))
        return sigma * x + alpha * out


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_flops(model, batch=1):
    """Analytic MAC count of one evaluation (batch 1) via forward hooks on Conv2d/Linear plus the
    attention matmuls; returns dict(macs=..., flops=2*macs, elementwise=estimate). Elementwise work
    (GroupNorm, SiLU, adds, softmax, upsampling) is estimated as ~8 FLOP per activation element
    that passes a norm/activation, and reported separately."""
    macs = [0]
    elem = [0]
    hooks = []

    def conv_hook(m, inp, out):
        cin = m.in_channels // m.groups
        macs[0] += out.numel() // out.shape[0] * cin * m.kernel_size[0] * m.kernel_size[1]
        if m.bias is not None:
            elem[0] += out.numel() // out.shape[0]

    def lin_hook(m, inp, out):
        macs[0] += out.numel() // out.shape[0] * m.in_features

    def attn_hook(m, inp, out):
        macs[0] += m.extra_macs(inp[0].shape)
        n = inp[0].shape[2] * inp[0].shape[3]
        elem[0] += 5 * n * n  # scale + softmax

    def norm_hook(m, inp, out):
        elem[0] += 8 * out.numel() // out.shape[0]  # norm (~5) + SiLU (~3)

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
        elif isinstance(m, Attention):
            hooks.append(m.register_forward_hook(attn_hook))
        elif isinstance(m, nn.GroupNorm):
            hooks.append(m.register_forward_hook(norm_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(batch, 1, 28, 28), torch.full((batch,), 500.0))
    model.train(was_training)
    for h in hooks:
        h.remove()
    return dict(macs=macs[0], flops=2 * macs[0], elementwise=elem[0])


if __name__ == "__main__":
    import sys

    m = UNet()
    f = count_flops(m)
    print(f"params {count_params(m):,}  MACs {f['macs'] / 1e6:.2f} M  FLOPs (2*MAC) {f['flops'] / 1e6:.2f} M"
          f"  + elementwise ~{f['elementwise'] / 1e6:.2f} MFLOP")
    # cross-check with the torch profiler's FLOP counter (conv/matmul only)
    if "--profile" in sys.argv:
        from torch.profiler import profile
        with torch.no_grad(), profile(with_flops=True) as prof:
            m(torch.zeros(1, 1, 28, 28), torch.full((1,), 500.0))
        tot = sum(e.flops for e in prof.key_averages() if e.flops)
        print(f"torch.profiler FLOPs: {tot / 1e6:.2f} M")
