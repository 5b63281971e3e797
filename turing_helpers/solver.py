"""Time stepping for Gray-Scott on a periodic grid: explicit Euler and ETDRK4.

One entry point, :func:`simulate`, three backends that give the same answer to
round-off:

- ``"numpy"``: the readable reference. One Euler step is the equations written out with
  :func:`turing_helpers.stencils.laplacian`.
- ``"numba"``: the same update compiled, with the time loop inside compiled code
  (:mod:`turing_helpers.numba_kernels`); the one to use on a CPU.
- ``"torch"``: the numpy code run on torch tensors, so it batches over a leading axis
  (a batch of initial conditions and a batch of parameters) and runs on a GPU.

Methods:

- ``"euler"``: u ← u + dt (D ∇²u + f(u, v)) with a finite-difference Laplacian.
  Explicit, so dt must stay below :func:`stability_limit`.
- ``"etdrk4"``: exponential time differencing RK4 (Cox & Matthews 2002) in Fourier
  space, with the contour-integral coefficients of Kassam & Trefethen (2005). The
  stiff linear part L = −D q² − (decay) is integrated exactly, so dt is limited by
  the reaction only, and space is resolved spectrally.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from ._checks import check_count, check_positive
from .backend import is_torch, namespace, to_numpy
from .gray_scott import GrayScott, reaction_terms, rhs_terms
from .stencils import check_stencil, spectral_radius

__all__ = ["simulate", "stability_limit", "checkerboard_amplitude", "SimulationDiverged", "METHODS",
           "BACKENDS"]

METHODS = ("euler", "etdrk4")
BACKENDS = ("numpy", "numba", "torch")

# How many steps run between finiteness checks when no frames are saved. Large enough
# that the check costs nothing, small enough that a blow-up is caught promptly.
CHECK_EVERY = 500

# The run-time guard against grid-scale growth. The checkerboard component of a field,
# |mean(f (−1)^(i+j))|, stays below 1e-6 in the developed patterns we measured (all of
# Pearson's classes from his start at 128²: at most 2e-7; tests/test_solver.py checks six
# patterns) and decays for a stable step; an unstable one grows it exponentially to O(0.1).
# It is checked every CHECK_EVERY steps (every save_every with frames). The guard stops a run
# once the component exceeds NYQUIST_AMPLITUDE and has grown NYQUIST_GROWTH-fold since
# its smallest value in the run, so start-up noise that diffusion is removing never trips it.
NYQUIST_AMPLITUDE = 1e-2
NYQUIST_GROWTH = 4.0


class SimulationDiverged(FloatingPointError):
    """A field became non-finite, or grew a grid-scale oscillation, during :func:`simulate`;
    the message says when (and where, or the stable time step)."""


def stability_limit(model: GrayScott | Sequence[GrayScott], dx: float,
                    stencil: str = "5-point", states=None) -> float:
    """Largest explicit-Euler time step at which no grid-scale mode grows, model time units.

    Von Neumann analysis of the scheme linearised about a homogeneous state (u, v): a
    Fourier mode whose Laplacian eigenvalue is −ρ is multiplied each step by

        G(ρ) = I + dt (J(u, v) − ρ D),   D = diag(D_u, D_v),

    J the reaction Jacobian (:meth:`GrayScott.jacobian`). On a grid that resolves the
    patterns, diffusion makes the PDE damp every mode of the grid-scale half of the
    spectrum, ρ_max/2 ≤ ρ ≤ ρ_max (ρ_max = 8/dx² for the 5-point stencil, the
    checkerboard; 16/(3 dx²) for the 9-point one), so the scheme must not amplify them:
    the spectral radius of G(ρ) is ≤ 1, which for each eigenvalue μ of J − ρD with
    Re μ < 0 reads dt ≤ −2 Re μ / |μ|² (2/|μ| for real μ). An eigenvalue with Re μ ≥ 0
    there (a grid too coarse for the PDE: the continuum itself grows that mode) sets no
    limit and is left out.

    The reaction matters: in a v-rich state the substrate is consumed at rate v² + F,
    which adds to its diffusive decay (the bound without J, 2/(D_max ρ_max + F + k),
    lets a checkerboard grow on Pearson's grid at (F, k) = (0.09, 0.035) with dt = 1).
    Long waves are left to the physics: their growth is the Turing or Hopf instability,
    and how accurately explicit Euler follows it is a question of accuracy, not of this
    limit.

    states: the (u, v) pairs to linearise about; default every homogeneous steady state
    of each model (:meth:`GrayScott.steady_states`). :func:`simulate` also watches the
    running field for grid-scale growth and names the limit at the field's own state.
    Returns the smallest limit over models and states (inf if none constrains dt).
    """
    models = _as_model_list(model)
    rho_max = spectral_radius(check_positive("dx", dx), stencil)
    rhos = np.linspace(rho_max / 2, rho_max, 9)
    limit = np.inf
    for m in models:
        for u, v in (m.steady_states() if states is None else states):
            J = m.jacobian(u, v)
            mu = np.linalg.eigvals(J[None] - rhos[:, None, None] * np.diag([m.Du, m.Dv])[None])
            damped = mu[mu.real < 0]
            if damped.size:
                limit = min(limit, float(np.min(-2.0 * damped.real / np.abs(damped) ** 2)))
    return limit


def _field_stability_limit(model: GrayScott | Sequence[GrayScott], u, v, dx: float,
                          stencil: str = "5-point") -> float:
    """:func:`stability_limit` about a running field's own state, model time units.

    The frozen-coefficient version: each batch member's grid-scale modes are linearised
    about its cell of largest v (where the substrate is consumed fastest, so its
    grid-scale decay, and the constraint on dt, is strongest) as well as about the
    model's homogeneous states. u, v: (..., Ny, Nx), with a leading batch axis of
    length B when ``model`` is a sequence of B models.
    """
    models = _as_model_list(model)
    u, v = (to_numpy(a).reshape(-1, *np.shape(a)[-2:]) for a in (u, v))
    if len(models) == 1:
        models = models * u.shape[0]
    limits = []
    for m, uu, vv in zip(models, u, v):
        peak = np.unravel_index(np.argmax(vv), vv.shape)
        limits.append(stability_limit(m, dx, stencil, states=m.steady_states() + [(uu[peak], vv[peak])]))
    return min(limits)


def simulate(model, u, v, *, steps: int, dt: float, dx: float, method: str = "euler",
             backend: str = "numpy", stencil: str = "5-point", save_every: int | None = None,
             device=None, progress: bool = False):
    """Advance Gray-Scott fields on a periodic grid.

    Parameters
    ----------
    model : GrayScott, or a sequence of B of them (one per batch member; then u and v
        must have shape (B, Ny, Nx)).
    u, v : arrays of shape (..., Ny, Nx): concentrations (dimensionless). numpy arrays,
        or torch tensors for ``backend="torch"``. Not modified.
    steps : number of time steps (≥ 0).
    dt : time step, model time units. For ``"euler"`` at most :func:`stability_limit`.
    dx : grid spacing, model length units (domain side = N dx).
    method : ``"euler"`` or ``"etdrk4"``.
    backend : ``"numpy"``, ``"numba"`` or ``"torch"``. For ETDRK4 the numba backend
        uses numpy's FFT (numba has none; the step is FFT-bound anyway).
    stencil : Laplacian for ``"euler"``: ``"5-point"`` or isotropic ``"9-point"``.
        ETDRK4 is spectral and ignores it.
    save_every : None to return only the final state; otherwise keep a frame every
        ``save_every`` steps, the initial state included.
    device : torch device for ``backend="torch"`` (default: the input's, else CPU).
    progress : show a tqdm progress bar.

    Returns
    -------
    (u, v) of the input's shape and type, or with ``save_every`` frames of shape
    (..., T, Ny, Nx) with T = steps // save_every + 1 (time axis just before the grid).

    Raises
    ------
    ValueError : bad arguments, including an explicit dt above the stability limit.
    SimulationDiverged : a field became non-finite (the message gives step and cell), or a
        grid-scale checkerboard grew (the message gives step, time and the stable dt at
        the field's own state).
    """
    models = _as_model_list(model)
    steps = check_count("steps", steps, minimum=0)
    dt, dx = check_positive("dt", dt), check_positive("dx", dx)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    check_stencil(stencil)
    if save_every is not None:
        save_every = check_count("save_every", save_every, minimum=1)
    if method == "euler":
        _check_time_step(models, dt, dx, stencil)

    is_torch_input = is_torch(u)
    for name, field in (("u", u), ("v", v)):
        complex_field = field.is_complex() if hasattr(field, "is_complex") else np.iscomplexobj(field)
        if complex_field:
            raise ValueError(f"{name} must be real (concentrations); got a complex array, whose imaginary "
                             f"part would be dropped")
    if is_torch_input and backend != "torch":
        raise ValueError(f"u is a torch tensor; use backend='torch' (got backend={backend!r})")
    state = _to_backend(u, v, backend, device)
    _check_fields(state[0], state[1], models)
    params = _parameters(models, state[0], backend)

    stepper = _make_stepper(method, backend, params, dt, dx, stencil, state[0])
    chunk = save_every or CHECK_EVERY
    smallest_checkerboard = checkerboard_amplitude(*state)
    frames = [_copy(state)] if save_every else None
    bar = _progress_bar(steps, progress)
    done = 0
    # Overflow is caught below and reported with its step and cell; numpy's warnings
    # would only repeat it less precisely.
    with np.errstate(over="ignore", invalid="ignore"):
        while done < steps:
            n = min(chunk, steps - done)
            start = _copy(state)
            state = stepper(state, n)
            if not _all_finite(state):
                bar.close()
                _raise_divergence(stepper, start, done, n, dt)
            done += n
            amplitude = checkerboard_amplitude(*state)
            if amplitude > max(NYQUIST_AMPLITUDE, NYQUIST_GROWTH * smallest_checkerboard):
                bar.close()
                _raise_grid_scale_growth(models, state, done, dt, dx, method, stencil, amplitude)
            smallest_checkerboard = min(smallest_checkerboard, amplitude)
            bar.update(n)
            if save_every and done % save_every == 0:
                frames.append(_copy(state))
    bar.close()

    if save_every:
        stack = _stack(frames)
        return _from_backend(stack[0], is_torch_input, u), _from_backend(stack[1], is_torch_input, u)
    return _from_backend(state[0], is_torch_input, u), _from_backend(state[1], is_torch_input, u)


# -- explicit Euler ------------------------------------------------------------------
def euler_step(u, v, params, dt: float, dx: float, stencil: str = "5-point"):
    """One explicit Euler step; numpy arrays or torch tensors of shape (..., Ny, Nx).

    params: dict with F, k, Du, Dv, each a scalar or an array broadcasting against u.
    """
    du, dv = rhs_terms(u, v, params["F"], params["k"], params["Du"], params["Dv"], dx, stencil)
    return u + dt * du, v + dt * dv


# -- ETDRK4 --------------------------------------------------------------------------
def etdrk4_coefficients(L: np.ndarray, dt: float, contour_points: int = 32):
    """ETDRK4 coefficients for a diagonal linear operator L (Kassam & Trefethen 2005).

    L: Fourier symbol of the linear part, any shape, 1/time. Returns float64 arrays
    (E, E2, Q, f1, f2, f3) of L's shape: E = e^{L dt}, E2 = e^{L dt/2}, and the
    φ-function combinations evaluated as means over a circle of radius 1 around each
    L dt in the complex plane, which avoids the cancellation of the direct formulas
    for small |L dt|.
    """
    L = np.asarray(L, dtype=np.float64)
    r = np.exp(1j * np.pi * (np.arange(1, contour_points + 1) - 0.5) / contour_points)
    LR = dt * L[..., None] + r  # (..., M)
    Q = dt * np.real(np.mean((np.exp(LR / 2) - 1) / LR, axis=-1))
    f1 = dt * np.real(np.mean((-4 - LR + np.exp(LR) * (4 - 3 * LR + LR**2)) / LR**3, axis=-1))
    f2 = dt * np.real(np.mean((2 + LR + np.exp(LR) * (LR - 2)) / LR**3, axis=-1))
    f3 = dt * np.real(np.mean((-4 - 3 * LR - LR**2 + np.exp(LR) * (4 - LR)) / LR**3, axis=-1))
    return np.exp(dt * L), np.exp(dt * L / 2), Q, f1, f2, f3


class _ETDRK4:
    """ETDRK4 for (u, v) with L_u = −D_u q² − F, L_v = −D_v q² − (F + k) and
    nonlinear parts N_u = F − u v², N_v = u v². Works with numpy or torch FFTs."""

    def __init__(self, params, dt, dx, shape, xp, to_array):
        ny, nx = shape
        qy = 2 * np.pi * np.fft.fftfreq(ny, d=dx)[:, None]
        qx = 2 * np.pi * np.fft.rfftfreq(nx, d=dx)[None, :]
        q2 = qy**2 + qx**2  # (ny, nx//2+1)
        F, k = (np.asarray(params["F"], float), np.asarray(params["k"], float))
        Du, Dv = (np.asarray(params["Du"], float), np.asarray(params["Dv"], float))
        self.coef_u = [to_array(c) for c in etdrk4_coefficients(-Du * q2 - F, dt)]
        self.coef_v = [to_array(c) for c in etdrk4_coefficients(-Dv * q2 - (F + k), dt)]
        self.F, self.k = to_array(F), to_array(k)
        self.xp, self.shape = xp, shape

    def nonlinear(self, u_hat, v_hat):
        fft = self.xp.fft
        u, v = fft.irfft2(u_hat, self.shape), fft.irfft2(v_hat, self.shape)
        # N = f(u, v) − (the linear decay already in L): F − u v² and u v²
        fu, fv = reaction_terms(u, v, self.F, self.k)
        return fft.rfft2(fu + self.F * u), fft.rfft2(fv + (self.F + self.k) * v)

    def step(self, u_hat, v_hat):
        (E, E2, Q, f1, f2, f3), (Ev, E2v, Qv, f1v, f2v, f3v) = self.coef_u, self.coef_v
        Nu, Nv = self.nonlinear(u_hat, v_hat)
        au, av = E2 * u_hat + Q * Nu, E2v * v_hat + Qv * Nv
        Nau, Nav = self.nonlinear(au, av)
        bu, bv = E2 * u_hat + Q * Nau, E2v * v_hat + Qv * Nav
        Nbu, Nbv = self.nonlinear(bu, bv)
        cu, cv = E2 * au + Q * (2 * Nbu - Nu), E2v * av + Qv * (2 * Nbv - Nv)
        Ncu, Ncv = self.nonlinear(cu, cv)
        u_hat = E * u_hat + Nu * f1 + 2 * (Nau + Nbu) * f2 + Ncu * f3
        v_hat = Ev * v_hat + Nv * f1v + 2 * (Nav + Nbv) * f2v + Ncv * f3v
        return u_hat, v_hat


# -- backend plumbing ----------------------------------------------------------------
def _make_stepper(method, backend, params, dt, dx, stencil, like):
    """Return advance(state, n) -> state for the chosen method and backend."""
    if method == "etdrk4":
        xp = _torch() if backend == "torch" else np
        to_array = (lambda a: _torch().as_tensor(a, dtype=like.dtype, device=like.device)) \
            if backend == "torch" else (lambda a: a)
        host_params = {name: to_numpy(value) for name, value in params.items()}
        scheme = _ETDRK4(host_params, dt, dx, tuple(like.shape[-2:]), xp, to_array)

        def advance(state, n):
            u_hat, v_hat = xp.fft.rfft2(state[0]), xp.fft.rfft2(state[1])
            for _ in range(n):
                u_hat, v_hat = scheme.step(u_hat, v_hat)
            return xp.fft.irfft2(u_hat, scheme.shape), xp.fft.irfft2(v_hat, scheme.shape)
        return advance

    if backend == "numba":
        from .numba_kernels import euler_steps

        shape = like.shape
        batch_size = int(np.prod(shape[:-2], dtype=int))
        batch = {name: np.ascontiguousarray(np.broadcast_to(
            np.asarray(value, float).reshape(-1), (batch_size,))) for name, value in params.items()}

        def advance(state, n):
            # The kernel works in place on (B, Ny, Nx); copies keep the caller's arrays intact.
            u, v = (np.array(a, dtype=np.float64).reshape(batch_size, *shape[-2:]) for a in state)
            euler_steps(u, v, batch["F"], batch["k"], batch["Du"], batch["Dv"], dt, dx, n,
                        stencil == "9-point")
            return u.reshape(shape), v.reshape(shape)
        return advance

    def advance(state, n):
        u, v = state
        for _ in range(n):
            u, v = euler_step(u, v, params, dt, dx, stencil)
        return u, v
    return advance


def _check_time_step(models, dt, dx, stencil):
    limit = stability_limit(models, dx, stencil)
    if dt > limit:
        raise ValueError(
            f"dt = {dt:g} is above the explicit Euler stability limit dt <= {limit:.6g} "
            f"for dx = {dx:g} and the {stencil} Laplacian (the grid-scale modes about the "
            f"homogeneous states); use a smaller dt or method='etdrk4'")


def checkerboard_amplitude(u, v) -> float:
    """Largest checkerboard component |mean(f (−1)^(i+j))| of u and v over a batch.

    u, v: (..., Ny, Nx) numpy arrays or torch tensors. Dimensionless (a concentration);
    the size of the grid-scale oscillation that an unstable explicit step grows.
    """
    sign = _checkerboard(*u.shape[-2:])
    if is_torch(u):
        sign = _torch().tensor(sign, dtype=u.dtype, device=u.device)  # a copy: the cache is read-only
        return max(float((f * sign).mean(dim=(-2, -1)).abs().max()) for f in (u, v))
    return max(float(np.abs((f * sign).mean(axis=(-2, -1))).max()) for f in (u, v))


@lru_cache(maxsize=8)
def _checkerboard(ny: int, nx: int) -> np.ndarray:
    """(−1)^(i+j) less its mean (non-zero on an odd × odd grid, where it would see the
    field's mean as a checkerboard); shape (ny, nx), read-only."""
    sign = np.where((np.arange(ny)[:, None] + np.arange(nx)[None, :]) % 2, -1.0, 1.0)
    sign -= sign.mean()
    sign.flags.writeable = False
    return sign


def _raise_grid_scale_growth(models, state, step, dt, dx, method, stencil, amplitude):
    where = f"growing at step {step} (t = {step * dt:g}): checkerboard amplitude {amplitude:.3g}"
    if method == "euler":
        limit = _field_stability_limit(models, *state, dx, stencil)
        if dt > limit:
            advice = (f"the explicit Euler limit at the field's own state is dt <= {limit:.4g} "
                      f"(dt = {dt:g}, dx = {dx:g}, {stencil}); use a smaller dt or method='etdrk4'")
        else:
            advice = (f"dt = {dt:g} is within the linear limit at the field's own state ({limit:.4g}), "
                      f"so the growth is nonlinear; use a smaller dt or method='etdrk4'")
    else:
        advice = f"dt = {dt:g} is too large for the reaction; use a smaller dt"
    raise SimulationDiverged(f"a grid-scale (Nyquist) oscillation is {where}; the run was stopped: {advice}")


def _raise_divergence(stepper, start, done, n, dt):
    """Replay the failed chunk one step at a time to report the first bad step and cell."""
    state = start
    for i in range(n):
        state = stepper(state, 1)
        if not _all_finite(state):
            break
    step = done + i + 1
    for name, field in zip("uv", state):
        bad = ~_isfinite(field)
        if bad.any():
            where = tuple(int(j) for j in np.argwhere(to_numpy(bad))[0])
            raise SimulationDiverged(
                f"{name} became non-finite at step {step} (t = {step * dt:g}) at index {where}; "
                f"the run was stopped. Reduce dt or check the parameters and initial fields.")
    raise AssertionError("divergence detected but not reproduced on replay")


def _as_model_list(model) -> list[GrayScott]:
    models = [model] if isinstance(model, GrayScott) else list(model) if _is_sequence(model) else None
    if not models or not all(isinstance(m, GrayScott) for m in models):
        raise ValueError(f"model must be a GrayScott or a non-empty sequence of them, got {model!r}")
    return models


def _is_sequence(x) -> bool:
    return isinstance(x, (list, tuple))


def _parameters(models, like, backend):
    """F, k, Du, Dv as scalars (one model) or arrays of shape (B, 1, 1) (a batch)."""
    if len(models) == 1:
        return {name: getattr(models[0], name) for name in ("F", "k", "Du", "Dv")}
    values = {name: np.array([getattr(m, name) for m in models]).reshape(-1, 1, 1)
              for name in ("F", "k", "Du", "Dv")}
    if backend == "torch":
        torch = _torch()
        values = {n: torch.as_tensor(a, dtype=like.dtype, device=like.device) for n, a in values.items()}
    return values


def _check_fields(u, v, models):
    if tuple(u.shape) != tuple(v.shape):
        raise ValueError(f"u and v must have the same shape, got {tuple(u.shape)} and {tuple(v.shape)}")
    if u.ndim < 2 or min(u.shape[-2:]) < 3:
        raise ValueError(f"u and v must have shape (..., Ny, Nx) with Ny, Nx >= 3, got {tuple(u.shape)}")
    if len(models) > 1 and (u.ndim != 3 or u.shape[0] != len(models)):
        raise ValueError(f"a batch of {len(models)} models needs u, v of shape ({len(models)}, Ny, Nx), "
                         f"got {tuple(u.shape)}")
    if not _all_finite((u, v)):
        raise ValueError("u and v must be finite (the initial fields contain NaN or inf)")


def _torch():
    import torch

    return torch


def _to_backend(u, v, backend, device):
    if backend == "torch":
        torch = _torch()
        def convert(a):
            t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a, dtype=np.float64))
            if not t.is_floating_point():
                t = t.double()
            return t.to(device) if device is not None else t
        return convert(u), convert(v)
    return np.array(u, dtype=np.float64), np.array(v, dtype=np.float64)


def _from_backend(a, is_torch_input, like):
    if is_torch_input:
        return a
    return to_numpy(a)


def _copy(state):
    return tuple(a.clone() if hasattr(a, "clone") else a.copy() for a in state)


def _stack(frames):
    """[(u, v), ...] of shape (..., Ny, Nx) -> (U, V) of shape (..., T, Ny, Nx)."""
    us, vs = zip(*frames)
    if is_torch(us[0]):
        torch = _torch()
        return torch.stack(us, dim=-3), torch.stack(vs, dim=-3)
    return np.stack(us, axis=-3), np.stack(vs, axis=-3)


def _isfinite(a):
    return namespace(a).isfinite(a)


def _all_finite(state) -> bool:
    return all(bool(_isfinite(a).all()) for a in state)


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress_bar(total, show):
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", desc="simulate")
