"""A small periodic U-Net: the noise predictor ε_θ(x_t, t, c) of the DDPM (chapter 5).

Gray-Scott patterns live on a torus, so every convolution here pads *circularly*
(``padding_mode="circular"``): the network never sees an edge, a pattern may cross the
boundary, and a sample tiles seamlessly. Down-sampling is a 2 × 2 average pool and
up-sampling a nearest-neighbour ×2 copy, both exact on a periodic grid whose side is
divisible by 2. The network is fully convolutional (no layer knows the grid size), so a
model trained on 48 × 48 fields samples any size divisible by ``2 ** (len(mults) - 1)``.

Symmetry, exactly: rolling the input by a multiple of the down-sampling factor rolls the
output by the same amount (the pools see the same 2 × 2 cells); rolls by other amounts
are equivariant only approximately (the pooling grid shifts by half a cell).

Conditioning (Ho et al. 2020; Nichol & Dhariwal 2021): the diffusion time t by a
sinusoidal embedding and an MLP, the class c by a learned embedding with one extra
"null" class used for classifier-free guidance (Ho & Salimans 2022); both are added to
every residual block as a per-channel shift.

Shapes: x (B, C, H, W) with H = W divisible by ``factor``; t (B,) integer steps; c (B,)
class indices in [0, num_classes] (num_classes = the null class).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["UNetConfig", "UNet", "sinusoidal_embedding"]


@dataclass(frozen=True)
class UNetConfig:
    channels: int = 2                  # (u, v)
    base: int = 32                     # channels at full resolution; 32 keeps ~0.6 M params (CPU budget)
    mults: tuple[int, ...] = (1, 2, 2)  # channel multipliers per level; 3 levels = factor 4 down-sampling
    blocks: int = 1                    # residual blocks per level (per direction)
    num_classes: int = 6               # The Well's six Gray-Scott classes; index num_classes = null label
    groups: int = 8                    # GroupNorm groups (base must be divisible by it)
    dropout: float = 0.0               # tiny data set of exact patterns: no dropout needed

    @property
    def factor(self) -> int:
        """Grid sides must be divisible by this (the total down-sampling)."""
        return 2 ** (len(self.mults) - 1)

    def to_dict(self) -> dict:
        return asdict(self)


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer position encoding of the diffusion step t (Vaswani et al. 2017; Ho et al. 2020).

    t: (B,) steps (int or float). Returns (B, dim): [sin(t ω_k), cos(t ω_k)] with
    ω_k = 10000^(−k / (dim/2 − 1)).
    """
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / max(half - 1, 1))  # (dim/2,)
    angles = t.float()[:, None] * freqs[None, :]  # (B, dim/2)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)  # (B, dim)


def periodic_conv(c_in: int, c_out: int, kernel: int = 3) -> nn.Conv2d:
    """A convolution on the torus: circular padding keeps the grid size and wraps the edges."""
    return nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, padding_mode="circular")


class ResBlock(nn.Module):
    """GroupNorm → SiLU → conv, plus the (time, class) embedding as a shift, twice; skip."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, groups: int, dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = periodic_conv(c_in, c_out)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = periodic_conv(c_out, c_out)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, emb):  # x (B, c_in, H, W), emb (B, emb_dim)
        h = self.conv1(F.silu(self.norm1(x)))  # (B, c_out, H, W)
        h = h + self.emb(F.silu(emb))[:, :, None, None]  # per-channel shift from (t, c)
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))  # (B, c_out, H, W)
        return h + self.skip(x)


class UNet(nn.Module):
    """ε_θ(x_t, t, c): predicts the noise in x_t; output has the input's shape."""

    def __init__(self, config: UNetConfig = UNetConfig()):
        super().__init__()
        if config.base % config.groups:
            raise ValueError(f"base ({config.base}) must be divisible by groups ({config.groups})")
        self.config = config
        emb_dim = 4 * config.base
        self.time_mlp = nn.Sequential(nn.Linear(config.base, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.class_emb = nn.Embedding(config.num_classes + 1, emb_dim)  # last row: the null label
        self.stem = periodic_conv(config.channels, config.base)

        widths = [config.base * m for m in config.mults]
        self.down = nn.ModuleList()
        c = config.base
        skips = [c]
        for level, w in enumerate(widths):
            for _ in range(config.blocks):
                self.down.append(ResBlock(c, w, emb_dim, config.groups, config.dropout))
                c = w
                skips.append(c)
            if level < len(widths) - 1:
                self.down.append(nn.AvgPool2d(2))  # periodic-safe: 2 × 2 cells tile the torus
                skips.append(c)
        self.mid = nn.ModuleList([ResBlock(c, c, emb_dim, config.groups, config.dropout),
                                  ResBlock(c, c, emb_dim, config.groups, config.dropout)])
        self.up = nn.ModuleList()
        for level, w in reversed(list(enumerate(widths))):
            for _ in range(config.blocks + 1):
                self.up.append(ResBlock(c + skips.pop(), w, emb_dim, config.groups, config.dropout))
                c = w
            if level > 0:
                self.up.append(nn.Upsample(scale_factor=2, mode="nearest"))
        assert not skips
        self.head = nn.Sequential(nn.GroupNorm(config.groups, c), nn.SiLU(), periodic_conv(c, config.channels))
        nn.init.zeros_(self.head[-1].weight)  # start by predicting zero noise: a stable first step
        nn.init.zeros_(self.head[-1].bias)

    def forward(self, x, t, c):  # x (B, C, H, W), t (B,), c (B,)
        cfg = self.config
        if x.ndim != 4 or x.shape[1] != cfg.channels:
            raise ValueError(f"x must have shape (B, {cfg.channels}, H, W), got {tuple(x.shape)}")
        if x.shape[-1] != x.shape[-2] or x.shape[-1] % cfg.factor:
            raise ValueError(f"x must be square with a side divisible by {cfg.factor}, got {tuple(x.shape[-2:])}")
        # the embedding in the input's precision, so that a float64 copy runs (kernels, Jacobians)
        emb = self.time_mlp(sinusoidal_embedding(t, cfg.base).to(x.dtype)) + self.class_emb(c)  # (B, emb_dim)
        h = self.stem(x)  # (B, base, H, W)
        hs = [h]
        for layer in self.down:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)  # pools halve H, W
            hs.append(h)
        for layer in self.mid:
            h = layer(h, emb)  # (B, C_top, H/f, W/f)
        for layer in self.up:
            if isinstance(layer, ResBlock):
                h = layer(torch.cat([h, hs.pop()], dim=1), emb)  # skip connection
            else:
                h = layer(h)  # (B, c, 2h, 2w)
        return self.head(h)  # (B, C, H, W)
