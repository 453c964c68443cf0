"""The discrete 1000-step DDPM schedule of the latent model (diffusers' squaredcos_cap_v2) and v targets."""

import math

import torch

NUM_TRAIN_TIMESTEPS = 1000
SCHEDULER_CONFIG = {
    "_class_name": "DDIMScheduler",
    "_diffusers_version": "0.27.2",
    "num_train_timesteps": NUM_TRAIN_TIMESTEPS,
    "beta_start": 0.0001,  # unused by squaredcos_cap_v2 (kept at diffusers' defaults)
    "beta_end": 0.02,
    "beta_schedule": "squaredcos_cap_v2",
    "trained_betas": None,
    "prediction_type": "v_prediction",
    "timestep_spacing": "trailing",
    "steps_offset": 0,
    "clip_sample": False,
    "clip_sample_range": 1.0,
    "set_alpha_to_one": False,
    "thresholding": False,
    "dynamic_thresholding_ratio": 0.995,
    "sample_max_value": 1.0,
    "rescale_betas_zero_snr": False,
}


def alphas_cumprod(n=NUM_TRAIN_TIMESTEPS, max_beta=0.999):
    """ᾱ_t, t = 0..n-1, as diffusers' betas_for_alpha_bar(alpha_transform_type="cosine") (float64)."""
    def ab(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = torch.tensor([min(1 - ab((i + 1) / n) / ab(i / n), max_beta) for i in range(n)], dtype=torch.float64)
    return torch.cumprod(1 - betas, 0)


def ddim_timesteps(steps, n=NUM_TRAIN_TIMESTEPS):
    """diffusers' trailing spacing: round(arange(n, 0, -n/steps)) - 1, descending."""
    import numpy as np
    return [int(v) for v in (np.round(np.arange(n, 0, -n / steps)).astype(np.int64) - 1)]
