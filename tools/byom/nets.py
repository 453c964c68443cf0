"""Tiny PyTorch networks behind the "bring your own model" fixtures (tests/fixtures/byom/).

Random but fixed weights (seeded init). Each network adds a small random convolutional part to the
analytic denoiser of Gaussian data N(0, S^2) where it knows alpha-bar from its time input, so that
sampling ends at O(1) samples instead of the O(rho(T)) that a network unrelated to x would give
(a decoder fed O(100) latents would only show tanh's saturation). Every part is smooth in x, in the
conditioning and in the time input.

The same modules serve the ONNX export (float32) and the float64 reference loop (`.double()`),
so nothing here hard-codes a dtype: constants follow the input's dtype via buffers.
"""

import math

import torch
from torch import nn

# Variance of the Gaussian data the analytic part denoises.
S2 = 0.25
# How much the random part adds to the analytic part.
PERTURB = 0.3


def sinusoid(t, freqs):
    """[B] times -> [B, 2F] embedding [sin(t f), cos(t f)]."""
    a = t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(a), torch.cos(a)], dim=1)


class TinyAttention(nn.Module):
    """Single-head cross-attention of feature-map tokens onto a short context."""

    def __init__(self, channels, context_dim):
        super().__init__()
        self.q = nn.Linear(channels, channels, bias=False)
        self.k = nn.Linear(context_dim, channels, bias=False)
        self.v = nn.Linear(context_dim, channels, bias=False)
        self.o = nn.Linear(channels, channels)
        self.scale = 1.0 / math.sqrt(channels)

    def forward(self, h, ctx):
        b, c, hh, ww = h.shape
        tokens = h.flatten(2).transpose(1, 2)  # [B, HW, C]
        att = torch.softmax(self.q(tokens) @ self.k(ctx).transpose(1, 2) * self.scale, dim=-1)
        out = self.o(att @ self.v(ctx))  # [B, HW, C]
        return h + out.transpose(1, 2).reshape(b, c, hh, ww)


class DiffusersUNet(nn.Module):
    """diffusers-layout UNet: (sample [B,4,8,8], timestep int64 [B], encoder_hidden_states [B,3,8]) -> v.

    The timestep is the integer training index n; the sinusoidal embedding and the alpha-bar lookup
    depend on it alone (the fp16 export keeps that part in float32, as diffusers computes its time
    embedding in float32).
    """

    def __init__(self, alphas_cumprod):
        super().__init__()
        c = 8
        # Highest frequency 10000^(-1/8) ~ 0.32 rad per index: diffusers' embedding without its 1 rad/index term.
        self.register_buffer("freqs", torch.tensor([10000.0 ** (-(i + 1) / 8) for i in range(8)]))
        self.register_buffer("alphas_cumprod", alphas_cumprod.clone())
        self.temb = nn.Sequential(nn.Linear(16, 16), nn.SiLU(), nn.Linear(16, c))
        self.conv_in = nn.Conv2d(4, c, 3, padding=1)
        self.res = nn.Conv2d(c, c, 3, padding=1)
        self.down = nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.attn = TinyAttention(c, 8)
        self.up = nn.ConvTranspose2d(c, c, 2, stride=2)
        self.conv_out = nn.Conv2d(2 * c, 4, 3, padding=1)
        # A direct path from the context (mean over its tokens) to each output channel, so that guidance
        # (w * the conditional-unconditional difference) changes samples by O(1), not only through attention.
        self.ctx_bias = nn.Linear(8, 4)

    def forward(self, sample, timestep, encoder_hidden_states):
        t = timestep.to(self.freqs.dtype)
        temb = self.temb(sinusoid(t, self.freqs))
        ab = self.alphas_cumprod[timestep]
        a, s = torch.sqrt(ab), torch.sqrt(1 - ab)
        # v of the Gaussian-data denoiser: v = a*eps - s*x0 = a*s*(1 - S2) x / (a^2 S2 + s^2).
        coef = a * s * (1 - S2) / (ab * S2 + 1 - ab)
        temb = temb.to(sample.dtype)
        coef = coef.to(sample.dtype)

        h = self.conv_in(sample) + temb[:, :, None, None]
        h1 = h + self.res(nn.functional.silu(h))
        h2 = self.attn(nn.functional.silu(self.down(h1)), encoder_hidden_states)
        h3 = self.up(h2)
        out = self.conv_out(nn.functional.silu(torch.cat([h3, h1], dim=1)))
        out = out + self.ctx_bias(encoder_hidden_states.mean(dim=1))[:, :, None, None]
        return coef[:, None, None, None] * sample + PERTURB * out


