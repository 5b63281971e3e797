"""A convolutional LSTM that forecasts Gray-Scott frames (Shi et al. 2015), in one file.

The model reads a few frames x_1 … x_T of the two concentrations (u, v) on a periodic
grid and predicts the next one. Each frame, with its last increment, passes through a
small convolutional *encoder*, e_t = E(x_t, x_t − x_{t−1}), then a ConvLSTM cell (Hochreiter & Schmidhuber 1997; Shi et al. 2015) whose
four gates are convolutions of the encoded frame e_t and the hidden state h_{t-1}:

    i = σ(W_i * [e_t, h_{t-1}] + b_i)        input gate
    f = σ(W_f * [e_t, h_{t-1}] + b_f)        forget gate
    o = σ(W_o * [e_t, h_{t-1}] + b_o)        output gate
    g = tanh(W_g * [e_t, h_{t-1}] + b_g)     candidate
    c_t = f ⊙ c_{t-1} + i ⊙ g                cell state  (chapter 7 reads this line)
    h_t = o ⊙ tanh(c_t)

and a pointwise *decoder* turns h_t (with the encoder's input) into the increment of the
frame (the residual): x_{t+1} = clip(x_t + δ · D(h_t, x_t, x_t − x_{t−1}), 0, 1), so
predicting "nothing changes" is the easy default and the output always stays in the
physical range [0, 1].

Design choices (the measurements behind them are summarised in chapter 4):

- **Periodic padding** everywhere (``circular``): the model commutes with shifts of the
  periodic grid and runs on any grid size (train on 32² and 48², evaluate on 64² and 128²).
- **Isotropic kernels** (``isotropic=True``): every convolution kernel is averaged over
  the eight symmetries of the square (D4), so it is a learned mix of the identity, the
  5-point and the diagonal Laplacian stencils. The network then commutes exactly with
  90° rotations and reflections of the grid, as the Gray-Scott equations do (u and v
  are scalar fields); the explicit-Euler step itself is built from such a stencil.
- **A fixed normalisation** of (u, v) stored in the config, used identically in
  training and evaluation, and a fixed increment scale δ.
- **The last increment as an input**: each step reads the normalised frame and
  (x_t − x_{t−1}) / δ, so "keep moving as before" is as easy to learn as "stand still"
  (in a 3-minute trial this cut the one-step training loss about fourfold).

Shapes: frames are (B, T, 2, H, W) float tensors with channels (u, v).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ConvLSTMConfig", "PeriodicConv2d", "ConvLSTMCell", "ConvLSTM", "from_checkpoint", "KIND"]

KIND = "convlstm"  # checkpoint kind (turing_helpers.checkpoints)


@dataclass
class ConvLSTMConfig:
    channels: int = 2                   # (u, v)
    embed: int = 16                     # encoder features per pixel fed to the gates
    hidden: int = 16                    # ConvLSTM channels (h and c)
    kernel: int = 3                     # gate kernel: one frame (10 solver steps) moves
    #                                     diffusion ~1.3 px at dx = 2/128, so 3×3 (plus the
    #                                     encoder's 3×3) is wide enough; memory adds reach
    decoder: int = 32                   # width of the pointwise decoder MLP
    isotropic: bool = True              # D4-symmetric kernels: exact 90° rotation equivariance
    context: int = 4                    # frames read before the first prediction (The Well: 4)
    mean: tuple[float, float] = (0.75, 0.09)   # (u, v) normalisation: mean and std of the
    std: tuple[float, float] = (0.24, 0.12)    # first model's 32² training frames (seed 0), rounded; fixed
    delta_scale: float = 0.02           # δ: typical |x_{t+1} − x_t| per frame (std ≈ 0.016, 0.010)
    low: float = 0.0                    # physical range of u and v: outputs are clipped
    high: float = 1.0                   # into [low, high]

    def __post_init__(self):
        for name in ("channels", "embed", "hidden", "decoder", "context"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.kernel, int) or self.kernel < 1 or self.kernel % 2 == 0:
            raise ValueError(f"kernel must be an odd positive integer, got {self.kernel!r}")
        self.mean, self.std = tuple(float(m) for m in self.mean), tuple(float(s) for s in self.std)
        if len(self.mean) != self.channels or len(self.std) != self.channels or min(self.std) <= 0:
            raise ValueError(f"mean and std need {self.channels} entries, std > 0; got {self.mean}, {self.std}")
        if not self.delta_scale > 0 or not self.low < self.high:
            raise ValueError("delta_scale must be > 0 and low < high")

    @classmethod
    def from_dict(cls, d: dict) -> "ConvLSTMConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown ConvLSTMConfig fields {sorted(unknown)}")
        return cls(**d)


class PeriodicConv2d(nn.Conv2d):
    """A 2-D convolution with circular (periodic) padding; optionally D4-symmetric kernels.

    With ``isotropic=True`` the kernel used is the average of the stored kernel over the
    eight rotations/reflections of the square, so conv(rot90(x)) = rot90(conv(x)) exactly.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, isotropic: bool = False):
        super().__init__(in_channels, out_channels, kernel, padding=0)
        self.isotropic = isotropic
        self.pad = kernel // 2

    def symmetric_weight(self) -> torch.Tensor:
        w = self.weight  # (out, in, k, k)
        if not self.isotropic or self.kernel_size[0] == 1:
            return w
        rotations = [torch.rot90(w, r, dims=(2, 3)) for r in range(4)]
        return sum(rotations + [r.transpose(2, 3) for r in rotations]) / 8.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad:
            x = F.pad(x, (self.pad,) * 4, mode="circular")
        return F.conv2d(x, self.symmetric_weight(), self.bias)


