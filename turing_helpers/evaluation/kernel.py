"""The real-space linear response of a map of fields: its position-averaged Jacobian as a kernel.

A map f of fields (the solver over one frame, the ConvLSTM's next-frame prediction, a
denoiser's estimate of the clean field) is, near given states, a linear map of perturbations.
If f were a periodic convolution, that linear map would be its kernel. :func:`response_kernel`
measures the kernel that f acts with *on average over the grid*, at any states, so that its
shape can be read: a Laplacian is diffusion, a positive centre with a negative surround is
local activation with lateral inhibition, and the norm outside a radius says how local f is.
:func:`kernel_diffusion` projects a kernel on the identity and the discrete Laplacians.
"""
from __future__ import annotations

import numpy as np

from .. import stencils
from ..backend import to_numpy
from .jacobian import FD_EXPONENT, _float64_torch_map, _is_torch_module

__all__ = ["response_kernel", "kernel_diffusion", "kernel_locality"]

# Most float64 numbers per batched call of f (its inputs): 16 MiB.
BATCH_ELEMENTS = 2**21


def _states(x) -> np.ndarray:
    """x (numpy or torch) as float64 numpy (B, C, n, n); ValueError otherwise."""
    array = to_numpy(x)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != array.shape[-2] or array.shape[-1] < 3:
        raise ValueError(f"x must be states (B, C, n, n) or (C, n, n) with n >= 3, got shape {array.shape}")
    if not np.isrealobj(array) or not np.isfinite(array).all():
        raise ValueError("x must be real and finite")
    return array.astype(np.float64)


def _checked_radius(radius, n: int) -> int:
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or not 0 <= radius <= (n - 1) // 2:
        raise ValueError(f"radius must be an integer in [0, (n - 1) // 2 = {(n - 1) // 2}], got {radius!r}")
    return int(radius)


def _positions(n: int, positions, seed) -> np.ndarray:
    """Flat grid indices to probe: all n² (the exact average) or ``positions`` drawn without
    replacement."""
    if positions is None:
        return np.arange(n * n)
    if isinstance(positions, bool) or not isinstance(positions, (int, np.integer)) or not 1 <= positions <= n * n:
        raise ValueError(f"positions must be None (every grid point) or an integer in [1, n² = {n * n}], "
                         f"got {positions!r}")
    return np.sort(np.random.default_rng(seed).choice(n * n, int(positions), replace=False))


def _response_function(f, use_autograd: bool, is_module: bool):
    """A function (state (C, n, n), tangents (M, C, n, n)) → J tangents (M, C', n, n), float64."""
    if use_autograd or is_module:
        import torch

        torch_f, device = _float64_torch_map(f, is_module)
    if use_autograd:
        def responses(state, tangents):
            t = torch.as_tensor(tangents, dtype=torch.float64, device=device)
            primal = torch.as_tensor(state, dtype=torch.float64, device=device)[None].expand_as(t).contiguous()
            _, derivative = torch.func.jvp(torch_f, (primal,), (t,))
            return derivative.detach().cpu().numpy()

        return responses
    if is_module:
        def call(x):
            with torch.no_grad():
                return torch_f(torch.as_tensor(x, dtype=torch.float64, device=device)).cpu().numpy()
    else:
        def call(x):
            out = f(x)
            return to_numpy(out)

    def responses(state, tangents):
        # central differences with a point perturbation of size h = eps^(1/3) (1 + rms(state))
        h = np.finfo(np.float64).eps ** FD_EXPONENT * (1.0 + np.sqrt(np.mean(state**2)))
        outputs = np.asarray(call(np.concatenate([state + h * tangents, state - h * tangents])), np.float64)
        forward, backward = np.split(outputs, 2)
        return (forward - backward) / (2 * h)

    return responses


