"""One update rule, three systems: x_{n+1} = a_n ⊙ x_n + b_n(x_n) + σ_n ξ_n.

The book's second thesis (chapter 7) is that an explicit Gray-Scott step, an LSTM's cell
state and a DDPM step are all instances of this gated update: a factor ``a`` that keeps (or
amplifies) the state's own value, an input ``b`` that depends on the state and its
surroundings, and fresh noise ξ ~ N(0, I) of size ``σ``. Each class below returns the three
terms of one system's own step, so that the identity can be checked to round-off against
that system's code and the terms can be measured.

The split of a step into ``a`` and ``b`` is not unique, and what the terms "mean" depends
on it; every class takes ``split`` and says what its choices are:

- Gray-Scott, explicit Euler. ``"reaction"`` (default): a_u = 1 − Δt (F + v²) and
  a_v = 1 − Δt (F + k), the reaction's own decay of each species; b holds the rest, the
  whole diffusion term and the sources, b_u = Δt (D_u ∇²u + F), b_v = Δt (D_v ∇²v + u v²).
  ``"local"`` moves the Laplacian's diagonal into a: a_u = 1 − Δt (F + v² + c D_u) with
  c = 4/dx² (5-point) or 10/(3 dx²) (9-point), and b keeps only the neighbours' share.
- DDPM reverse step. ``"eps"`` (default): a = 1/√α_t for the ancestral step (√(ᾱ_{t'}/ᾱ_t)
  for DDIM), greater than 1 — amplification, not decay — and b = −(…) ε̂ the learned drift.
  ``"x0"``: a is the coefficient of x_t in the posterior mean, below 1, and b = (…) x̂_0.
  Both give the same step exactly (ε̂ and x̂_0 are tied by x_t = √ᾱ_t x̂_0 + √(1 − ᾱ_t) ε̂).
- DDPM forward step: a = √(1 − β_t), b = 0, σ = √β_t; the LSTM cell state: a = f, b = i ⊙ g,
  σ = 0. These have one natural split.

Shapes: ``x`` is whatever the system's step takes — (..., 2, N, N) for Gray-Scott (u, v
stacked on the channel axis; numpy or torch), (B, C, H, W) torch tensors for the
networks; a, b and σ broadcast against it.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ._checks import check_positive
from .gray_scott import GrayScott, rhs_terms
from .stencils import check_stencil, laplacian

__all__ = ["GatedUpdate", "GrayScottEuler", "ConvLSTMCellState", "DDPMForward", "DDPMReverse",
           "GrayScottCell"]

# Weight of a cell's own value in each stencil's Laplacian, in units of 1/dx²:
# 5-point (… − 4 f)/dx², 9-point (… − 20 f)/(6 dx²).
_CENTRE_WEIGHT = {"5-point": 4.0, "9-point": 20.0 / 6.0}


class GatedUpdate:
    """A step x ↦ a ⊙ x + b + σ ξ; subclasses provide :meth:`gates`."""

    def gates(self, x, **inputs):
        """(a, b, σ) at state x; each broadcasts against x."""
        raise NotImplementedError

    def step(self, x, noise=None, **inputs):
        """a ⊙ x + b + σ ⊙ noise (noise None: the deterministic part, σ ξ left out)."""
        a, b, sigma = self.gates(x, **inputs)
        out = a * x + b
        return out if noise is None else out + sigma * noise


# -- Gray-Scott ----------------------------------------------------------------------------
def _gray_scott_gates(u, v, F, k, Du, Dv, dx, dt, stencil, split):
    """Forget factors (a_u, a_v) and inputs (b_u, b_v) of one Euler step; u's shape each."""
    if split not in ("reaction", "local"):
        raise ValueError(f"split must be 'reaction' or 'local', got {split!r}")
    lap_u, lap_v = laplacian(u, dx, stencil), laplacian(v, dx, stencil)
    a_u, a_v = 1.0 - dt * (F + v * v), 1.0 - dt * (F + k) + 0.0 * v
    b_u, b_v = dt * (Du * lap_u + F), dt * (Dv * lap_v + u * v * v)
    if split == "local":  # the cell's own weight in ∇² becomes a decay; b keeps the neighbours
        centre = _CENTRE_WEIGHT[stencil] / dx**2
        a_u, a_v = a_u - dt * Du * centre, a_v - dt * Dv * centre
        b_u, b_v = b_u + dt * Du * centre * u, b_v + dt * Dv * centre * v
    return (a_u, a_v), (b_u, b_v)


