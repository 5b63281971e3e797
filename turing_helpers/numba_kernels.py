"""Compiled explicit-Euler kernel for Gray-Scott (the ``backend="numba"`` of ``simulate``).

One public function, :func:`euler_steps`, advances a batch of periodic Gray-Scott
fields by many explicit-Euler steps in a single call. The update is exactly the
reference formula that the numpy backend evaluates with ``np.roll``::

    lap_u = stencil(u) / dx²            uvv = u v²
    u' = u + dt (D_u lap_u − uvv + F (1 − u))
    v' = v + dt (D_v lap_v + uvv − (F + k) v)

Design of the kernel, and why
-----------------------------
*The whole time loop is compiled.* A 256² step is only ~65 000 cell updates, a
fraction of a millisecond when compiled. If Python called a compiled step function
200 000 times (Pearson's experiment), the per-call cost of crossing from Python to
machine code (argument unboxing, type dispatch, a few µs each time) would be a
visible share of the run. So Python calls once, and the loop over steps runs in
machine code.

*Two buffers, ping-pong.* Explicit Euler needs the old u and v while writing the
new ones, so each step reads one pair of arrays and writes the other, then the roles
swap. No copy is made per step (the banded path below copies strips once per block);
when ``steps`` is odd the result sits in the scratch
buffer and is copied back once at the end, so the caller's arrays are updated in
place whatever the parity.

*Parallel without a barrier per step.* The obvious parallelisation, a ``prange``
over rows inside the step loop, makes the threads meet at a barrier after every step
(kept as ``_euler_rows_per_step`` for the benchmark). A 256² step takes only ~20-40 µs
per core, so on an idle machine the barrier is cheap, but on a busy one (more runnable
threads than cores: a shared server, Binder, a notebook beside a training run) a
thread that reaches the barrier spin-waits while its partner is descheduled, and one
step costs a scheduler time slice instead of microseconds. Measured on this project's
2-core machine under load: 4-260 M cell-updates/s with the per-step barrier, against
500-1500 M on one thread. So the work is split into tasks that rarely or never meet:

- *a batch (B >= number of threads): one task per member.* Members are independent, so
  each thread runs whole members through all their steps with no synchronisation at
  all (``prange`` over members, the step loop inside).
- *one big grid (B < threads): row bands with overlapping halos.* Each member's rows
  are cut into bands; a task copies its band plus ``h`` halo rows on each side into a
  private strip and advances it ``h`` steps (each step recomputes one halo row fewer at
  each end, the rows whose neighbours are no longer current), then writes its band
  back. The threads meet once per ``h`` steps (h = 16 for 256², at the price of
  recomputing ~12% extra rows). On small grids the threads' meetings cost more than
  they save, so :func:`euler_steps` bands a grid only when every band has at least
  ``BAND_ROWS`` rows (a rule measured on this project's 2-core machine, below); a busy
  machine (more runnable threads than cores) can still make the bands slower than one
  thread, where ``strategy="members"`` is the choice.

Every strategy does the same floating-point operations on the same numbers for every
cell, so the results are bitwise identical whichever runs (the tests check this).

*The periodic wrap is taken out of the inner loop.* For a row i the neighbouring
rows i ± 1 (mod Ny) are chosen once per row, as 1-D row views. In the column
direction only j = 0 and j = Nx − 1 have neighbours that wrap around; they are
computed separately, so the loop over the interior columns j = 1 … Nx − 2 has no
branch and no modulo, only unit-stride loads of j − 1, j, j + 1. LLVM turns that loop
into SIMD code (AVX2/AVX-512 where the CPU has it). A ``% Nx`` or an ``if`` on the
edges inside the loop blocks vectorisation: a version with ``(j ± 1) % Nx`` ran 2-4×
slower here.

*No fastmath.* The kernel is compiled without ``fastmath``, so the compiler may not
reorder floating-point sums and the result agrees with the numpy formula to a few
units in the last place per step (measured: relative ~1e-14 after 100 steps). With
``fastmath=True`` the agreement was as good, but the speed was the same within the
noise of the measurement (the loop is bound by loads and stores, not by
arithmetic), so there was nothing to gain from it.

Numerical detail: the kernel multiplies by precomputed coefficients such as
dt·D_u/dx² instead of dividing by dx² in every cell; this changes round-off only
(≲ 1 ulp per step), not the scheme.

Compilation happens lazily, on the first call (``cache=True`` keeps the machine code
on disk, in ``__pycache__`` or ``$NUMBA_CACHE_DIR``, so later sessions load it in a
fraction of a second). Importing this module compiles nothing.
"""
from __future__ import annotations