class ConvLSTMCell(nn.Module):
    """One ConvLSTM step (Shi et al. 2015, without peephole terms)."""

    def __init__(self, in_channels: int, hidden: int, kernel: int, isotropic: bool):
        super().__init__()
        self.hidden = hidden
        self.gates = PeriodicConv2d(in_channels + hidden, 4 * hidden, kernel, isotropic)
        with torch.no_grad():  # forget-gate bias +1: remember by default (Jozefowicz et al. 2015)
            self.gates.bias[hidden:2 * hidden].fill_(1.0)
        # gate_hook(i, f, o, g) -> (i, f, o, g), each (B, C, H, W): replaces the gates before they
        # act, for ablations (a gate clamped to a constant); None: the trained cell
        self.gate_hook = None

    def forward(self, e, state):
        h, c = state                                             # (B, C, H, W) each
        z = self.gates(torch.cat([e, h], dim=1))                 # (B, 4C, H, W)
        zi, zf, zo, zg = z.chunk(4, dim=1)                       # (B, C, H, W) each
        i, f, o, g = torch.sigmoid(zi), torch.sigmoid(zf), torch.sigmoid(zo), torch.tanh(zg)
        if self.gate_hook is not None:
            i, f, o, g = self.gate_hook(i, f, o, g)
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, c, (i, f, o, g)