def _stack(pair, like):
    if isinstance(like, torch.Tensor):
        return torch.stack(pair, dim=-3)
    return np.stack(pair, axis=-3)


class GrayScottEuler(GatedUpdate):
    """The explicit Euler step of Gray-Scott as a gated update; x = (u, v) on axis −3.

    model: :class:`~turing_helpers.gray_scott.GrayScott`; dx (length) and dt (time) as in
    :func:`turing_helpers.simulate` (no stability check here: this is the algebra, the
    solver guards the runs); stencil ``"5-point"`` or ``"9-point"``; split
    ``"reaction"`` or ``"local"`` (module docstring). σ = 0.
    """

    def __init__(self, model: GrayScott, dx: float, dt: float, stencil: str = "5-point",
                 split: str = "reaction"):
        self.model, self.stencil, self.split = model, check_stencil(stencil), split
        self.dx, self.dt = check_positive("dx", dx), check_positive("dt", dt)
        if split not in ("reaction", "local"):
            raise ValueError(f"split must be 'reaction' or 'local', got {split!r}")

    def gates(self, x):
        if x.ndim < 3 or x.shape[-3] != 2:
            raise ValueError(f"x must have shape (..., 2, N, N) (u and v), got {tuple(x.shape)}")
        u, v = x[..., 0, :, :], x[..., 1, :, :]
        m = self.model
        a, b = _gray_scott_gates(u, v, m.F, m.k, m.Du, m.Dv, self.dx, self.dt, self.stencil, self.split)
        return _stack(a, x), _stack(b, x), 0.0


# -- the LSTM cell state ---------------------------------------------------------------------
class ConvLSTMCellState(GatedUpdate):
    """The cell-state update c' = f ⊙ c + i ⊙ g of a :class:`~turing_helpers.models.convlstm.ConvLSTMCell`.

    ``gates(c, e=..., h=...)`` with the cell's input e (B, C_in, H, W) and hidden state h
    (B, C, H, W) returns (f, i ⊙ g, 0); the gates i, f (sigmoids) and g (tanh) are the
    cell's own. In continuous time this is a leaky integrator with a learned,
    state-dependent rate: dc/dt = −((1 − f)/Δ) c + (i/Δ) g for a frame interval Δ.
    """

    def __init__(self, cell: nn.Module):
        self.cell = cell

    @torch.no_grad()
    def gates(self, c, *, e, h):
        _, _, (i, f, _o, g) = self.cell(e, (h, c))
        return f, i * g, 0.0


# -- the DDPM ----------------------------------------------------------------------------
class DDPMForward(GatedUpdate):
    """Forward (noising) step number t of a DDPM: a = √(1 − β_t), b = 0, σ = √β_t.

    ddpm: :class:`~turing_helpers.models.ddpm.DDPM`; t: 0 ≤ t < T, the package's 0-based
    index (step t takes the clean data through steps 0 … t − 1 to level t, whose marginal is
    ``q_sample(x_0, t)``). Composed from the clean data, steps 0 … t give
    q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) with ᾱ_t = Π_{s ≤ t} (1 − β_s).
    """

    def __init__(self, ddpm, t: int):
        T = ddpm.config.timesteps
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < T:
            raise ValueError(f"t must be an integer in [0, {T - 1}], got {t!r}")
        self.beta = float(ddpm.betas[t])
        self.t = int(t)

    def gates(self, x):
        return math.sqrt(1.0 - self.beta), 0.0, math.sqrt(self.beta)


