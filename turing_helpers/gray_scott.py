"""The Gray-Scott model and its linear theory (numpy only; no solver, no torch).

    ∂u/∂t = D_u ∇²u − u v² + F (1 − u)
    ∂v/∂t = D_v ∇²v + u v² − (F + k) v

u is the substrate (fed at rate F, diffuses faster), v the autocatalyst (removed at
rate F + k). Units follow Pearson (1993) and The Well: D in length²/time, F and k in
1/time, u and v dimensionless concentrations.

Linear theory: a small perturbation ∝ exp(i q·x + λt) of a homogeneous steady state
(u*, v*) grows with the eigenvalues λ(q) of J − q² D, where J is the reaction Jacobian
and D = diag(D_u, D_v). A Turing instability is a band of q with Re λ(q) > 0 while the
state is stable to uniform perturbations (Re λ(0) < 0) [Turing 1952].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["GrayScott", "linear_stability_map", "LINEAR_CLASSES", "reaction_terms", "rhs_terms"]


# -- the right-hand side, written once ------------------------------------------------
# Every time stepper and every residual goes through these two functions (the Euler step
# of every backend but the compiled twin in numba_kernels, ETDRK4's nonlinear part,
# metrics.pde_residual), so the equations are written in one place. The parameters may be
# scalars or arrays broadcasting against u (a batch of models), numpy or torch.
def reaction_terms(u, v, F, k):
    """Reaction terms (f_u, f_v) = (−u v² + F(1 − u), u v² − (F + k) v), 1/time; u's shape."""
    uvv = u * v * v
    return -uvv + F * (1.0 - u), uvv - (F + k) * v


def rhs_terms(u, v, F, k, Du, Dv, dx, stencil="5-point"):
    """(∂u/∂t, ∂v/∂t) = (D_u ∇²u + f_u, D_v ∇²v + f_v) on a periodic grid of spacing dx.

    u, v: (..., N, N) numpy arrays or torch tensors; ∇² the periodic ``stencil`` of
    :mod:`turing_helpers.stencils`. Returns two arrays of u's shape, 1/time.
    """
    from .stencils import laplacian

    fu, fv = reaction_terms(u, v, F, k)
    return Du * laplacian(u, dx, stencil) + fu, Dv * laplacian(v, dx, stencil) + fv