def response_kernel(f, x, radius, *, positions=None, seed=0, autograd=None, per_state=False):
    """The position-averaged Jacobian of a map of fields, as a kernel K (C', C, 2r+1, 2r+1).

    f: a map of a batch of fields (B, C, n, n) to (B, C', n, n), each member mapped on its own;
    a numpy map (float64 in and out) or a torch map (a ``torch.nn.Module``, or any function of
    tensors with ``autograd=True``). x: the states to linearise about, (B, C, n, n) or
    (C, n, n), numpy or torch, any values (a developed pattern, a noised one, a homogeneous
    state). radius r: the half-width of the kernel returned, 0 ≤ r ≤ (n − 1) // 2, grid points.

    K is the Jacobian ∂f(x)[c', i, j] / ∂x[c, i + a, j + b] averaged over the grid positions
    (i, j) and over the states, in cross-correlation form (as ``torch.nn.functional.conv2d``
    with circular padding applies a kernel): for a linear f,
    f(x)[c', i, j] = Σ_{c, a, b} K[c', c, a + r, b + r] x[c, i + a, j + b], offsets periodic.
    It is measured with a point perturbation at each probed position p of each input channel
    c: the response at offset −(a, b) from p is the entry (a, b). So for a periodic
    convolution, whose Jacobian is the same everywhere, K is its kernel (entries beyond the
    radius cut off): exactly to round-off with autograd, to about 1e-10 relative with finite
    differences. For a map whose response depends on the position (any nonlinear map at a
    pattern), K is the mean over positions; ``per_state=True`` keeps the mean per state,
    (B, C', C, 2r+1, 2r+1), for intervals across fields.

    Derivatives: forward-mode autodiff in float64 for a torch map (``torch.func.jvp``;
    autograd=None detects a module; a module is differentiated through a float64 copy),
    central differences with perturbations of size eps^(1/3) (1 + rms(x)) otherwise.
    positions: None probes every grid point (C n² Jacobian-vector products per state: the exact
    average); an integer M probes M random points (seeded by ``seed``), an estimate whose
    spread over seeds says how much the response varies over the grid.

    Returns float64 (C', C, 2r+1, 2r+1), or (B, C', C, 2r+1, 2r+1) with ``per_state``.
    """
    states = _states(x)
    n, channels = states.shape[-1], states.shape[1]
    radius = _checked_radius(radius, n)
    if autograd is not None and not isinstance(autograd, (bool, np.bool_)):
        raise ValueError(f"autograd must be None (detect), True or False, got {autograd!r}")
    is_module = _is_torch_module(f)
    responses = _response_function(f, is_module if autograd is None else bool(autograd), is_module)
    probe = _positions(n, positions, seed)
    rows, cols = np.divmod(probe, n)
    offsets = np.arange(-radius, radius + 1)
    chunk = max(1, BATCH_ELEMENTS // (2 * channels * n * n))
    kernels = []
    for state in states:
        total = None
        for c in range(channels):
            for start in range(0, probe.size, chunk):
                r, q = rows[start:start + chunk], cols[start:start + chunk]
                tangents = np.zeros((r.size, channels, n, n))
                tangents[np.arange(r.size), c, r, q] = 1.0
                out = responses(state, tangents)
                if out.ndim != 4 or out.shape[0] != r.size or out.shape[-2:] != (n, n):
                    raise ValueError(f"f must map (B, C, n, n) to (B, C', n, n); for B = {r.size} it returned "
                                     f"shape {out.shape}")
                if not np.isfinite(out).all():
                    raise ValueError("f returned NaN or inf near the states; the Jacobian is undefined there")
                if total is None:
                    total = np.zeros((out.shape[1], channels, 2 * radius + 1, 2 * radius + 1))
                # entry (a, b) is the response at the output (p − a, p − b)
                i = (r[:, None] - offsets[None, :]) % n                         # (M, 2r+1)
                j = (q[:, None] - offsets[None, :]) % n
                window = out[np.arange(r.size)[:, None, None], :, i[:, :, None], j[:, None, :]]  # (M, a, b, C')
                total[:, c] += np.moveaxis(window.sum(axis=0), -1, 0)
        kernels.append(total / probe.size)
    kernels = np.stack(kernels)
    return kernels if per_state else kernels.mean(axis=0)


def _laplacian_stencil(name: str, radius: int) -> np.ndarray:
    """The weights of Δx² ∇² in the ``stencils`` module's discretisation, centred in (2r+1, 2r+1)."""
    stencils.check_stencil(name)
    delta = np.zeros((2 * radius + 1, 2 * radius + 1))
    delta[radius, radius] = 1.0
    # the stencil is symmetric, so its response to a point is its cross-correlation kernel
    return np.asarray(stencils.laplacian(delta, 1.0, name), np.float64)


def kernel_diffusion(kernel, dx, dt=1.0, stencil="5-point") -> dict:
    """A kernel (2r+1, 2r+1) (r ≥ 1) read as identity plus diffusion: K ≈ α δ + β L + remainder.

    L is the discrete Laplacian stencil (``stencil``: "5-point" or "9-point", the weights of
    Δx² ∇², summing to zero). α and β are the least-squares coefficients; the effective diffusion
    coefficient of the map over its time step ``dt`` is D = β Δx² / dt (length²/time), the
    one a single explicit Euler step with that D would have. That projection reads a kernel of
    one step; a map of many steps spreads a perturbation further than the stencil reaches, so
    its spread is measured too: the kernel's second moment per unit mass,
    D_spread = Δx² Σ K (a² + b²) / (4 dt Σ K), the diffusion coefficient of a heat kernel of
    that variance after ``dt`` (for one Euler step at a homogeneous state with decay rate γ,
    D/(1 − γ dt); NaN when the mass Σ K is below 1e-3 of Σ |K|, where no spread can be read).
    Returns {"identity": α, "laplacian": β, "diffusion": D, "spread_diffusion": D_spread,
    "mass": Σ K (the gain of a uniform perturbation), "explained": the share of the kernel's
    squared norm that α δ + β L explain, "remainder": the rest of the kernel (2r+1, 2r+1)}.
    """
    k = np.asarray(kernel, np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] < 3 or k.shape[0] % 2 == 0:
        raise ValueError(f"kernel must be square (2r+1, 2r+1) with r >= 1, got shape {k.shape}")
    radius = k.shape[0] // 2
    identity = np.zeros_like(k)
    identity[radius, radius] = 1.0
    laplacian = _laplacian_stencil(stencil, radius)
    basis = np.stack([identity.ravel(), laplacian.ravel()], axis=1)
    (alpha, beta), *_ = np.linalg.lstsq(basis, k.ravel(), rcond=None)
    fitted = alpha * identity + beta * laplacian
    norm = float(np.sum(k**2))
    offsets = np.arange(-radius, radius + 1)
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    mass = float(np.sum(k))
    readable = abs(mass) > 1e-3 * float(np.sum(np.abs(k)))
    spread = float(np.sum(k * squared)) * dx**2 / (4 * dt * mass) if readable else float("nan")
    return {"identity": float(alpha), "laplacian": float(beta), "diffusion": float(beta * dx**2 / dt),
            "spread_diffusion": spread, "mass": mass,
            "explained": 1.0 - float(np.sum((k - fitted) ** 2)) / norm if norm > 0 else float("nan"),
            "remainder": k - fitted}


def kernel_locality(kernel, radius: int) -> float:
    """The share of a kernel's squared norm within Chebyshev distance ``radius`` of its centre.

    kernel: (..., 2R+1, 2R+1); 1 for a kernel that reaches no further than ``radius`` grid
    points, less for one that reaches beyond. Returns float (the batch axes summed).
    """
    k = np.asarray(kernel, np.float64)
    centre = k.shape[-1] // 2
    if not 0 <= radius <= centre:
        raise ValueError(f"radius must be in [0, {centre}] for a kernel of shape {k.shape[-2:]}, got {radius!r}")
    inner = k[..., centre - radius:centre + radius + 1, centre - radius:centre + radius + 1]
    total = float(np.sum(k**2))
    return float(np.sum(inner**2)) / total if total > 0 else float("nan")