class EdmDenoiser(nn.Module):
    """Raw EDM network F(c_in x, c_noise): x [B,1,8,8], sigma_noise [B] (= c_noise = ln(sigma)/4)."""

    def __init__(self):
        super().__init__()
        c = 8
        self.register_buffer("freqs", torch.tensor([0.5, 1.0, 2.0, 4.0]))
        self.temb = nn.Sequential(nn.Linear(9, 16), nn.SiLU(), nn.Linear(16, c))
        self.conv_in = nn.Conv2d(1, c, 3, padding=1)
        self.res = nn.Conv2d(c, c, 3, padding=1)
        self.conv_out = nn.Conv2d(c, 1, 3, padding=1)

    def forward(self, x, sigma_noise):
        e = torch.cat([sigma_noise[:, None], sinusoid(sigma_noise, self.freqs)], dim=1)
        h = self.conv_in(x) + self.temb(e)[:, :, None, None]
        h = h + self.res(nn.functional.silu(h))
        return self.conv_out(nn.functional.silu(h))


class LatentEps(nn.Module):
    """Latent eps-network: x [B,4,4,4], t [B] = 999 * (vp-linear time) -> eps."""

    def __init__(self, beta_min=0.1, beta_max=20.0, scale=999.0):
        super().__init__()
        c = 12
        self.beta_min, self.beta_max, self.scale = beta_min, beta_max, scale
        self.register_buffer("freqs", torch.tensor([0.1 * 1000.0 ** (-i / 4) for i in range(4)]))
        self.temb = nn.Sequential(nn.Linear(8, 16), nn.SiLU(), nn.Linear(16, c))
        self.conv_in = nn.Conv2d(4, c, 3, padding=1)
        self.res = nn.Conv2d(c, c, 3, padding=1)
        self.conv_out = nn.Conv2d(c, 4, 3, padding=1)

    def forward(self, x, t):
        tt = t / self.scale
        log_ab = -0.5 * (self.beta_max - self.beta_min) * tt * tt - self.beta_min * tt
        ab = torch.exp(log_ab)
        # eps of the Gaussian-data denoiser: s x / (a^2 S2 + s^2), with s^2 = 1 - e^l = -2 tau / (1 - tau),
        # tau = tanh(l/2): free of cancellation at small t (torch 1.13 exports neither expm1 nor sinh).
        tau = torch.tanh(0.5 * log_ab)
        s2 = -2.0 * tau / (1.0 - tau)
        coef = torch.sqrt(s2) / (ab * S2 + s2)
        h = self.conv_in(x) + self.temb(sinusoid(t, self.freqs))[:, :, None, None]
        h = h + self.res(nn.functional.silu(h))
        return coef[:, None, None, None] * x + PERTURB * self.conv_out(nn.functional.silu(h))


class Decoder(nn.Module):
    """latent [B,4,4,4] -> image [B,1,16,16] in (-1, 1)."""

    def __init__(self):
        super().__init__()
        self.up1 = nn.ConvTranspose2d(4, 6, 2, stride=2)
        self.up2 = nn.ConvTranspose2d(6, 1, 2, stride=2)

    def forward(self, latent):
        return torch.tanh(self.up2(nn.functional.silu(self.up1(latent))))


def diffusers_alphas_cumprod(config):
    """alphas_cumprod of diffusers' DDIMScheduler for a scaled_linear config, built as diffusers builds it."""
    assert config["beta_schedule"] == "scaled_linear"
    n = config["num_train_timesteps"]
    betas = torch.linspace(config["beta_start"] ** 0.5, config["beta_end"] ** 0.5, n, dtype=torch.float32) ** 2
    return torch.cumprod(1.0 - betas, dim=0)


def build(case, scheduler_config=None):
    """The module of a fixture case, with its fixed seeded weights (float32)."""
    seeds = {"diffusers-unet": 1001, "edm-denoiser": 1002, "latent": 1003, "latent-decoder": 1004}
    torch.manual_seed(seeds[case])
    if case == "diffusers-unet":
        net = DiffusersUNet(diffusers_alphas_cumprod(scheduler_config))
    elif case == "edm-denoiser":
        net = EdmDenoiser()
    elif case == "latent":
        net = LatentEps()
    else:
        net = Decoder()
    return net.eval()