def _check_parameter(name: str, value: float) -> float:
    if isinstance(value, (bool, np.bool_)):  # float(True) would be 1.0
        raise ValueError(f"{name} must be a real number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return value


def _check_state(u, v) -> tuple[float, float]:
    """A homogeneous state (u, v) of finite real scalars, or ValueError naming the bad one."""
    values = []
    for name, value in (("u", u), ("v", v)):
        if isinstance(value, (bool, np.bool_)) or np.iscomplexobj(value) or np.ndim(value) != 0:
            raise ValueError(f"{name} must be a finite real number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite real number, got {value!r}")
        values.append(value)
    return values[0], values[1]


@dataclass(frozen=True)
class GrayScott:
    """Gray-Scott parameters: feed rate F, kill rate k (1/time), diffusivities (length²/time).

    Raises ValueError for negative or non-finite parameters, naming the parameter.
    """

    F: float
    k: float
    Du: float = 2e-5
    Dv: float = 1e-5

    def __post_init__(self):
        for name in ("F", "k", "Du", "Dv"):
            object.__setattr__(self, name, _check_parameter(name, getattr(self, name)))

    # -- the equations ---------------------------------------------------------------
    def reaction(self, u, v):
        """Reaction terms (f_u, f_v) = (−u v² + F(1 − u), u v² − (F + k) v), same shape as u."""
        return reaction_terms(u, v, self.F, self.k)

    def rhs(self, u, v, dx, stencil="5-point"):
        """The right-hand side (∂u/∂t, ∂v/∂t) of the equations on a periodic grid.

        u, v: (..., N, N) numpy arrays or torch tensors (dimensionless concentrations);
        dx: grid spacing (length); stencil: ``"5-point"`` or ``"9-point"``. Returns a pair
        of arrays of u's shape, 1/time. Zero at every homogeneous steady state.
        """
        return rhs_terms(u, v, self.F, self.k, self.Du, self.Dv, dx, stencil)

    # -- homogeneous steady states ---------------------------------------------------
    def steady_states(self) -> list[tuple[float, float]]:
        """Homogeneous steady states [(1, 0), (u₊, v₊), (u₋, v₋)].

        The trivial state (1, 0) always exists. Two more exist iff F ≥ 4 (F + k)²
        (below the saddle-node line k = √F/2 − F):
        u± = [1 ± √(1 − 4(F + k)²/F)] / 2,  v± = (F + k) / u±.
        (u₊, v₊) has little autocatalyst and is a saddle; (u₋, v₋) is the v-rich state
        that patterns grow from. At the saddle-node line the two coincide and one is
        returned.
        """
        states = [(1.0, 0.0)]
        if self.F == 0:
            return states
        discriminant = 1.0 - 4.0 * (self.F + self.k) ** 2 / self.F
        if discriminant < 0:
            return states
        root = math.sqrt(discriminant)
        for u in sorted({(1.0 + root) / 2.0, (1.0 - root) / 2.0}, reverse=True):
            states.append((u, (self.F + self.k) / u))
        return states

    def jacobian(self, u: float, v: float) -> np.ndarray:
        """Reaction Jacobian ∂(f_u, f_v)/∂(u, v) at (u, v), shape (2, 2), units 1/time.

        u, v: finite real concentrations (scalars); anything else is a ValueError.
        """
        u, v = _check_state(u, v)
        return np.array(
            [[-v * v - self.F, -2.0 * u * v], [v * v, 2.0 * u * v - (self.F + self.k)]]
        )

    def dispersion(self, q, state) -> np.ndarray:
        """Growth rates λ(q): eigenvalues of J − q² D at ``state`` = (u, v).

        q: wavenumbers in radians per length unit, shape (n,) (or a scalar).
        Returns complex array, shape (n, 2), each row sorted by real part, largest first.
        """
        q = np.atleast_1d(np.asarray(q, dtype=float))
        J = self.jacobian(*state)
        D = np.diag([self.Du, self.Dv])
        matrices = J[None, :, :] - (q**2)[:, None, None] * D[None, :, :]  # (n, 2, 2)
        eig = np.linalg.eigvals(matrices).astype(complex)  # (n, 2)
        order = np.argsort(-eig.real, axis=1)
        return np.take_along_axis(eig, order, axis=1)

    def turing_band(self, state) -> tuple[float, float] | None:
        """Unstable wavenumber interval (q_min, q_max) of ``state``, radians per length.

        None unless the state is stable to uniform perturbations (tr J < 0 < det J)
        and some finite q makes det(J − q² D) < 0. The band edges are the positive
        roots of det(J − q² D) = D_u D_v q⁴ − (D_v J₁₁ + D_u J₂₂) q² + det J = 0.
        """
        J = self.jacobian(*state)
        trace, det = np.trace(J), np.linalg.det(J)
        if not (trace < 0 < det):
            return None
        a = self.Du * self.Dv
        b = -(self.Dv * J[0, 0] + self.Du * J[1, 1])
        disc = b * b - 4.0 * a * det
        if a == 0 or disc <= 0 or b >= 0:
            return None
        q2_low = (-b - math.sqrt(disc)) / (2.0 * a)
        q2_high = (-b + math.sqrt(disc)) / (2.0 * a)
        return math.sqrt(q2_low), math.sqrt(q2_high)

    def fastest_growing_wavenumber(self, state) -> float | None:
        """Wavenumber q* of the largest Re λ inside the Turing band (None without a band)."""
        band = self.turing_band(state)
        if band is None:
            return None
        q = np.linspace(band[0], band[1], 2001)
        return float(q[np.argmax(self.dispersion(q, state)[:, 0].real)])

    # -- bifurcation lines in the (F, k) plane ---------------------------------------
    @staticmethod
    def saddle_node_k(F):
        """Saddle-node line k(F) = √F/2 − F: non-trivial states exist for k ≤ this."""
        F = np.asarray(F, dtype=float)
        return np.sqrt(F) / 2.0 - F

    @staticmethod
    def saddle_node_F(k):
        """The saddle-node line as F(k): both branches (F_low, F_high), NaN for k > 1/16.

        From √F/2 − F = k with s = √F: s = [1/2 ± √(1/4 − 4k)]/2, F = s².
        """
        k = np.asarray(k, dtype=float)
        with np.errstate(invalid="ignore"):
            root = np.sqrt(0.25 - 4.0 * k)
        return ((0.5 - root) / 2.0) ** 2, ((0.5 + root) / 2.0) ** 2

    @staticmethod
    def hopf_F(k):
        """Hopf line of the v-rich state as F(k): branches (F_low, F_high) [Pearson 1993].

        tr J = k − v² vanishes where v = √k; with the steady-state relations this is
        (F + k)² = F √k, i.e. F = [√k − 2k ± √(k − 4k^{3/2})]/2. Points where the state
        is not a Hopf point (det J ≤ 0) are NaN.
        """
        k = np.asarray(k, dtype=float)
        with np.errstate(invalid="ignore"):
            root = np.sqrt(k - 4.0 * k**1.5)
            branches = [(np.sqrt(k) - 2.0 * k + sign * root) / 2.0 for sign in (-1.0, 1.0)]
            out = []
            for F in branches:
                v = np.sqrt(k)
                u = (F + k) / v
                det = (-v * v - F) * (2 * u * v - (F + k)) + 2 * u * v * v * v
                out.append(np.where((det > 0) & (F > 0), F, np.nan))
        return out[0], out[1]


# Codes of linear_stability_map, in the order a reader meets them in chapter 1.
LINEAR_CLASSES = {
    0: "only (1, 0): no non-trivial state",
    1: "v-rich state stable",
    2: "v-rich state oscillatory-unstable (beyond Hopf)",
    3: "v-rich state Turing-unstable",
}


def linear_stability_map(F, k, Du: float = 2e-5, Dv: float = 1e-5) -> np.ndarray:
    """Classify each (F, k) by the linear stability of its v-rich steady state (u₋, v₋).

    F, k: arrays broadcast together (e.g. from np.meshgrid), 1/time.
    Returns int array of the broadcast shape with codes from ``LINEAR_CLASSES``.
    """
    F, k = np.broadcast_arrays(np.asarray(F, float), np.asarray(k, float))
    codes = np.zeros(F.shape, dtype=int)
    for index in np.ndindex(F.shape):
        model = GrayScott(F[index], k[index], Du, Dv)
        states = model.steady_states()
        if len(states) < 2:
            continue
        state = states[-1]
        J = model.jacobian(*state)
        if np.trace(J) >= 0 or np.linalg.det(J) <= 0:
            codes[index] = 2
        elif model.turing_band(state) is not None:
            codes[index] = 3
        else:
            codes[index] = 1
    return codes
