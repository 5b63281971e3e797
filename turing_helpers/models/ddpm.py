"""A denoising diffusion probabilistic model of Gray-Scott patterns, in one file (chapter 5).

The forward process adds Gaussian noise to a pattern x_0 in T small steps,

    q(x_t | x_{t-1}) = N(√α_t x_{t-1}, β_t I),   so   q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I),

with α_t = 1 − β_t and ᾱ_t = Π_{s≤t} α_s (Ho et al. 2020, eqs. 2–4). A network ε_θ(x_t, t, c)
(the periodic U-Net of :mod:`turing_helpers.models.unet`) learns to predict the noise ε in
x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε by minimising ‖ε − ε_θ‖² (their eq. 14, "L_simple"). Samples
are drawn by running the reverse chain from pure noise x_T ~ N(0, I):

- ancestral DDPM sampling (Ho et al. 2020, algorithm 2), all T steps;
- deterministic DDIM sampling (Song et al. 2021, eq. 12 with η = 0) on a sub-sequence of
  the steps, e.g. 50 of 1000 — the same trained network, 20× fewer evaluations;
- DPM-Solver++(2M) (Lu et al. 2022, arXiv:2211.01095, algorithm 2), a second-order
  multistep solver of the same probability-flow ODE that DDIM solves to first order: it
  reuses the previous step's x̂_0, so each step costs one network call like DDIM's. On
  Gaussian data 20 of its steps beat 100 DDIM steps (the tests); on the book's patterns 15
  steps keep the wavelength and morphology of 100 DDIM steps but lose contrast, as 15 DDIM
  steps do (``benchmarks/ddpm_solvers.py``, chapter 5), so the book samples with DDIM. With
  η > 0 it is the SDE variant of the same paper (fresh noise in every step, as DDIM's η).

The noise schedule is the cosine schedule of Nichol & Dhariwal (2021) (the linear one of
Ho et al. is kept for comparison); schedules are computed in float64 and stored float32.
Classifier-free guidance (Ho & Salimans 2022) is optional: the class is dropped to a null
label with probability ``p_uncond`` in training, and sampling may mix the conditional and
unconditional predictions with a guidance weight w (w = 1: plain conditional sampling).
The guidance weight and the DDIM noise η are sampling choices, not part of the trained
network: :attr:`DDPM.sampling` holds per-class defaults for them, which a shipped
checkpoint sets from a search on validation patterns
(:func:`turing_helpers.training.ddpm.tune_sampling`).

Units: the network works on x = (u, v) mapped affinely into [−1, 1] by the fixed ranges
in :class:`DiffusionConfig` (u ∈ [0, 1], v ∈ [0, 0.6] cover every Well class); the same
map is used in training and sampling, and :meth:`DDPM.sample` returns physical (u, v).
"""
from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_count, check_integer_in
from ..presets import WELL_CLASSES, WELL_DX
from .unet import UNet, UNetConfig

__all__ = ["DiffusionConfig", "DDPM", "EMA", "cosine_beta_schedule", "linear_beta_schedule",
           "dpm_solver_update", "from_checkpoint", "CHECKPOINT_KIND", "SAMPLERS"]

CHECKPOINT_KIND = "ddpm"
# Sampling on a CPU evaluates the network on at most this many fields at a time (DDPM.network)
CPU_CHUNK = 16


# -- noise schedules (tiny pure functions, float64) -----------------------------------
def cosine_beta_schedule(timesteps: int, s: float = 0.008) -> np.ndarray:
    """β_t of the cosine schedule (Nichol & Dhariwal 2021, eq. 17), float64, shape (T,).

    ᾱ(t) = f(t)/f(0), f(t) = cos²(π/2 · (t/T + s)/(1 + s)); β_t = 1 − ᾱ_t/ᾱ_{t−1}, clipped
    at 0.999 to avoid the singularity at t = T. The offset s keeps β_1 from being tiny.
    """
    if timesteps < 1:
        raise ValueError(f"timesteps must be >= 1, got {timesteps}")
    t = np.arange(timesteps + 1, dtype=np.float64) / timesteps
    f = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    alphas_cumprod = f / f[0]
    return np.clip(1 - alphas_cumprod[1:] / alphas_cumprod[:-1], 0, 0.999)


