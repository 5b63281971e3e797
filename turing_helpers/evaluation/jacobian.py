"""Leading eigenvalues of the Jacobian of a one-frame map, at a developed state.

:func:`jacobian_spectrum` linearises any map of (u, v) frames — the solver over one frame,
the ConvLSTM's next-frame prediction, a denoising step — about a given state (not only a
homogeneous one, as :func:`turing_helpers.evaluation.linear_response` does) and returns the
multipliers of its slowest-decaying or growing perturbations, from Jacobian-vector products
only: the C n² × C n² matrix is never formed, except for tiny grids.
"""
from __future__ import annotations

import copy
import sys

import numpy as np
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigs

from ..backend import to_numpy

__all__ = ["jacobian_spectrum"]

# Up to this many unknowns (C n²; n ≤ 7 for C = 2) the Jacobian is built densely from N JVPs and
# diagonalised by LAPACK: exact, cheaper than ARPACK's restarts, and free of its
# small-N restrictions.
DENSE_SIZE = 100

# Finite differences: the relative step h that balances the truncation error of central
# differences, O(h²), against the rounding error, O(eps / h): h = eps^(1/3) (≈ 6e-6 in
# float64), for an error of order eps^(2/3) ≈ 4e-11 relative on a smooth map.
FD_EXPONENT = 1.0 / 3.0

# Most float64 numbers in one batched call of ``step`` (inputs only): 32 MiB.
BATCH_ELEMENTS = 2**22


def jacobian_spectrum(step, state, k=8, seed=0, *, autograd=None, return_vectors=False):
    """The k leading eigenvalues μ of the Jacobian ∂S/∂x of a one-frame map S, at ``state``.

    step: the map S, one frame of the system, on a batch of states (B, 2, n, n) (channels u,
    v) returning the same shape, each member mapped independently (for the solver, 10 steps
    of dt = 1; for the ConvLSTM, its next-frame prediction). Either a numpy map (takes and
    returns float64 arrays) or a torch map: a ``torch.nn.Module``, or any function of
    tensors with ``autograd=True``. state: the state x* (2, n, n) to linearise about, any
    state (a developed pattern, not only a homogeneous one), concentrations (dimensionless).
    A state of C channels (C, n, n) works the same way, e.g. a recurrent model's whole state
    (its frames and hidden channels), with ``step`` mapping (B, C, n, n) to itself.
    k: how many eigenvalues, 1 ≤ k ≤ C n² − 2. seed: seeds the Krylov start vector, so the
    result is reproducible.

    The Jacobian J = ∂S/∂x (x*) acts on perturbations δx (2, n, n): S(x* + δx) ≈ S(x*) + J δx
    for one frame, so μ is a multiplier per frame (dimensionless): |μ| > 1 is a mode the
    frame map amplifies (unstable), |μ| < 1 one it damps. Its eigenvalues of largest
    modulus are found by ARPACK's implicitly restarted Arnoldi method
    (``scipy.sparse.linalg.eigs``, which="LM") on Jacobian-vector products J d:

    - torch map (autograd=None: ``step`` is a ``torch.nn.Module``; autograd=True forces it):
      forward-mode automatic differentiation (``torch.func.jvp``) in float64, exact to
      round-off. A module is differentiated through a float64 copy (``copy.deepcopy`` then
      ``.double()``), on its own device, in its current train/eval mode (call ``.eval()``
      first if it has dropout or batch norm); ``step`` itself is not modified.
    - numpy map (or autograd=False: a module is then called on float64 tensors as well):
      central differences (S(x* + h d) − S(x* − h d)) / (2h), with h d of root-mean-square
      size eps^(1/3) (1 + rms(x*)), eps that of the dtype ``step`` returns (≈ 6e-6 for
      float64): relative error of order eps^(2/3) (≈ 4e-11) on a smooth map (the solver's
      frame map at steady spots: eigenvalues within 3e-9 of autodiff's). A map that
      computes in float32 inside but returns float64 loses that: its rounding error of
      1e-7 is divided by h, so use autograd or a float64 map.

    Grids with C n² ≤ 100 unknowns skip ARPACK: the Jacobian is built from C n² JVPs and
    diagonalised densely.

    On a periodic lattice a developed pattern can be translated, so its two translation modes
    have μ ≈ 1: exactly 1 in the continuum, slightly below where the lattice pins the
    pattern (≈ 0.98 per frame for steady spots at the Well's spacing dx = 2/128, where a
    spot spans a few cells), and other slow modes, oscillating ones included, may lead
    them. At a homogeneous state, for the solver over one frame (10 Euler steps of
    dt = 1), J is block-diagonal in Fourier modes and its eigenvalues are those of
    (I + dt (J_r − ρ_q D))^10, J_r the reaction Jacobian and ρ_q the stencil's symbol of −∇²
    at the lattice's wavevectors q: the discrete counterpart of exp(10 λ(q)), λ from
    :meth:`turing_helpers.GrayScott.dispersion`.

    Cost: one JVP is one call of ``step`` (autodiff) or one call on 2 states (finite
    differences); ARPACK needs some tens to hundreds of them, more when the leading
    moduli are close together.

    Returns complex128 (k,): the eigenvalues, largest modulus first (of a conjugate pair, the
    one with positive imaginary part first); with ``return_vectors=True`` also the
    eigenvectors, complex128 (k, C, n, n), each of unit norm. Raises ValueError for a state
    that is not finite of shape (C, n, n), a k out of range, or a ``step`` that returns
    another shape or non-finite values; RuntimeError if ARPACK does not converge.
    """
    x0 = _checked_state(state)
    size = x0.size
    k = _checked_k(k, size)
    if autograd is not None and not isinstance(autograd, (bool, np.bool_)):
        raise ValueError(f"autograd must be None (detect), True or False, got {autograd!r}")
    is_module = _is_torch_module(step)
    use_autograd = is_module if autograd is None else bool(autograd)
    if use_autograd or is_module:
        torch_step, device = _float64_torch_map(step, is_module)
    if use_autograd:
        jvps = _autograd_jvps(torch_step, device, x0)
    else:
        numpy_step = _numpy_view(torch_step, device) if is_module else step
        jvps = _central_difference_jvps(numpy_step, x0)
    values, vectors = _leading_eigenpairs(jvps, x0.shape, k, seed, return_vectors)
    if return_vectors:
        return values, vectors.T.reshape(k, *x0.shape)
    return values