import numba
import numpy as np
from numba import njit, prange

__all__ = ["euler_steps"]


@njit(cache=True, inline="always")
def _row_5(uc, un, us, vc, vn, vs, du, dv, cu, cv, dtF, dtFk, dt):
    """One row, 5-point stencil. uc/un/us: this row and the rows above/below (1-D views);
    du, dv: the output row. cu = dt·Du/dx², cv = dt·Dv/dx², dtF = dt·F, dtFk = dt·(F+k)."""
    nx = uc.shape[0]
    # interior columns: no wrap, no branch -> vectorised
    for j in range(1, nx - 1):
        u = uc[j]
        v = vc[j]
        lu = un[j] + us[j] + uc[j - 1] + uc[j + 1] - 4.0 * u
        lv = vn[j] + vs[j] + vc[j - 1] + vc[j + 1] - 4.0 * v
        uvv = u * v * v
        du[j] = u + cu * lu - dt * uvv + dtF * (1.0 - u)
        dv[j] = v + cv * lv + dt * uvv - dtFk * v
    # the two edge columns, whose west/east neighbours wrap around
    for j in (0, nx - 1):
        jw = j - 1 if j > 0 else nx - 1
        je = j + 1 if j < nx - 1 else 0
        u = uc[j]
        v = vc[j]
        lu = un[j] + us[j] + uc[jw] + uc[je] - 4.0 * u
        lv = vn[j] + vs[j] + vc[jw] + vc[je] - 4.0 * v
        uvv = u * v * v
        du[j] = u + cu * lu - dt * uvv + dtF * (1.0 - u)
        dv[j] = v + cv * lv + dt * uvv - dtFk * v


@njit(cache=True, inline="always")
def _row_9(uc, un, us, vc, vn, vs, du, dv, cu, cv, dtF, dtFk, dt):
    """One row, isotropic 9-point stencil [[1,4,1],[4,-20,4],[1,4,1]]/(6 dx²).
    Same arguments as ``_row_5`` except cu = dt·Du/(6 dx²), cv = dt·Dv/(6 dx²)."""
    nx = uc.shape[0]
    for j in range(1, nx - 1):
        u = uc[j]
        v = vc[j]
        lu = (
            4.0 * (un[j] + us[j] + uc[j - 1] + uc[j + 1])
            + (un[j - 1] + un[j + 1] + us[j - 1] + us[j + 1])
            - 20.0 * u
        )
        lv = (
            4.0 * (vn[j] + vs[j] + vc[j - 1] + vc[j + 1])
            + (vn[j - 1] + vn[j + 1] + vs[j - 1] + vs[j + 1])
            - 20.0 * v
        )
        uvv = u * v * v
        du[j] = u + cu * lu - dt * uvv + dtF * (1.0 - u)
        dv[j] = v + cv * lv + dt * uvv - dtFk * v
    for j in (0, nx - 1):
        jw = j - 1 if j > 0 else nx - 1
        je = j + 1 if j < nx - 1 else 0
        u = uc[j]
        v = vc[j]
        lu = (
            4.0 * (un[j] + us[j] + uc[jw] + uc[je])
            + (un[jw] + un[je] + us[jw] + us[je])
            - 20.0 * u
        )
        lv = (
            4.0 * (vn[j] + vs[j] + vc[jw] + vc[je])
            + (vn[jw] + vn[je] + vs[jw] + vs[je])
            - 20.0 * v
        )
        uvv = u * v * v
        du[j] = u + cu * lu - dt * uvv + dtF * (1.0 - u)
        dv[j] = v + cv * lv + dt * uvv - dtFk * v