class DDPMReverse(GatedUpdate):
    """One reverse step of the sampler, x_t → x_{t'}, as a gated update.

    ddpm: a :class:`~turing_helpers.models.ddpm.DDPM`; t: the current step; method
    ``"ancestral"`` (t' = t − 1, :meth:`DDPM.p_sample`) or ``"ddim"`` (any t' < t, −1 for the
    last step; :meth:`DDPM.ddim_step` with ``eta``); labels: (B,) class indices; guidance:
    the classifier-free weight w. split ``"eps"`` or ``"x0"`` (module docstring). The
    learned drift b uses the network's own (clipped) x̂_0 and the ε̂ consistent with it,
    as the sampler does, so :meth:`step` with the sampler's noise is its step to round-off.
    """

    def __init__(self, ddpm, t: int, labels, method: str = "ancestral", t_prev: int | None = None,
                 guidance: float = 1.0, eta: float = 0.0, split: str = "eps"):
        T = ddpm.config.timesteps
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < T:
            raise ValueError(f"t must be an integer in [0, {T - 1}], got {t!r}")
        if method not in ("ancestral", "ddim"):
            raise ValueError(f"method must be 'ancestral' or 'ddim', got {method!r}")
        if split not in ("eps", "x0"):
            raise ValueError(f"split must be 'eps' or 'x0', got {split!r}")
        t_prev = t - 1 if t_prev is None else t_prev
        if isinstance(t_prev, bool) or not isinstance(t_prev, (int, np.integer)):
            raise ValueError(f"t_prev must be an integer in [-1, t - 1 = {t - 1}], got {t_prev!r}")
        if method == "ancestral" and t_prev != t - 1:
            raise ValueError(f"the ancestral step goes from t to t - 1; got t_prev = {t_prev} for t = {t}")
        if not -1 <= t_prev < t:
            raise ValueError(f"t_prev must be in [-1, t - 1 = {t - 1}], got {t_prev!r}")
        self.ddpm, self.t, self.t_prev, self.labels = ddpm, int(t), int(t_prev), labels
        self.method, self.guidance, self.eta, self.split = method, float(guidance), float(eta), split

    def _coefficients(self, like):
        """(coefficient of x_t, of x̂_0, of ε̂, σ) of the sampler's step."""
        d, t = self.ddpm, self.t
        abar_t = d.alphas_cumprod[t]
        if self.method == "ancestral":  # μ̃ = coef1 x̂_0 + coef2 x_t, variance β̃_t (none at t = 0)
            sigma = (0.5 * d.posterior_log_variance[t]).exp() if t > 0 else 0.0
            return d.posterior_mean_coef2[t], d.posterior_mean_coef1[t], 0.0, sigma
        abar_prev = d.alphas_cumprod[self.t_prev] if self.t_prev >= 0 else torch.ones((), device=like.device)
        sigma = self.eta * ((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)).sqrt()
        c_eps = (1 - abar_prev - sigma**2).clamp(min=0).sqrt()
        return 0.0, abar_prev.sqrt(), c_eps, (sigma if self.eta > 0 and self.t_prev >= 0 else 0.0)

    def _split(self, like):
        """(a, coefficient of the split's drift direction, σ): the drift is that times x̂_0
        (``"x0"``) or ε̂ (``"eps"``); none of it depends on the state."""
        d = self.ddpm
        c_x, c_x0, c_eps, sigma = self._coefficients(like)
        sqrt_abar, sqrt_one_minus = d.alphas_cumprod[self.t].sqrt(), (1 - d.alphas_cumprod[self.t]).sqrt()
        if self.split == "x0":  # write ε̂ = (x_t − √ᾱ_t x̂_0)/√(1 − ᾱ_t): everything on x_t and x̂_0
            return c_x + c_eps / sqrt_one_minus, c_x0 - c_eps * sqrt_abar / sqrt_one_minus, sigma
        # write x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t: everything on x_t and ε̂
        return c_x + c_x0 / sqrt_abar, c_eps - c_x0 * sqrt_one_minus / sqrt_abar, sigma

    def factor(self) -> float:
        """The factor a of this step (a scalar: it does not depend on the state, so no network call)."""
        return float(self._split(self.ddpm.betas)[0])

    @torch.no_grad()
    def gates(self, x):
        d = self.ddpm
        tt = torch.full((x.shape[0],), self.t, dtype=torch.long, device=x.device)
        eps, x0 = d.model_predictions(x, tt, self.labels, self.guidance)
        a, drift, sigma = self._split(x)
        return a, drift * (x0 if self.split == "x0" else eps), sigma


