"""Checks of the solver against theory: linear growth rates and convergence orders.

Used by the test-suite and by chapter 2, so the numbers the book shows are the
numbers the tests assert on.
"""
from __future__ import annotations

import numpy as np

from .gray_scott import GrayScott
from .solver import simulate
from .stencils import laplacian_symbol

__all__ = ["theoretical_growth_rate", "measured_growth_rate", "convergence_orders",
           "smooth_test_fields"]


def _effective_q(q: float, dx: float, method: str, stencil: str) -> float:
    """Wavenumber whose continuum −q² equals the scheme's Laplacian eigenvalue for q."""
    if method == "etdrk4":
        return q  # spectral: the Laplacian is exact for every resolved mode
    return float(np.sqrt(-laplacian_symbol(q, 0.0, dx, stencil)))


def theoretical_growth_rate(model: GrayScott, state, mode: int, n: int, dx: float,
                            method: str = "euler", stencil: str = "5-point") -> float:
    """Re λ of the leading eigenvalue for the Fourier mode cos(2π mode x / (n dx)), 1/time.

    For finite differences the Laplacian eigenvalue of the stencil replaces −q²
    (the theory of the discretised equations, which the solver must match).
    """
    q = 2 * np.pi * mode / (n * dx)
    return float(model.dispersion([_effective_q(q, dx, method, stencil)], state)[0, 0].real)


def measured_growth_rate(model: GrayScott, state, mode: int, n: int = 64, dx: float = 0.01,
                         dt: float = 0.25, time: float = 200.0, amplitude: float = 1e-7,
                         method: str = "euler", backend: str = "numpy",
                         stencil: str = "5-point") -> float:
    """Growth rate (1/time) of a small mode cos(q x) on the homogeneous ``state``.

    The perturbation starts along the leading eigenvector of the linearised scheme, so
    there is no transient; the rate is the slope of log |amplitude| between t = 0 and
    ``time``, the amplitude being the projection of v − v* on cos(q x).
    """
    q = 2 * np.pi * mode / (n * dx)
    q_eff = _effective_q(q, dx, method, stencil)
    J = model.jacobian(*state)
    eigenvalues, eigenvectors = np.linalg.eig(J - q_eff**2 * np.diag([model.Du, model.Dv]))
    leading = np.argmax(eigenvalues.real)
    if abs(eigenvalues[leading].imag) > 1e-12 * max(1.0, abs(eigenvalues[leading])):
        raise ValueError(
            f"mode {mode} is oscillatory at this state (λ = {eigenvalues[leading]:.4g}): its amplitude "
            f"rotates between u and v, so a single growth rate is not defined; choose a mode whose "
            f"leading eigenvalue is real (e.g. one inside the Turing band)")
    direction = np.real(eigenvectors[:, leading])
    profile = np.cos(q * dx * np.arange(n))[None, :] * np.ones((n, 1))  # (n, n), varies in x
    u = state[0] + amplitude * direction[0] * profile
    v = state[1] + amplitude * direction[1] * profile
    steps = int(round(time / dt))
    _, v_end = simulate(model, u, v, steps=steps, dt=dt, dx=dx, method=method, backend=backend,
                        stencil=stencil)
    projection_start = np.mean((v - state[1]) * profile)
    projection_end = np.mean((v_end - state[1]) * profile)
    return float(np.log(abs(projection_end / projection_start)) / (steps * dt))


def smooth_test_fields(n: int, length: float = 1.0):
    """Smooth periodic (u, v) on an n × n grid of side ``length``, for convergence studies.

    Grids with n, 2n, 4n, ... points share every coarse point, so errors can be compared
    pointwise. Returns float64 arrays of shape (n, n).
    """
    x = np.arange(n) * (length / n)
    X, Y = np.meshgrid(x, x, indexing="xy")
    phase_x, phase_y = 2 * np.pi * X / length, 2 * np.pi * Y / length
    u = 1.0 - 0.3 * (1 + np.cos(phase_x) * np.cos(2 * phase_y)) / 2
    v = 0.25 * (1 + np.sin(phase_x + 0.3) * np.sin(phase_y)) / 2 + 0.05 * np.cos(3 * phase_x)
    return u, v


def convergence_orders(model: GrayScott, *, vary: str, method: str = "euler",
                       stencil: str = "5-point", backend: str = "numpy", values=None,
                       time: float | None = None, n: int = 32, length: float = 0.25,
                       dt: float = 0.01):
    """Errors and observed orders of the solver under refinement of ``vary`` ∈ {"dt", "dx"}.

    A smooth start (:func:`smooth_test_fields`) on a square of side ``length`` is run to
    ``time`` (default 20 for dt, 5 for dx: long enough for the errors to be well above
    round-off, short enough that the reaction has not yet steepened fronts that a coarse
    grid cannot resolve).

    vary="dt": grid fixed at n; ``values`` are time steps; errors against a run with a
    16× smaller step than the smallest.
    vary="dx": dt fixed; ``values`` are grid sizes; errors at the shared coarse grid
    points against a grid 4× finer than the finest.
    Returns (values, errors, orders): errors are max-norms of (u, v) differences; orders
    are log(e_i / e_{i+1}) / log(h_i / h_{i+1}) between successive values (h the step or
    the spacing), shape (len(values) - 1,). Grid sizes must divide the reference grid.
    """
    if vary == "dt":
        time = 20.0 if time is None else time
        values = np.asarray(values if values is not None else [0.4, 0.2, 0.1, 0.05], float)
        u0, v0 = smooth_test_fields(n, length)
        dx = length / n
        if not np.allclose(np.round(time / values) * values, time, rtol=1e-12):
            raise ValueError(f"every time step in {values.tolist()} must divide time = {time:g}")

        def run(step):
            return np.stack(simulate(model, u0, v0, steps=int(round(time / step)), dt=step, dx=dx,
                                     method=method, stencil=stencil, backend=backend))
        reference = run(values[-1] / 16)
        errors = np.array([np.abs(run(h) - reference).max() for h in values])
    elif vary == "dx":
        time = 5.0 if time is None else time
        values = np.asarray(values if values is not None else [16, 32, 64], int)
        steps = int(round(time / dt))

        def run(size):
            u0, v0 = smooth_test_fields(size, length)
            return np.stack(simulate(model, u0, v0, steps=steps, dt=dt, dx=length / size,
                                     method=method, stencil=stencil, backend=backend))
        finest = int(values[-1] * 4)
        if np.any(finest % values):
            raise ValueError(f"grid sizes {values.tolist()} must all divide {finest} (4 × the finest)")
        reference = run(finest)
        errors = np.array([np.abs(run(size) - reference[:, :: finest // size, :: finest // size]).max()
                           for size in values])
    else:
        raise ValueError(f"vary must be 'dt' or 'dx', got {vary!r}")
    spacing = values if vary == "dt" else 1.0 / values
    orders = np.log(errors[:-1] / errors[1:]) / np.log(spacing[:-1] / spacing[1:])
    return values, errors, orders