@njit(cache=True)
def _advance_rows(su, sv, du, dv, q0, q1, cu, cv, dtF, dtFk, dt, nine_point):
    """Rows q0 … q1−1 of one 2-D field pair (su, sv) → (du, dv), one Euler step.

    Row neighbours wrap periodically; inside a band's private strip (below) only rows
    1 … R−2 are ever requested, so the wrap is never taken there.
    """
    ny = su.shape[0]
    for i in range(q0, q1):
        im = i - 1 if i > 0 else ny - 1
        ip = i + 1 if i < ny - 1 else 0
        if nine_point:
            _row_9(su[i], su[im], su[ip], sv[i], sv[im], sv[ip], du[i], dv[i],
                   cu, cv, dtF, dtFk, dt)
        else:
            _row_5(su[i], su[im], su[ip], sv[i], sv[im], sv[ip], du[i], dv[i],
                   cu, cv, dtF, dtFk, dt)


@njit(cache=True)
def _member_all_steps(u, v, u2, v2, cu, cv, dtF, dtFk, dt, steps, nine_point):
    """All steps of one batch member (2-D views), ping-pong, result left in (u, v)."""
    ny = u.shape[0]
    for s in range(steps):
        if s % 2 == 0:
            _advance_rows(u, v, u2, v2, 0, ny, cu, cv, dtF, dtFk, dt, nine_point)
        else:
            _advance_rows(u2, v2, u, v, 0, ny, cu, cv, dtF, dtFk, dt, nine_point)
    if steps % 2 == 1:
        u[:, :] = u2
        v[:, :] = v2


@njit(cache=True)
def _band_block(su, sv, du, dv, pu, pv, r0, r1, h, cu, cv, dtF, dtFk, dt, nine_point):
    """h steps of the rows r0 … r1−1 of one member, by overlapping halos.

    su, sv: the member's fields at the start of the block (read only);
    du, dv: where the band's rows go after h steps; pu, pv: private scratch of shape
    (2, ≥ r1 − r0 + 2h, Nx). The strip of rows r0 − h … r1 + h − 1 (taken modulo Ny,
    so it is the periodic field unrolled) is copied in; each step recomputes one row
    fewer at each end (the rows whose neighbours are no longer up to date), and after
    h steps exactly the band's own rows are valid.
    """
    ny = su.shape[0]
    nrows = r1 - r0 + 2 * h
    for q in range(nrows):
        g = (r0 - h + q) % ny
        pu[0, q, :] = su[g]
        pv[0, q, :] = sv[g]
    for s in range(h):
        a = s % 2
        _advance_rows(pu[a], pv[a], pu[1 - a], pv[1 - a], s + 1, nrows - 1 - s,
                      cu, cv, dtF, dtFk, dt, nine_point)
    last = h % 2
    for q in range(h, nrows - h):
        du[r0 - h + q, :] = pu[last, q]
        dv[r0 - h + q, :] = pv[last, q]