# -- checks --------------------------------------------------------------------------
def _checked_state(state) -> np.ndarray:
    """state as a float64 numpy array (C, n, n), n ≥ 2, finite; or ValueError naming it."""
    state = to_numpy(state)
    if state.ndim != 3 or state.shape[0] < 1 or state.shape[1] != state.shape[2] or state.shape[1] < 2:
        raise ValueError(f"state must have shape (C, n, n) with n >= 2 ((2, n, n) for u, v), got {state.shape}")
    if not np.isrealobj(state) or not np.isfinite(state).all():
        raise ValueError("state must be real and finite, got "
                         f"{'complex values' if not np.isrealobj(state) else 'NaN or inf'}")
    return state.astype(np.float64)


def _checked_k(k, size: int) -> int:
    """k as an int in [1, size − 2] (ARPACK needs k < size − 1); or ValueError naming it."""
    top = size - 2
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= top:
        raise ValueError(f"k must be an integer in [1, C n² − 2 = {top}], got {k!r}")
    return int(k)


def _checked_output(output, expected_shape, what: str = "step") -> np.ndarray:
    """``step``'s output as float64 numpy, of the input's shape and finite; or ValueError."""
    output = to_numpy(output)
    if output.shape != tuple(expected_shape):
        raise ValueError(f"{what} must return an array of its input's shape {tuple(expected_shape)} "
                         f"(B, C, n, n), got shape {output.shape}")
    if not np.isfinite(output).all():
        raise ValueError(f"{what} returned NaN or inf near the state; the Jacobian is undefined there")
    return output


