"""The DDPM's per-class quality table and the choice of its sampler (chapter 5).

Samples of each class are scored against fresh solver patterns (never used in training)
with the book's conventions (:mod:`turing_helpers.evaluation`): uniform samples are counted
by ``alive`` and left out of the shape statistics, morphology is that of {v > midrange},
the wavelength is the set's (:func:`~turing_helpers.evaluation.set_wavelength`). Beside the
model, the solver's own seed-to-seed noise floor and the phase-randomised surrogate.
"""
from __future__ import annotations

import numpy as np

from .. import metrics
from ..data import developed_patterns
from ..presets import WELL_CLASSES, WELL_DX
from .patterns import pattern_statistics, set_wavelength

__all__ = ["SAMPLING_STEPS", "SAMPLING_CANDIDATES", "EVAL_SEED", "TUNING_SEED", "sample_scores",
           "quality_table", "format_table", "sampling_score", "tune_sampling", "DX"]

DX = WELL_DX      # the grid spacing on which the DDPM's patterns live
EVAL_SEED = 9     # base seed of the fresh evaluation patterns (training uses 0 and 1)
TUNING_SEED = 5   # base seed of the validation patterns that choose the sampling defaults
# (guidance w, DDIM η) tried per class by tune_sampling; w = 1, η = 0 is plain conditional DDIM
SAMPLING_CANDIDATES = ((1.0, 0.0), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0))
# DDIM steps of the tuning and of every quality measurement. With η = 1 (fresh noise in each
# step, which the worms and bubbles need) 25 steps are too coarse: on the validation patterns
# the component-density error of worms falls from 14% at 25 steps to 5% at 100, of bubbles
# from 18% to 6% (measured when the sampler was tuned; see the checkpoint's sampling_tuning).
SAMPLING_STEPS = 100


def sample_scores(fields: np.ndarray, reference: np.ndarray, name: str, dx: float = DX,
                  relax: bool = True) -> dict:
    """Numbers of a set of fields (B, 2, n, n) against solver reference fields (R, 2, n, n).

    Returns: ``n``; ``alive``, the fraction of fields that are not uniform; the set
    wavelength of v and its relative error; the radial-spectrum distance of v, averaged over
    all (non-uniform field, reference) pairs, and the pixel-histogram (W₁) distance, over all
    pairs (a blank field's histogram is wrong, and counts); the component and
    Euler-characteristic densities of {v > midrange} per length², averaged over the
    non-uniform fields, and their relative errors; the PDE residual; and how much 1,000
    steps of the true solver move the fields (VRMSE of v; NaN with ``relax=False``).
    """
    from .. import preset, simulate

    v, ref_v = fields[:, 1].astype(np.float64), reference[:, 1].astype(np.float64)
    m, r = pattern_statistics(v, dx), pattern_statistics(ref_v, dx)
    model = preset(name)
    out = {"n": len(fields), "alive": float(1 - m["uniform"].mean())}
    out["wavelength"], reference_wavelength = set_wavelength(v, dx), set_wavelength(ref_v, dx)
    out["wavelength_error"] = abs(out["wavelength"] - reference_wavelength) / reference_wavelength
    for key, statistic in (("components", "component_density"), ("euler", "euler_density")):
        out[key] = float(np.nanmean(m[statistic])) if not m["uniform"].all() else float("nan")
        ref = float(np.nanmean(r[statistic]))
        out[f"{key}_error"] = abs(out[key] - ref) / max(abs(ref), 1e-12)
    alive = ~m["uniform"]
    out["spectrum_distance"] = (float(np.mean(metrics.spectrum_distance(v[alive][:, None], ref_v[None], dx)))
                                if alive.any() else float("nan"))
    out["histogram_distance"] = float(np.mean(metrics.pixel_histogram_distance(v[:, None], ref_v[None])))
    out["pde_residual"] = float(np.mean(metrics.pde_residual(model, fields[:, 0], v, dx)))
    out["solver_drift"] = float("nan")
    if relax:  # 1,000 solver steps per field; tune_sampling, which scores only morphology, skips them
        _, relaxed_v = simulate(model, fields[:, 0].astype(np.float64), v, steps=1000, dt=1.0, dx=dx,
                                backend="numba")
        out["solver_drift"] = float(np.nanmean(metrics.vrmse(relaxed_v, v)))
    return out