@njit(parallel=True, cache=True)
def _euler_tasks(u, v, u2, v2, cu, cv, dtF, dtFk, dt, steps, nine_point, nbands, halo):
    """The time loop. ``nbands`` row bands per member, so B·nbands parallel tasks.

    nbands == 1: each task is one whole member and runs all its steps on its own, no
    synchronisation at all. nbands > 1: the steps go in blocks of ``halo`` steps; a
    task advances its band by a block from its private strip, and the threads meet
    once per block (the end of the ``prange``), not once per step.
    """
    nb, ny, nx = u.shape
    if nbands == 1:
        for b in prange(nb):
            _member_all_steps(u[b], v[b], u2[b], v2[b], cu[b], cv[b], dtF[b], dtFk[b],
                              dt, steps, nine_point)
        return
    ntasks = nb * nbands
    rows_max = (ny + nbands - 1) // nbands + 2 * halo
    pu = np.empty((ntasks, 2, rows_max, nx))
    pv = np.empty((ntasks, 2, rows_max, nx))
    done = 0
    flip = False  # False: the current state is in (u, v)
    while done < steps:
        h = min(halo, steps - done)
        for t in prange(ntasks):
            b = t // nbands
            band = t - b * nbands
            r0 = band * ny // nbands
            r1 = (band + 1) * ny // nbands
            if flip:
                _band_block(u2[b], v2[b], u[b], v[b], pu[t], pv[t], r0, r1, h,
                            cu[b], cv[b], dtF[b], dtFk[b], dt, nine_point)
            else:
                _band_block(u[b], v[b], u2[b], v2[b], pu[t], pv[t], r0, r1, h,
                            cu[b], cv[b], dtF[b], dtFk[b], dt, nine_point)
        flip = not flip
        done += h
    if flip:
        for t in prange(nb * ny):
            b = t // ny
            i = t - b * ny
            u[b, i, :] = u2[b, i]
            v[b, i, :] = v2[b, i]


@njit(parallel=True, cache=True)
def _step_rows(su, sv, du, dv, cu, cv, dtF, dtFk, dt, nine_point):
    """One step, ``prange`` over all B·Ny rows (used by the per-step variant below)."""
    nb, ny, _ = su.shape
    for r in prange(nb * ny):
        b = r // ny
        i = r - b * ny
        _advance_rows(su[b], sv[b], du[b], dv[b], i, i + 1, cu[b], cv[b], dtF[b], dtFk[b],
                      dt, nine_point)