# -- torch maps ----------------------------------------------------------------------
def _is_torch_module(step) -> bool:
    """Whether step is a torch.nn.Module, without importing torch (no torch loaded: no module)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(step, torch.nn.Module)


def _float64_torch_map(step, is_module: bool):
    """(a float64 version of step, the device to call it on): a module is copied, then cast."""
    import torch

    if not is_module:
        return step, torch.device("cpu")
    module = copy.deepcopy(step).double()
    parameter = next(iter(module.parameters()), None)
    return module, (parameter.device if parameter is not None else torch.device("cpu"))


def _numpy_view(torch_step, device):
    """A numpy map (float64 in and out) calling a torch map on float64 tensors."""
    import torch

    def numpy_step(x):
        with torch.no_grad():
            return torch_step(torch.as_tensor(x, dtype=torch.float64, device=device)).cpu().numpy()

    return numpy_step


def _autograd_jvps(torch_step, device, x0: np.ndarray):
    """A function: directions (B, 2, n, n) → J d (B, 2, n, n), by forward-mode autodiff."""
    import torch

    base = torch.as_tensor(x0, dtype=torch.float64, device=device)[None]
    _checked_output(torch_step(base), base.shape)

    def jvps(directions: np.ndarray) -> np.ndarray:
        tangents = torch.as_tensor(directions, dtype=torch.float64, device=device)
        primals = base.expand_as(tangents).contiguous()
        try:
            output, derivative = torch.func.jvp(torch_step, (primals,), (tangents,))
        except (NotImplementedError, RuntimeError):
            # Some operations have no forward-mode rule; the double-backward trick of
            # torch.autograd.functional.jvp needs only reverse mode (and re-raises a real error).
            output, derivative = torch.autograd.functional.jvp(torch_step, primals, tangents)
        _checked_output(output, primals.shape)
        return _checked_output(derivative, primals.shape, "the JVP of step").astype(np.float64)

    return jvps


# -- numpy maps ----------------------------------------------------------------------
def _central_difference_jvps(numpy_step, x0: np.ndarray):
    """A function: directions (B, 2, n, n) → J d (B, 2, n, n), by central differences.

    All 2B perturbed states of a batch go through one call of ``step``.
    """
    output = _checked_output(numpy_step(x0[None].copy()), (1, *x0.shape))
    eps = np.finfo(output.dtype).eps if np.issubdtype(output.dtype, np.floating) else np.finfo(np.float64).eps
    perturbation_rms = eps**FD_EXPONENT * (1.0 + np.sqrt(np.mean(x0**2)))

    def jvps(directions: np.ndarray) -> np.ndarray:
        rms = np.sqrt(np.mean(directions**2, axis=(1, 2, 3), keepdims=True))
        h = perturbation_rms / np.where(rms > 0, rms, 1.0)  # (B, 1, 1, 1)
        inputs = np.concatenate([x0 + h * directions, x0 - h * directions])
        outputs = _checked_output(numpy_step(inputs), inputs.shape).astype(np.float64)
        forward, backward = np.split(outputs, 2)
        return (forward - backward) / (2 * h)

    return jvps


# -- eigen-decomposition -------------------------------------------------------------
def _batched_apply(jvps, columns: np.ndarray, shape) -> np.ndarray:
    """J applied to the columns of (N, m), in batches of at most BATCH_ELEMENTS numbers."""
    size = columns.shape[0]
    per_call = max(1, BATCH_ELEMENTS // (2 * size))  # central differences send 2 states each
    results = []
    for start in range(0, columns.shape[1], per_call):
        block = columns[:, start:start + per_call].T.reshape(-1, *shape)
        results.append(jvps(block).reshape(block.shape[0], size).T)
    return np.concatenate(results, axis=1)


def _leading_eigenpairs(jvps, shape: tuple, k: int, seed: int, want_vectors: bool):
    """k eigenpairs of J of largest modulus, sorted so; vectors (N, k) (None unless wanted)."""
    size = int(np.prod(shape))
    if size <= DENSE_SIZE:
        dense = _batched_apply(jvps, np.eye(size), shape)
        values, vectors = np.linalg.eig(dense) if want_vectors else (np.linalg.eigvals(dense), None)
    else:
        operator = LinearOperator((size, size), dtype=np.float64,
                                  matvec=lambda d: jvps(np.reshape(d, (1, *shape))).ravel(),
                                  matmat=lambda d: _batched_apply(jvps, d, shape))
        start = np.random.default_rng(seed).standard_normal(size)
        try:
            found = eigs(operator, k=k, which="LM", v0=start, return_eigenvectors=want_vectors)
        except ArpackNoConvergence as error:
            raise RuntimeError(f"ARPACK found only {len(error.eigenvalues)} of the k = {k} leading "
                               f"eigenvalues; try a smaller k") from error
        values, vectors = found if want_vectors else (found, None)
    # Largest modulus first; a conjugate pair (equal moduli) with its positive imaginary part first.
    order = np.lexsort((-values.imag, -np.abs(values)))[:k]
    values = values[order].astype(np.complex128)
    if vectors is not None:
        vectors = vectors[:, order].astype(np.complex128)
    return values, vectors