class ConvLSTM(nn.Module):
    """Encoder → ConvLSTM cell → pointwise decoder of the increment; see the module docstring."""

    def __init__(self, config: ConvLSTMConfig = ConvLSTMConfig()):
        super().__init__()
        self.config = cfg = config
        k, iso = 3, cfg.isotropic
        self.encoder = nn.Sequential(PeriodicConv2d(2 * cfg.channels, cfg.embed, k, iso), nn.GELU(),
                                     PeriodicConv2d(cfg.embed, cfg.embed, 1))
        self.cell = ConvLSTMCell(cfg.embed, cfg.hidden, cfg.kernel, iso)
        self.decoder = nn.Sequential(PeriodicConv2d(cfg.hidden + 2 * cfg.channels, cfg.decoder, 1), nn.GELU(),
                                     PeriodicConv2d(cfg.decoder, cfg.channels, 1))
        with torch.no_grad():  # start as the persistence forecast: increment 0
            self.decoder[-1].weight.mul_(0.1)
            self.decoder[-1].bias.zero_()
        self.register_buffer("mean", torch.tensor(cfg.mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(cfg.std).view(1, -1, 1, 1), persistent=False)

    # -- pieces ----------------------------------------------------------------------
    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def init_state(self, x: torch.Tensor):
        """(h, c, previous frame): zeros, and x itself (so the first increment reads 0)."""
        B, _, H, W = x.shape
        zeros = x.new_zeros(B, self.config.hidden, H, W)
        return zeros, zeros.clone(), x

    def step(self, x: torch.Tensor, state):
        """Read frame x (B, 2, H, W) in physical units; return (prediction of the next
        frame (B, 2, H, W), new state (h, c, x), gates (i, f, o, g) each (B, C, H, W)).

        The input is the normalised frame and its last increment (x_t − x_{t−1}) / δ:
        the increment of a slowly moving pattern changes slowly, so the last one is the
        best single clue to the next."""
        h, c, x_prev = state
        z = torch.cat([self.normalise(x), (x - x_prev) / self.config.delta_scale], dim=1)  # (B, 4, H, W)
        e = self.encoder(z)                                       # (B, E, H, W)
        h, c, gates = self.cell(e, (h, c))                        # (B, C, H, W)
        delta = self.decoder(torch.cat([h, z], dim=1))            # (B, 2, H, W)
        x_next = torch.clamp(x + self.config.delta_scale * delta, self.config.low, self.config.high)
        return x_next, (h, c, x), gates

    def state_step(self, s: torch.Tensor) -> torch.Tensor:
        """One step of the model as a map of its whole state, for linearisation.

        s (B, 2 C + 2 H, n, n): the frame x_t, the previous frame x_{t−1} (C = 2 channels
        each) and the hidden and cell states h, c (H channels each), concatenated in that
        order; returns the next whole state (x_{t+1}, x_t, h', c') of the same shape. A
        rollout is the iteration of this map, so its Jacobian at a state on a rollout is
        what decides whether perturbations of that rollout grow.
        """
        C, H = self.config.channels, self.config.hidden
        x, x_prev, h, c = torch.split(s, [C, C, H, H], dim=1)
        x_next, (h, c, _), _ = self.step(x, (h, c, x_prev))
        return torch.cat([x_next, x, h, c], dim=1)

    def rollout_state(self, context) -> torch.Tensor:
        """The whole state (B, 2 C + 2 H, n, n) of :meth:`state_step` after reading the context
        frames (B, T, C, n, n) and predicting one frame: (x_{T}, x_{T−1}, h, c), x_T the prediction."""
        context = self._check_context(context)
        state = self.init_state(context[:, 0])
        for t in range(context.shape[1]):
            x_next, state, _ = self.step(context[:, t], state)
        h, c, x = state
        return torch.cat([x_next, x, h, c], dim=1)

    # -- public API ------------------------------------------------------------------
    def rollout(self, context, steps: int, return_gates: bool = False):
        """Autoregressive forecast: context (B, T, 2, H, W) → frames (B, steps, 2, H, W).

        The T context frames (4 in training) are read in order; each prediction is then
        fed back as the next input. With ``return_gates=True`` also returns a dict of the
        gates ``i, f, o, g`` and the cell state ``c``, each (B, T + steps − 1, C, H, W):
        entry t belongs to the step that reads frame t (context first, then predictions).
        Gradients flow (training unrolls through this); wrap in ``torch.no_grad()`` to
        evaluate long rollouts. A rollout whose fields fade to 0 passes through denormal
        floats, about 3× slower on CPUs; ``torch.set_flush_denormal(True)`` avoids that.
        """
        context = self._check_context(context)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
        state = self.init_state(context[:, 0])
        record = {"i": [], "f": [], "o": [], "g": [], "c": []} if return_gates else None
        T = context.shape[1]
        outputs = []
        x_next = None
        for t in range(T + steps - 1):
            x = context[:, t] if t < T else x_next                  # (B, 2, H, W)
            x_next, state, gates = self.step(x, state)
            if t >= T - 1:
                outputs.append(x_next)
            if record is not None:
                for name, value in zip("ifog", gates):
                    record[name].append(value)
                record["c"].append(state[1])
        frames = torch.stack(outputs, dim=1)                       # (B, steps, 2, H, W)
        if record is None:
            return frames
        return frames, {name: torch.stack(values, dim=1) for name, values in record.items()}

    def forward(self, context, return_gates: bool = False):
        """The next frame (B, 2, H, W) after the context frames (B, T, 2, H, W)."""
        if return_gates:
            frames, gates = self.rollout(context, 1, return_gates=True)
            return frames[:, 0], gates
        return self.rollout(context, 1)[:, 0]

    def _check_context(self, context) -> torch.Tensor:
        if not isinstance(context, torch.Tensor):
            context = torch.as_tensor(context)
        if context.ndim != 5:
            raise ValueError(f"context must have shape (B, T, {self.config.channels}, H, W), got {tuple(context.shape)}")
        B, T, C, H, W = context.shape
        if C != self.config.channels:
            raise ValueError(f"context must have {self.config.channels} channels (u, v) on axis 2, got {C}")
        if B < 1 or T < 1 or H < 3 or W < 3:
            raise ValueError(f"context needs B >= 1, T >= 1 frames and a grid of at least 3 × 3, got {tuple(context.shape)}")
        if not context.is_floating_point():
            context = context.float()
        context = context.to(self.mean.device, self.mean.dtype)
        if not torch.isfinite(context).all():
            raise ValueError("context contains non-finite values (inf or NaN)")
        return context


def from_checkpoint(payload: dict) -> ConvLSTM:
    """The model stored in a checkpoint payload (turing_helpers.checkpoints.load_checkpoint), in eval mode."""
    if not isinstance(payload, dict) or "model" not in payload or "config" not in payload:
        raise ValueError("payload must be a checkpoint dict with 'model' and 'config' entries")
    if payload.get("kind", KIND) != KIND:
        raise ValueError(f"payload holds a {payload.get('kind')!r} model, not {KIND!r}")
    model = ConvLSTM(ConvLSTMConfig.from_dict(payload["config"]))
    model.load_state_dict(payload["model"])
    return model.eval()


def config_dict(config: ConvLSTMConfig) -> dict:
    """The config as plain data (tuples as lists) for a checkpoint."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(config).items()}