def linear_beta_schedule(timesteps: int) -> np.ndarray:
    """β_t rising linearly from 1e-4 to 0.02 (Ho et al. 2020); float64 (T,).

    For T ≠ 1000 both ends are scaled by 1000/T (the improved-DDPM convention, keeping
    ᾱ_T about the same), and clipped at 0.999 as the cosine schedule is (for T < 20).
    """
    if timesteps < 1:
        raise ValueError(f"timesteps must be >= 1, got {timesteps}")
    scale = 1000 / timesteps
    return np.clip(np.linspace(scale * 1e-4, scale * 0.02, timesteps, dtype=np.float64), 0, 0.999)


SCHEDULES = {"cosine": cosine_beta_schedule, "linear": linear_beta_schedule}
# DDPM.sample's methods: ancestral (all T steps), DDIM (first order), DPM-Solver++(2M) (second order)
SAMPLERS = ("ddpm", "ddim", "dpm++")


@dataclass(frozen=True)
class DiffusionConfig:
    timesteps: int = 1000              # T; the usual value: small β_t keeps each reverse step near-Gaussian
    schedule: str = "cosine"           # cosine destroys the signal more evenly in t than linear (Nichol & Dhariwal)
    u_range: tuple[float, float] = (0.0, 1.0)   # physical range mapped to [−1, 1]; data min 0.11, max 1.0
    v_range: tuple[float, float] = (0.0, 0.6)   # data max 0.58 (gliders, spirals)
    objective: str = "v"               # network target: "eps" (Ho et al.) or "v" = √ᾱ ε − √(1−ᾱ) x_0
                                       # (Salimans & Ho 2022, arXiv:2202.00512). With "eps" the field's mean (one Fourier
                                       # mode of 2304) is barely penalised at low SNR and drifted with the
                                       # seed in sampling; "v" predicts x_0 itself there and fixes it.
    clip_denoised: bool = True         # clip predicted x_0 to [−1, 1] while sampling (Ho et al.)
    p_uncond: float = 0.1              # label dropout for classifier-free guidance
    size: int = 48                     # training grid side (points); dx = 2/128 as in The Well
    dx: float = WELL_DX
    classes: tuple[str, ...] = WELL_CLASSES
    unet: UNetConfig = field(default_factory=UNetConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DiffusionConfig":
        d = dict(d)
        d.setdefault("objective", "eps")  # checkpoints from before the option predicted ε
        unet = UNetConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.pop("unet").items()})
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(unet=unet, **d)