def quality_table(model, samples_per_class: int = 16, reference_per_class: int = 32,
                  steps: int = SAMPLING_STEPS, size: int | None = None, seed: int = 0,
                  reference_seed: int = EVAL_SEED, classes=WELL_CLASSES, progress: bool = False,
                  method: str = "ddim") -> dict:
    """Per class: model samples, fresh solver patterns and phase-randomised surrogates, scored
    against another set of fresh solver patterns with :func:`sample_scores`.

    model: a :class:`turing_helpers.models.ddpm.DDPM`. The fresh solver patterns (base seed
    ``reference_seed``, never used in training) are split in two halves: half A is the
    reference, half B is scored as "solver" (the seed-to-seed noise floor) and
    phase-randomised (u and v with the same phases) as "surrogate", which has B's power
    spectrum exactly. Model samples use ``method`` ("ddim" or "dpm++", see
    :meth:`~turing_helpers.models.ddpm.DDPM.sample`) with ``steps`` steps. Returns {class: {"model":
    ..., "solver": ..., "surrogate": ...}, "_protocol": ...}.
    """
    size = model.config.size if size is None else size
    fields, labels, kept = developed_patterns(size, 2 * reference_per_class, reference_seed)
    table = {"_protocol": {"size": size, "samples_per_class": samples_per_class, "sampler": method, "steps": steps,
                           "sample_seed": seed, "reference_seed": reference_seed, "reference_kept": kept,
                           "reference_per_class": reference_per_class,
                           "uniform_contrast": metrics.UNIFORM_CONTRAST, "threshold": "midrange"}}
    iterator = classes
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(classes, desc="quality", unit="class")
    for name in iterator:
        c = WELL_CLASSES.index(name)
        own = fields[labels == c]
        half = len(own) // 2
        ref, other = own[:half], own[half:]
        surrogate = np.stack([metrics.phase_randomized(other[:, 0], seed=c),
                              metrics.phase_randomized(other[:, 1], seed=c)], axis=1)  # same phases for u, v
        samples = model.sample(samples_per_class, c, size=size, steps=steps, seed=seed + c, method=method)
        table[name] = {"model": sample_scores(samples, ref, name), "solver": sample_scores(other, ref, name),
                       "surrogate": sample_scores(surrogate, ref, name)}
    return table


def sampling_score(m: dict) -> float:
    """How far a set of samples is from the solver's, in units of chapter 5's targets:
    wavelength error / 3% + component-density error / 15% + Euler-density error / 15%
    + fraction of uniform samples / 5% (the shape statistics skip uniform fields, so a
    sampler must not win by leaving its hard cases blank)."""
    return (m["wavelength_error"] / 0.03 + m["components_error"] / 0.15 + m["euler_error"] / 0.15
            + (1 - m["alive"]) / 0.05)


def tune_sampling(model, samples_per_class: int = 64, reference_per_class: int = 128,
                  steps: int = SAMPLING_STEPS, candidates=SAMPLING_CANDIDATES, seed: int = 1000,
                  reference_seed: int = TUNING_SEED, classes=WELL_CLASSES,
                  progress: bool = False) -> tuple[dict, dict]:
    """Choose each class's sampling defaults (guidance w, DDIM η) on validation patterns.

    For every class and every (w, η) in ``candidates``, DDIM samples (``steps`` steps) are
    scored against ``reference_per_class`` fresh solver patterns of base seed
    ``reference_seed`` — neither the training seeds nor the evaluation seeds of
    :func:`quality_table` and the tests — by :func:`sampling_score`; the lowest score wins,
    ties going to the earlier (simpler) candidate. Returns ``(sampling, scores)``:
    {class: {"guidance": w, "eta": η}} for :meth:`DDPM.set_sampling`, and
    {class: [[w, η, score, wavelength error, component error, Euler error, alive fraction], ...]}.
    """
    fields, labels, _ = developed_patterns(model.config.size, reference_per_class, reference_seed, classes=classes)
    sampling, scores = {}, {}
    iterator = classes
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(classes, desc="tuning sampling", unit="class")
    for name in iterator:
        reference = fields[labels == WELL_CLASSES.index(name)]
        rows = []
        for w, eta in candidates:
            samples = model.sample(samples_per_class, name, steps=steps, seed=seed, guidance=w, eta=eta)
            m = sample_scores(samples, reference, name, relax=False)
            rows.append([w, eta, sampling_score(m), m["wavelength_error"], m["components_error"], m["euler_error"],
                         m["alive"]])
        # a NaN score (e.g. every sample uniform) must lose, not win by comparing false
        best = min(range(len(rows)), key=lambda i: (rows[i][2] if np.isfinite(rows[i][2]) else np.inf, i))
        sampling[name] = {"guidance": rows[best][0], "eta": rows[best][1]}
        scores[name] = rows
    return sampling, scores


def format_table(table: dict) -> str:
    """A plain-text per-class table of the main numbers (model / solver / surrogate); "alive"
    is the fraction of fields that are not uniform, the only ones the morphology columns count."""
    rows = [f"{'class':8s} {'source':9s} {'alive':>5s} {'λ*':>7s} {'Δλ':>6s} {'spec':>6s} {'W1(v)':>7s} "
            f"{'comp/L²':>8s} {'Δcomp':>6s} {'χ/L²':>7s} {'Δχ':>6s} {'resid':>8s} {'drift':>6s}"]
    for name, entry in table.items():
        if name.startswith("_"):
            continue
        for source, m in entry.items():
            rows.append(f"{name:8s} {source:9s} {m['alive']:5.0%} {m['wavelength']:7.4f} {m['wavelength_error']:6.1%} "
                        f"{m['spectrum_distance']:6.3f} {m['histogram_distance']:7.4f} {m['components']:8.2f} "
                        f"{m['components_error']:6.1%} {m['euler']:7.2f} {m['euler_error']:6.1%} "
                        f"{m['pde_residual']:8.2e} {m['solver_drift']:6.3f}")
    return "\n".join(rows)
