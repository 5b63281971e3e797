"""How far fields are from solving the Gray-Scott equations: the PDE residual."""
from __future__ import annotations

import numpy as np

from .._checks import check_positive
from ..stencils import check_stencil
from .fields import as_fields, batch_result, check_same_shape

__all__ = ["pde_residual"]


def pde_residual(model, u, v, dx, stencil="5-point", per_species=False):
    """How far (u, v) is from a steady Gray-Scott state: the RMS of ∂(u, v)/∂t.

    r_u = D_u ∇²u + f_u(u, v),  r_v = D_v ∇²v + f_v(u, v)  (the right-hand sides; zero
    for any steady state), with the periodic discrete Laplacian ``stencil`` of
    :mod:`turing_helpers.stencils` and ``model`` a :class:`~turing_helpers.gray_scott.GrayScott`.
    u, v: (..., N, N), same shape; dx in length units. Returns, in 1/time
    (concentration per time unit):

    - default: sqrt(mean over the grid of r_u² + r_v²) — the RMS length of the vector
      (r_u, r_v), float, shape batch (the module's return rule);
    - ``per_species=True``: (RMS r_u, RMS r_v), shape (..., 2); the default is
      sqrt(RMS r_u² + RMS r_v²).

    0 (to rounding) for each homogeneous steady state of the model.
    """
    for attribute in ("rhs", "Du", "Dv"):
        if not hasattr(model, attribute):
            raise ValueError(f"model must be a GrayScott instance (no .{attribute}), got {model!r}")
    uu = as_fields(u, "u")
    vv = as_fields(v, "v")
    check_same_shape(uu, vv, "u", "v")
    dx = check_positive("dx", dx)
    check_stencil(stencil)
    ru, rv = model.rhs(uu, vv, dx, stencil)
    rms = np.stack(
        [np.sqrt(np.mean(ru**2, axis=(-2, -1))), np.sqrt(np.mean(rv**2, axis=(-2, -1)))], axis=-1
    )  # (..., 2)
    if per_species:
        return rms
    return batch_result(np.sqrt(np.sum(rms**2, axis=-1)))