def _extract(a: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """a[t] shaped (B, 1, 1, 1) to broadcast over images."""
    return a.gather(0, t)[:, None, None, None]


def _log_snr(alpha_bar: float) -> float:
    """λ = log(α/σ) = ½ log(ᾱ / (1 − ᾱ)), the half log signal-to-noise ratio."""
    return 0.5 * math.log(alpha_bar / (1.0 - alpha_bar))


def dpm_solver_update(x, x0, alpha_bar, alpha_bar_next, previous=None, eta: float = 0.0, noise=None):
    """One step of DPM-Solver++(2M) from noise level ᾱ to ᾱ_next > ᾱ (Lu et al. 2022).

    x: x_t (B, C, H, W) in network units; x0: the data prediction x̂_0(x_t); previous: None
    (first order: the DDIM step) or (x̂_0, ᾱ) of the step before, which makes the step second
    order: D = x̂_0 + (x̂_0 − x̂_0,before) / (2r), r = h_before / h, with h = λ_next − λ the step
    in half log-SNR. The update is the exact solution of the probability-flow ODE for a data
    prediction that is linear in λ between the two steps:

        x_next = σ_next/σ · e^{−ηh} x + α_next (1 − e^{−(1+η)h}) D + σ_next √(1 − e^{−2ηh}) z,

    α = √ᾱ, σ = √(1 − ᾱ); η = 0 is the ODE, η = 1 the reverse SDE (SDE-DPM-Solver++(2M)), and
    ``noise`` z (like x) is needed when η > 0. ᾱ_next = 1 (the end, σ = 0) returns x̂_0.
    """
    if alpha_bar_next >= 1.0:
        return x0
    h = _log_snr(alpha_bar_next) - _log_snr(alpha_bar)
    data = x0
    if previous is not None:
        x0_before, alpha_bar_before = previous
        r = (_log_snr(alpha_bar) - _log_snr(alpha_bar_before)) / h
        data = x0 + (x0 - x0_before) / (2 * r)
    sigma_ratio = math.sqrt((1 - alpha_bar_next) / (1 - alpha_bar))
    x_next = (sigma_ratio * math.exp(-eta * h) * x
              + math.sqrt(alpha_bar_next) * -math.expm1(-(1 + eta) * h) * data)
    if eta > 0:
        x_next = x_next + math.sqrt((1 - alpha_bar_next) * -math.expm1(-2 * eta * h)) * noise
    return x_next


class DDPM(nn.Module):
    """The diffusion process around a noise predictor: schedule, loss and samplers."""

    def __init__(self, config: DiffusionConfig = DiffusionConfig()):
        super().__init__()
        if config.objective not in ("eps", "v"):
            raise ValueError(f"objective must be 'eps' or 'v', got {config.objective!r}")
        if config.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {config.schedule!r}")
        if config.unet.num_classes != len(config.classes):
            raise ValueError("unet.num_classes must equal the number of classes")
        self.config = config
        self.model = UNet(config.unet)
        betas = SCHEDULES[config.schedule](config.timesteps)  # float64 (T,)
        alphas_cumprod = np.cumprod(1.0 - betas)
        alphas_cumprod_prev = np.append(1.0, alphas_cumprod[:-1])
        posterior_variance = betas * (1 - alphas_cumprod_prev) / (1 - alphas_cumprod)  # β̃_t, eq. 7

        def register(name, value):
            self.register_buffer(name, torch.tensor(value, dtype=torch.float32), persistent=False)

        register("betas", betas)
        register("alphas_cumprod", alphas_cumprod)
        register("alphas_cumprod_prev", alphas_cumprod_prev)
        register("sqrt_alphas_cumprod", np.sqrt(alphas_cumprod))
        register("sqrt_one_minus_alphas_cumprod", np.sqrt(1 - alphas_cumprod))
        register("sqrt_recip_alphas_cumprod", np.sqrt(1 / alphas_cumprod))
        register("sqrt_recipm1_alphas_cumprod", np.sqrt(1 / alphas_cumprod - 1))
        register("posterior_variance", posterior_variance)
        register("posterior_log_variance", np.log(np.maximum(posterior_variance, 1e-20)))
        register("posterior_mean_coef1", betas * np.sqrt(alphas_cumprod_prev) / (1 - alphas_cumprod))
        register("posterior_mean_coef2", (1 - alphas_cumprod_prev) * np.sqrt(1 - betas) / (1 - alphas_cumprod))
        lo = [config.u_range[0], config.v_range[0]]
        hi = [config.u_range[1], config.v_range[1]]
        register("_lo", np.array(lo)[:, None, None])  # (2, 1, 1)
        register("_hi", np.array(hi)[:, None, None])
        self.sampling: dict[str, dict] = {}  # class name -> {"guidance": w, "eta": η}; see set_sampling

    def set_sampling(self, sampling: dict):
        """Per-class defaults of :meth:`sample`: {class name: {"guidance": w ≥ 0, "eta": η ≥ 0}};
        a class not listed samples with w = 1, η = 0 (plain conditional DDIM)."""
        checked = {}
        for name, choice in sampling.items():
            if name not in self.config.classes:
                raise ValueError(f"sampling: unknown class {name!r}; classes are {list(self.config.classes)}")
            if set(choice) - {"guidance", "eta"}:
                raise ValueError(f"sampling[{name!r}] may set only 'guidance' and 'eta', got {sorted(choice)}")
            for key, value in choice.items():
                if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                    raise ValueError(f"sampling[{name!r}][{key!r}] must be a finite number >= 0, got {value!r}")
            checked[name] = {key: float(value) for key, value in choice.items()}
        self.sampling = checked

    # -- units ---------------------------------------------------------------------------
    def normalize(self, x):
        """Physical (u, v) (B, 2, H, W) → network range [−1, 1]."""
        return 2 * (x - self._lo) / (self._hi - self._lo) - 1

    def unnormalize(self, x):
        """Network range → physical (u, v)."""
        return (x + 1) / 2 * (self._hi - self._lo) + self._lo

    # -- forward process -----------------------------------------------------------------
    def q_sample(self, x_start, t, noise=None):
        """Draw x_t ~ q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) (eq. 4). x_start (B, C, H, W), t (B,)."""
        noise = torch.randn_like(x_start) if noise is None else noise
        return _extract(self.sqrt_alphas_cumprod, t) * x_start + _extract(self.sqrt_one_minus_alphas_cumprod, t) * noise

    def predict_start_from_noise(self, x_t, t, noise):
        """x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t, the inversion of q_sample."""
        return _extract(self.sqrt_recip_alphas_cumprod, t) * x_t - _extract(self.sqrt_recipm1_alphas_cumprod, t) * noise

    def predict_noise_from_start(self, x_t, t, x_start):
        """ε = (x_t − √ᾱ_t x_0) / √(1 − ᾱ_t), the other inversion of q_sample."""
        return (x_t - _extract(self.sqrt_alphas_cumprod, t) * x_start) / _extract(self.sqrt_one_minus_alphas_cumprod, t)

    def predict_v(self, x_start, t, noise):
        """The velocity target v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 (Salimans & Ho 2022, arXiv:2202.00512)."""
        return _extract(self.sqrt_alphas_cumprod, t) * noise - _extract(self.sqrt_one_minus_alphas_cumprod, t) * x_start

    def predict_start_from_v(self, x_t, t, v):
        """x̂_0 = √ᾱ_t x_t − √(1 − ᾱ_t) v."""
        return _extract(self.sqrt_alphas_cumprod, t) * x_t - _extract(self.sqrt_one_minus_alphas_cumprod, t) * v

    def q_posterior(self, x_start, x_t, t):
        """Mean and log-variance of q(x_{t−1} | x_t, x_0) (Ho et al. eqs. 6–7)."""
        mean = _extract(self.posterior_mean_coef1, t) * x_start + _extract(self.posterior_mean_coef2, t) * x_t
        return mean, _extract(self.posterior_log_variance, t)

    # -- training ------------------------------------------------------------------------
    def p_losses(self, x_start, labels, t=None, noise=None):
        """L_simple = E ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t, c)‖², t uniform (eq. 14); with
        ``objective="v"`` the target is v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 instead of ε.

        x_start: (B, 2, H, W) in the *network* range (see :meth:`normalize`); labels (B,).
        With probability ``p_uncond`` a label is replaced by the null label.
        """
        B = x_start.shape[0]
        t = torch.randint(0, self.config.timesteps, (B,), device=x_start.device) if t is None else t
        noise = torch.randn_like(x_start) if noise is None else noise
        if self.training and self.config.p_uncond > 0:
            drop = torch.rand(B, device=labels.device) < self.config.p_uncond
            labels = torch.where(drop, torch.full_like(labels, self.config.unet.num_classes), labels)
        x_t = self.q_sample(x_start, t, noise)  # (B, 2, H, W)
        target = noise if self.config.objective == "eps" else self.predict_v(x_start, t, noise)
        return F.mse_loss(self.model(x_t, t, labels), target)

    # -- reverse process -----------------------------------------------------------------
    def network(self, x_t, t, labels):
        """ε_θ (or v_θ) of a batch; on a CPU in chunks of at most :data:`CPU_CHUNK` fields.

        Each field's pass is its own, so a chunk changes its numbers only by float32 round-off
        (the convolution library may sum in another order for another batch size); chunks keep
        a pass's activations in the cache: on the 2-core machine the book is built on, sampling 64
        fields of 48² in chunks is 1.1–1.9× faster than in one pass, most for guided steps,
        whose batch is doubled (``benchmarks/ddpm_sampling.py``).
        """
        if x_t.device.type != "cpu" or len(x_t) <= CPU_CHUNK:
            return self.model(x_t, t, labels)
        return torch.cat([self.model(x_t[i:i + CPU_CHUNK], t[i:i + CPU_CHUNK], labels[i:i + CPU_CHUNK])
                          for i in range(0, len(x_t), CPU_CHUNK)])

    def model_output(self, x_t, t, labels, guidance: float = 1.0):
        """The network's output (ε or v), with classifier-free guidance o_∅ + w (o_c − o_∅) when w ≠ 1."""
        if guidance == 1.0:
            return self.network(x_t, t, labels)
        null = torch.full_like(labels, self.config.unet.num_classes)
        eps = self.network(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, null]))
        eps_c, eps_u = eps.chunk(2)
        return eps_u + guidance * (eps_c - eps_u)

    def model_predictions(self, x_t, t, labels, guidance: float = 1.0):
        """(ε̂, x̂_0) at step t; x̂_0 clipped to [−1, 1] and ε̂ made consistent with it."""
        out = self.model_output(x_t, t, labels, guidance)
        if self.config.objective == "eps":
            x0 = self.predict_start_from_noise(x_t, t, out)
        else:
            x0 = self.predict_start_from_v(x_t, t, out)
        if self.config.clip_denoised:
            x0 = x0.clamp(-1, 1)
        return self.predict_noise_from_start(x_t, t, x0), x0

    @torch.no_grad()
    def p_sample(self, x_t, t: int, labels, guidance=1.0, generator=None):
        """One ancestral step x_t → x_{t−1} ~ N(μ̃(x_t, x̂_0), β̃_t I) (algorithm 2)."""
        tt = torch.full((x_t.shape[0],), t, device=x_t.device, dtype=torch.long)
        _, x0 = self.model_predictions(x_t, tt, labels, guidance)
        mean, log_var = self.q_posterior(x0, x_t, tt)
        if t == 0:
            return mean, x0
        z = torch.randn(x_t.shape, generator=generator, device=x_t.device)
        return mean + (0.5 * log_var).exp() * z, x0

    @torch.no_grad()
    def ddim_step(self, x_t, t: int, t_prev: int, labels, guidance=1.0, eta=0.0, generator=None):
        """One DDIM step x_t → x_{t_prev} (Song et al. 2021, eq. 12); η = 0 is deterministic."""
        tt = torch.full((x_t.shape[0],), t, device=x_t.device, dtype=torch.long)
        eps, x0 = self.model_predictions(x_t, tt, labels, guidance)
        a_t = self.alphas_cumprod[t]
        a_prev = self.alphas_cumprod[t_prev] if t_prev >= 0 else torch.ones((), device=x_t.device)
        sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).sqrt()
        x_prev = a_prev.sqrt() * x0 + (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps
        if eta > 0 and t_prev >= 0:
            x_prev = x_prev + sigma * torch.randn(x_t.shape, generator=generator, device=x_t.device)
        return x_prev, x0

    @torch.no_grad()
    def dpm_solver_step(self, x_t, t: int, t_prev: int, labels, previous=None, guidance=1.0, eta=0.0,
                        generator=None):
        """One DPM-Solver++(2M) step x_t → x_{t_prev} (:func:`dpm_solver_update`), one network call.

        previous: what the step before returned as its second value (None at the first step);
        returns (x_{t_prev}, (x̂_0, ᾱ_t)) — the pair to hand to the next step."""
        tt = torch.full((x_t.shape[0],), t, device=x_t.device, dtype=torch.long)
        _, x0 = self.model_predictions(x_t, tt, labels, guidance)
        alpha_bar = float(self.alphas_cumprod[t])
        alpha_bar_next = float(self.alphas_cumprod[t_prev]) if t_prev >= 0 else 1.0
        noise = None
        if eta > 0 and t_prev >= 0:
            noise = torch.randn(x_t.shape, generator=generator, device=x_t.device)
        x_prev = dpm_solver_update(x_t, x0, alpha_bar, alpha_bar_next, previous, eta, noise)
        return x_prev, (x0, alpha_bar)

    def sampling_times(self, steps: int, start: int | None = None, spacing: str = "uniform") -> list[int]:
        """The reverse chain's time steps, ``steps`` integers from ``start`` (default T − 1)
        down to 0 (fewer when rounding merges two; all of them when steps = start + 1, as
        ancestral sampling takes them).

        spacing: "uniform" (DDIM's, Song et al. 2021) or "quadratic" (t ∝ i², their CIFAR
        choice), which spends the steps where the noise is low. A second-order solver needs
        the quadratic one: under the cosine schedule, t = 0–50 spans as much half log-SNR
        (2.7) as t = 50–450, so the last of 20 uniform steps is 4× longer in λ than the one
        before, and the solver's extrapolation x̂_0 + (x̂_0 − x̂_0,before)/(2r) overshoots
        (``tests/test_ddpm.py`` measures both spacings on Gaussian data)."""
        start = self.config.timesteps - 1 if start is None else start
        if spacing == "uniform":
            grid = np.linspace(0, start, steps)
        elif spacing == "quadratic":
            grid = np.linspace(0, math.sqrt(start), steps) ** 2
        else:
            raise ValueError(f"spacing must be 'uniform' or 'quadratic', got {spacing!r}")
        return np.unique(grid.round().astype(int))[::-1].tolist()

    @torch.no_grad()
    def reverse_chain(self, x, times, labels, method: str = "ddim", guidance=1.0, eta=0.0, generator=None):
        """The reverse chain from x = x_{times[0]} (B, C, H, W), network units: yields
        (t_next, x_{t_next}) after every step, the clean end (t_next = −1) last.

        times: decreasing integers, e.g. :meth:`sampling_times` (consecutive for "ddpm");
        method: "ddpm" (ancestral), "ddim" or "dpm++" (see :meth:`sample`); one network call
        a step (two with guidance w ≠ 1). Every sampler and analysis of a chain runs this."""
        previous = None  # DPM-Solver++: (x̂_0, ᾱ) of the step before
        for i, t in enumerate(times):
            t_next = times[i + 1] if i + 1 < len(times) else -1
            if method == "ddpm":
                x, _ = self.p_sample(x, t, labels, guidance, generator)
            elif method == "ddim":
                x, _ = self.ddim_step(x, t, t_next, labels, guidance, eta, generator)
            else:
                x, previous = self.dpm_solver_step(x, t, t_next, labels, previous, guidance, eta, generator)
            yield t_next, x

    def sampling_defaults(self, label) -> dict:
        """{"guidance": w, "eta": η} that :meth:`sample` uses for class ``label`` (index or
        name) when none are given: the checkpoint's tuned choice, else w = 1, η = 0."""
        name = self.config.classes[int(self.labels(label, 1)[0])]
        return {"guidance": 1.0, "eta": 0.0} | self.sampling.get(name, {})

    def labels(self, label, n: int) -> torch.Tensor:
        """The class ``label`` (index into ``config.classes`` or its name) as the (n,) long
        tensor the network reads, on the model's device; a named error for anything else."""
        if isinstance(label, str):
            if label not in self.config.classes:
                raise ValueError(f"label must be one of {list(self.config.classes)} or an index, got {label!r}")
            label = self.config.classes.index(label)
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < len(self.config.classes):
            raise ValueError(f"label must be an int in [0, {len(self.config.classes) - 1}] or a class name, got {label!r}")
        return torch.full((n,), int(label), dtype=torch.long, device=self.betas.device)

    @torch.no_grad()
    def sample(self, n: int = 1, label=0, size: int | None = None, steps: int = 100, seed: int | None = 0,
               method: str = "ddim", guidance: float | None = None, eta: float | None = None, frames: int = 0):
        """Generate n patterns of class ``label``; numpy float32 (n, 2, size, size), physical (u, v).

        n ≥ 1; label: index into ``config.classes`` or its name; size: grid side (default
        the training size), any multiple of the U-Net's down-sampling factor; steps:
        reverse steps — for ``method="ddim"`` or ``"dpm++"`` (DPM-Solver++(2M), second order)
        any 1 ≤ steps ≤ T (evenly spaced, deterministic for a seed when eta = 0), for
        ``method="ddpm"`` it must equal T (ancestral, all steps); seed: int for reproducible
        noise (None: torch's global generator).
        guidance: classifier-free guidance weight w (1: none; any other w costs two network
        evaluations per step); eta: noise η of DDIM or DPM-Solver++ (0: deterministic, the
        probability-flow ODE; 1: as random as ancestral sampling, the reverse SDE). Left as
        None, both take the class's default from :attr:`sampling` (w = 1, η = 0 when it has none).
        frames > 0 also returns ``frames`` snapshots of the chain (x_t in physical units,
        noise to pattern) as a second array (frames, n, 2, size, size).
        """
        cfg = self.config
        size = cfg.size if size is None else size
        factor = cfg.unet.factor
        n = check_count("n", n, 1)
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < factor or size % factor:
            raise ValueError(f"size must be a positive multiple of {factor}, got {size!r}")
        if method not in SAMPLERS:
            raise ValueError(f"method must be one of {list(SAMPLERS)}, got {method!r}")
        steps = check_integer_in("steps", steps, 1, cfg.timesteps)
        if method == "ddpm" and steps != cfg.timesteps:
            raise ValueError(f"ancestral DDPM sampling runs all steps: steps must be {cfg.timesteps}, got {steps}")
        labels = self.labels(label, n)
        default = self.sampling_defaults(label)
        guidance = default["guidance"] if guidance is None else guidance
        eta = default["eta"] if eta is None else eta
        if not eta >= 0:
            raise ValueError(f"eta must be >= 0, got {eta!r}")
        if not guidance >= 0:
            raise ValueError(f"guidance must be >= 0, got {guidance!r}")
        device = self.betas.device
        generator = None
        if seed is not None:
            generator = torch.Generator(device=device).manual_seed(int(seed))
        x = torch.randn((n, cfg.unet.channels, size, size), generator=generator, device=device)  # x_T
        times = self.sampling_times(steps, spacing="quadratic" if method == "dpm++" else "uniform")
        keep = set(np.linspace(0, len(times), frames).round().astype(int).tolist()) if frames else set()
        snapshots = [x] if 0 in keep else []
        chain = self.reverse_chain(x, times, labels, method, guidance, eta, generator)
        for i, (_, x) in enumerate(chain, start=1):
            if i in keep:
                snapshots.append(x)
        out = self.unnormalize(x.clamp(-1, 1)).float().cpu().numpy()
        if frames:
            return out, self.unnormalize(torch.stack(snapshots)).float().cpu().numpy()
        return out


    @torch.no_grad()
    def denoise_from(self, x, label, t_start: int, steps: int | None = None, seed: int | None = 0,
                     guidance: float | None = None, eta: float | None = None) -> np.ndarray:
        """Noise fields to level ``t_start`` and denoise them back (SDEdit, Meng et al. 2022).

        x: physical (u, v) fields, numpy or torch (B, 2, H, W); label: class index or name;
        t_start: the noise level, 0 ≤ t_start < T — x is drawn from q(x_t | x) (eq. 4), then
        DDIM runs ``steps`` evenly spaced steps from t_start down to 0 (default: as many as the
        100-step schedule spends on that range, at least 1). The DDPM's own relaxation: a
        field is pulled toward the patterns the model has learned, more strongly the higher
        t_start. guidance, eta: as in :meth:`sample` (class defaults when None). Returns numpy
        float32 (B, 2, H, W), physical units.
        """
        cfg = self.config
        t_start = check_integer_in("t_start", t_start, 0, cfg.timesteps - 1)
        x = torch.as_tensor(np.asarray(x, dtype=np.float32) if not isinstance(x, torch.Tensor) else x,
                            dtype=torch.float32, device=self.betas.device)
        if x.ndim != 4 or x.shape[1] != cfg.unet.channels:
            raise ValueError(f"x must have shape (B, {cfg.unet.channels}, H, W), got {tuple(x.shape)}")
        steps = max(1, round(100 * t_start / cfg.timesteps)) if steps is None else steps
        steps = check_integer_in("steps", steps, 1, t_start + 1)
        labels = self.labels(label, x.shape[0])
        default = self.sampling_defaults(label)
        guidance = default["guidance"] if guidance is None else guidance
        eta = default["eta"] if eta is None else eta
        generator = torch.Generator(device=x.device).manual_seed(int(seed)) if seed is not None else None
        x0 = self.normalize(x).clamp(-1, 1)
        noise = torch.randn(x0.shape, generator=generator, device=x.device)
        x_t = self.q_sample(x0, torch.full((x0.shape[0],), t_start, dtype=torch.long, device=x.device), noise)
        chain = self.reverse_chain(x_t, self.sampling_times(steps, t_start), labels, "ddim", guidance, eta, generator)
        for _, x_t in chain:
            pass
        return self.unnormalize(x_t.clamp(-1, 1)).float().cpu().numpy()


class EMA:
    """Exponential moving average of a model's weights: θ̄ ← d θ̄ + (1 − d) θ.

    The averaged copy samples better than the raw weights (Ho et al. 2020 use d = 0.9999
    over 800k steps); with a few thousand CPU steps a shorter memory is needed, and the
    effective decay min(d, (1 + s)/(10 + s)) warms up over the first steps s.
    """

    def __init__(self, model: nn.Module, decay: float = 0.995):
        if not 0 <= decay < 1:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.steps = 0
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module):
        self.steps += 1
        d = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for ema_p, p in zip(self.model.parameters(), model.parameters()):
            ema_p.lerp_(p.detach(), 1 - d)

    def state_dict(self):
        return {"decay": self.decay, "steps": self.steps, "model": self.model.state_dict()}

    def load_state_dict(self, state):
        self.decay, self.steps = float(state["decay"]), int(state["steps"])
        self.model.load_state_dict(state["model"])


def from_checkpoint(payload: dict) -> DDPM:
    """The EMA model of a loaded ``ddpm`` checkpoint payload, in eval mode, with the
    checkpoint's per-class sampling defaults (for load_pretrained)."""
    from ..checkpoints import CheckpointError

    if payload.get("kind") != CHECKPOINT_KIND:
        raise CheckpointError(f"not a {CHECKPOINT_KIND!r} checkpoint (kind {payload.get('kind')!r})")
    model = DDPM(DiffusionConfig.from_dict(payload["config"]))
    weights = payload["ema"]["model"] if payload.get("ema") else payload["model"]
    model.load_state_dict(weights)
    model.set_sampling(payload.get("sampling", {}))
    return model.eval()