@njit(cache=True)
def _euler_rows_per_step(u, v, u2, v2, cu, cv, dtF, dtFk, dt, steps, nine_point):
    """The textbook parallelisation, kept for the benchmark: threads meet every step.

    Fast on an idle machine, but each step ends in a barrier, and on a busy machine
    (more runnable threads than cores) a barrier can wait for a descheduled thread for
    a whole scheduler time slice; measured here, that made it 20-400× slower.
    """
    for _ in range(steps // 2):
        _step_rows(u, v, u2, v2, cu, cv, dtF, dtFk, dt, nine_point)
        _step_rows(u2, v2, u, v, cu, cv, dtF, dtFk, dt, nine_point)
    if steps % 2 == 1:
        _step_rows(u, v, u2, v2, cu, cv, dtF, dtFk, dt, nine_point)
        u[:, :, :] = u2
        v[:, :, :] = v2


def _per_batch(name, value, nb):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(nb, float(arr))
    if arr.shape != (nb,):
        raise ValueError(f"{name} must be a scalar or have shape ({nb},), got {arr.shape}")
    return arr



def _plan(nb, ny, threads):
    """(nbands, block): row bands per member and steps per block for the banded path."""
    nbands = min(max(2, -(-threads // nb)), max(1, ny // 16))  # bands of >= 16 rows
    block = min(16, max(1, (ny // max(nbands, 1)) // 8))  # <= 1/8 of a band recomputed per side
    return nbands, block


# Grids are cut into row bands only when each band keeps at least this many rows. Measured
# (2 threads, idle machine, 2026-12-03, M cell-updates/s, B = 1; members / bands / per-step):
# 32²: 565 / 345 / 276; 48²: 692 / 612 / 443; 64²: 770 / 812 / 632; 96²: 845 / 1070 / 899;
# 128²: 867 / 1177 / 1048; 256²: 939 / 1321 / 1366; 512²: 682 / 977 / 1059. With B >= threads
# one task per member wins at every size (B = 2: 1079-1638 against at most 1338 banded).
# Bands from 64 rows each on up; per-step is within 8% of bands on large grids and far
# slower on a busy machine (module docstring), so it is never chosen.
BAND_ROWS = 32


def euler_steps(u, v, F, k, Du, Dv, dt, dx, steps, nine_point, strategy="auto", halo=None):
    """Advance a batch of Gray-Scott fields by ``steps`` explicit-Euler steps, in place.

    Parameters
    ----------
    u, v : numpy.ndarray, float64, C-contiguous, shape (B, Ny, Nx)
        Concentrations (dimensionless) of the substrate and the autocatalyst on a
        periodic grid; overwritten with the state after ``steps`` steps.
    F, k : array, shape (B,) (or scalars, broadcast to all members)
        Feed and kill rates, 1/time; one value per batch member.
    Du, Dv : array, shape (B,) (or scalars)
        Diffusivities, length²/time.
    dt : float
        Time step, time units (explicit Euler: stable only for dt·D·ρ < 2, with ρ the
        spectral radius of the discrete Laplacian, 8/dx² for 5-point, 16/(3 dx²) for 9-point).
    dx : float
        Grid spacing, length units (same in both directions).
    steps : int
        Number of steps (≥ 0).
    nine_point : bool
        False: 5-point Laplacian; True: the isotropic 9-point stencil
        [[1, 4, 1], [4, −20, 4], [1, 4, 1]] / (6 dx²).

    Returns
    -------
    (u, v), the same arrays, updated.

    The first call compiles the kernel (several seconds) or loads it from numba's
    on-disk cache; later calls start at once. All steps run inside one compiled call,
    on ``numba.get_num_threads()`` threads.

    The knobs, for benchmarks and tests: ``strategy`` "auto" (below), "members" (one task
    per batch member: with B = 1 that is one thread), "bands" (row bands with ``halo``
    steps per block, default from :func:`_plan`), or "per-step" (a ``prange`` over all rows
    in every step). "auto": "bands" when B < threads and each band keeps at least
    :data:`BAND_ROWS` rows, else "members" (the measurements are beside the constant). All
    strategies give bitwise identical results.
    """
    for name, arr in (("u", u), ("v", v)):
        if not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.ndim != 3:
            raise TypeError(f"{name} must be a float64 numpy array of shape (B, Ny, Nx)")
        if not arr.flags.c_contiguous or not arr.flags.writeable:
            raise ValueError(f"{name} must be C-contiguous and writeable")
    if u.shape != v.shape:
        raise ValueError(f"u and v must have the same shape, got {u.shape} and {v.shape}")
    nb, ny, nx = u.shape
    if nb < 1 or ny < 1 or nx < 1:
        raise ValueError(f"u and v must not be empty, got shape {u.shape}")
    if isinstance(steps, (bool, np.bool_)) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    steps = int(steps)
    if steps == 0:
        return u, v
    F, k, Du, Dv = (_per_batch(n, a, nb) for n, a in (("F", F), ("k", k), ("Du", Du), ("Dv", Dv)))
    dt, dx = float(dt), float(dx)
    scale = dt / (6.0 * dx * dx) if nine_point else dt / (dx * dx)
    coefficients = (np.ascontiguousarray(Du * scale), np.ascontiguousarray(Dv * scale),
                    np.ascontiguousarray(dt * F), np.ascontiguousarray(dt * (F + k)), dt)
    u2 = np.empty_like(u)
    v2 = np.empty_like(v)
    threads = numba.get_num_threads()
    nbands, block = _plan(nb, ny, threads)
    if halo is not None:
        block = max(1, int(halo))

    def run(n, how):
        if how == "per-step":
            _euler_rows_per_step(u, v, u2, v2, *coefficients, n, bool(nine_point))
        elif how == "bands" and nbands > 1:
            _euler_tasks(u, v, u2, v2, *coefficients, n, bool(nine_point), nbands, block)
        else:  # "members", or bands impossible (a grid of fewer than 32 rows)
            _euler_tasks(u, v, u2, v2, *coefficients, n, bool(nine_point), 1, 1)

    if strategy == "auto":
        banded = threads > 1 and nb < threads and nbands > 1 and ny // nbands >= BAND_ROWS
        strategy = "bands" if banded else "members"
    elif strategy not in ("members", "bands", "per-step"):
        raise ValueError(f"strategy must be 'auto', 'members', 'bands' or 'per-step', got {strategy!r}")
    run(steps, strategy)
    return u, v