# -- the smallest "LSTM" that is Gray-Scott ----------------------------------------------------
class GrayScottCell(nn.Module):
    """The Gray-Scott Euler step as a torch module with four learnable positive parameters.

    F, k (1/time) and D_u, D_v (length²/time) start at ``model``'s values and are stored as
    logarithms, so gradient descent keeps them positive. ``forward(u, v)`` takes (B, N, N)
    tensors (any N ≥ 3, CPU or GPU, float64 for round-off agreement with the solver) and
    returns one Euler step (u', v') — the same arithmetic as
    ``simulate(..., method="euler", backend="torch")``. ``gates(u, v)`` returns its forget
    factors (a_u, a_v) and input terms (b_u, b_v) under the ``"reaction"`` split, so that
    u' = a_u u + b_u and v' = a_v v + b_v.
    """

    def __init__(self, model: GrayScott, dx: float, dt: float, stencil: str = "5-point"):
        super().__init__()
        self.dx, self.dt, self.stencil = check_positive("dx", dx), check_positive("dt", dt), check_stencil(stencil)
        for name in ("F", "k", "Du", "Dv"):
            value = check_positive(name, getattr(model, name))
            self.register_parameter(f"log_{name}", nn.Parameter(torch.tensor(math.log(value), dtype=torch.float64)))

    def parameters_dict(self) -> dict[str, torch.Tensor]:
        """{"F", "k", "Du", "Dv"}: the current values (0-d tensors, in the graph)."""
        return {name: getattr(self, f"log_{name}").exp() for name in ("F", "k", "Du", "Dv")}

    def as_model(self) -> GrayScott:
        """The current parameters as a :class:`GrayScott` (detached floats)."""
        return GrayScott(**{name: float(value.detach()) for name, value in self.parameters_dict().items()})

    def forward(self, u: torch.Tensor, v: torch.Tensor):
        if u.shape != v.shape or u.ndim < 2:
            raise ValueError(f"u and v must be tensors of one shape (..., N, N), got {tuple(u.shape)} and "
                             f"{tuple(v.shape)}")
        p = {name: value.to(u.dtype) for name, value in self.parameters_dict().items()}
        du, dv = rhs_terms(u, v, p["F"], p["k"], p["Du"], p["Dv"], self.dx, self.stencil)
        return u + self.dt * du, v + self.dt * dv

    def gates(self, u: torch.Tensor, v: torch.Tensor):
        p = {name: value.to(u.dtype) for name, value in self.parameters_dict().items()}
        return _gray_scott_gates(u, v, p["F"], p["k"], p["Du"], p["Dv"], self.dx, self.dt, self.stencil,
                                 "reaction")

    def rollout(self, u: torch.Tensor, v: torch.Tensor, frames: int, steps_per_frame: int = 10):
        """``frames`` frames of ``steps_per_frame`` Euler steps each: (B, frames, N, N) twice."""
        us, vs = [], []
        for _ in range(frames):
            for _ in range(steps_per_frame):
                u, v = self(u, v)
            us.append(u)
            vs.append(v)
        return torch.stack(us, dim=-3), torch.stack(vs, dim=-3)

