"""Chapter 7: does the DDPM's denoiser act on patterns beyond what their spectrum explains?
Writes ``turing_helpers/results/analogy_denoiser.json``.

    python benchmarks/analogy_denoiser.py     # about 15 minutes on 2 CPU cores

Why a new test: for any mean-square-optimal denoiser, however nonlinear, the regression of
x̂₀ on x_t per Fourier shell equals the Wiener gain (the orthogonality principle), so that
measurement could not fail. This one can. The kernel (``response_kernel``, v → v, the
position-averaged Jacobian) of the shipped DDPM's data prediction x̂₀(x_t, t, class), without
guidance or clipping, is measured at noised developed patterns of each class and at their
phase-randomised surrogates (same power spectrum, same u–v cross-spectrum, Gaussian
statistics), noised with the same noise. For Gaussian fields the optimal denoiser is linear,
one kernel everywhere, fixed by the spectrum; so a denoiser that does no more than the
spectrum asks has the same kernel at both. The *nonlinear part* ΔK = K(patterns) −
K(surrogates), as a radial profile (rings at distance 0 … ``radius`` grid points), is tested
ring by ring across fields (``difference_test``: bootstrap interval, permutation p) with
Benjamini–Hochberg over all rings, classes and levels of a family.

Controls, each its own family:

- *pass*: the surrogates against surrogates of the same fields with other phases — two sets
  of Gaussian fields with one spectrum: no ring may differ;
- *fail*: a thresholding denoiser, x̂₀ = m + s tanh((G * x − m) / w) (G a Gaussian blur of
  one grid point, m the midrange and s the half-range of the class's v, w = s / 4), whose
  response depends on how much of the field lies near the threshold: it must differ.

Verdict per class and level, from the rings that differ (the categories were written after
a three-field trial on spots, before any other class was measured; no threshold in them is
tuned): "spectrum only" (none differs); "local activation" (the
centre, r ≤ 1, above the surrogate's: a perturbation of a pattern is amplified more than the
spectrum asks, the proposal's local positive feedback), with "and lateral inhibition" when a
ring within [λ/4, 3λ/4] (λ the pattern's wavelength) is below; "damped at patterns" (the
centre below: a perturbation of a pattern is rejected more than the spectrum asks, the
opposite of positive feedback); "other" (only outer rings differ).
"""
from __future__ import annotations

import argparse
import copy
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from turing_helpers import metrics
from turing_helpers.checkpoints import machine_description
from turing_helpers.data import WELL_CLASSES, developed_patterns
from turing_helpers.evaluation import response_kernel, set_wavelength
from turing_helpers.evaluation.significance import benjamini_hochberg, difference_test
from turing_helpers.io import plain, write_json
from turing_helpers.models import load_pretrained
from turing_helpers.presets import WELL_DX
from turing_helpers.results import path as result_path

RESULTS = result_path("analogy_denoiser")
SETS = ("patterns", "surrogates", "resurrogates")


@dataclass(frozen=True)
class DenoiserProtocol:
    size: int = 48
    fields_per_class: int = 8
    seed: int = 84                    # developed patterns of a base seed no other experiment reads
    levels: tuple = (100, 400)        # noise levels t of x_t (σ = √(1 − ᾱ_t) ≈ 0.16 and 0.59)
    radius: int = 8                   # kernel half-width, grid points (a maze's λ is about 9)
    positions: int = 16               # probed positions per field (random, seeded)
    q: float = 0.05                   # Benjamini–Hochberg false-discovery rate per family
    classes: tuple = WELL_CLASSES


def radial_profile(kernel: np.ndarray) -> np.ndarray:
    """Mean of a kernel (..., 2r+1, 2r+1) over rings of rounded distance 0 … r: (..., r+1)."""
    r = (kernel.shape[-1] - 1) // 2
    offsets = np.arange(-r, r + 1)
    ring = np.rint(np.hypot(offsets[:, None], offsets[None, :])).astype(int)
    return np.stack([kernel[..., ring == d].mean(axis=-1) for d in range(r + 1)], axis=-1)


def data_prediction(model, t: int, label: str):
    """x̂₀(x_t) (B, 2, n, n) → (B, 2, n, n) of a (float64) DDPM, no guidance, unclipped."""
    def predict(x):
        tt = torch.full((x.shape[0],), t, dtype=torch.long)
        out = model.model(x, tt, model.labels(label, x.shape[0]))
        if model.config.objective == "eps":
            return model.predict_start_from_noise(x, tt, out)
        return model.predict_start_from_v(x, tt, out)

    return predict


def threshold_denoiser(midrange: float, half_range: float, n: int):
    """The fail control: x̂₀ = m + s tanh((G * x − m) / w), G a periodic Gaussian blur (σ = 1
    grid point), applied to both channels; w = s / 4."""
    q = 2 * np.pi * np.fft.fftfreq(n)
    blur = torch.tensor(np.exp(-0.5 * (q[:, None] ** 2 + q[None, :] ** 2)), dtype=torch.float64)

    def predict(x):
        smooth = torch.fft.ifft2(torch.fft.fft2(x) * blur).real
        return midrange + half_range * torch.tanh((smooth - midrange) / (half_range / 4))

    return predict


def v_kernels(predict, states: np.ndarray, protocol: DenoiserProtocol, seed: int) -> np.ndarray:
    """Per state, the v → v kernel of predict with u held at the state's: (B, 2r+1, 2r+1)."""
    out = []
    for state in states:
        u = torch.as_tensor(state[0], dtype=torch.float64)

        def of_v(v):
            return predict(torch.cat([u.expand(v.shape[0], 1, *u.shape), v], dim=1))[:, 1:]

        kernel = response_kernel(of_v, state[1:], protocol.radius, positions=protocol.positions, seed=seed,
                                 autograd=True)
        out.append(kernel[0, 0])
    return np.stack(out)


def ring_tests(profiles: dict, a: str, b: str) -> list[dict]:
    """difference_test of profiles[a] − profiles[b] (fields × rings) at every ring."""
    return [difference_test(profiles[a][:, ring], profiles[b][:, ring], seed=ring)
            for ring in range(profiles[a].shape[1])]


def verdict(tests: list[dict], rejected: np.ndarray, wavelength_px: float) -> str:
    """The shape of the significant part of ΔK (see the module docstring)."""
    signs = np.array([np.sign(t["difference"]) if r else 0 for t, r in zip(tests, rejected)])
    if not signs.any():
        return "spectrum only"
    rings = np.arange(len(signs))
    scale = (rings >= wavelength_px / 4) & (rings <= 3 * wavelength_px / 4)
    centre = signs[:2]
    if (centre > 0).any() and not (centre < 0).any():
        return "local activation" + (" and lateral inhibition" if (signs[scale] < 0).any() else "")
    if (centre < 0).any() and not (centre > 0).any():
        return "damped at patterns"
    return "other"


def measure(protocol: DenoiserProtocol = DenoiserProtocol(), progress=True) -> dict:
    torch.set_flush_denormal(True)
    ddpm = load_pretrained("ddpm")
    ddpm64 = copy.deepcopy(ddpm).double()  # one float64 copy for every kernel
    n = protocol.size
    fields, labels, _ = developed_patterns(n, protocol.fields_per_class + 4, protocol.seed,
                                           classes=protocol.classes)
    classes, families = {}, {"measurement": [], "pass": [], "fail": []}
    for c, name in enumerate(protocol.classes):
        own = fields[labels == WELL_CLASSES.index(name)][:protocol.fields_per_class]
        # surrogates: the same phases for u and v keep their cross-spectrum
        surrogate = np.stack([metrics.phase_randomized(own[:, k], seed=100 + c) for k in (0, 1)], axis=1)
        other = np.stack([metrics.phase_randomized(own[:, k], seed=200 + c) for k in (0, 1)], axis=1)
        clean = {key: ddpm.normalize(torch.from_numpy(x.astype(np.float32))).double().numpy()
                 for key, x in zip(SETS, (own, surrogate, other))}
        wavelength_px = set_wavelength(own[:, 1].astype(np.float64), WELL_DX) / WELL_DX
        v_network = clean["patterns"][:, 1]
        low, high = np.quantile(v_network, [0.01, 0.99])
        entry = {"wavelength_px": wavelength_px, "levels": {}}
        for level in protocol.levels:
            started = time.perf_counter()
            alpha_bar = float(ddpm.alphas_cumprod[level])
            noise = np.random.default_rng(1000 * c + level).standard_normal(own.shape)
            noised = {key: np.sqrt(alpha_bar) * x + np.sqrt(1 - alpha_bar) * noise for key, x in clean.items()}
            predict = data_prediction(ddpm64, level, name)
            threshold = threshold_denoiser((low + high) / 2 * np.sqrt(alpha_bar),
                                           (high - low) / 2 * np.sqrt(alpha_bar), n)
            kernels = {key: v_kernels(predict, noised[key], protocol, seed=level) for key in SETS}
            control = {key: v_kernels(threshold, noised[key], protocol, seed=level)
                       for key in ("patterns", "surrogates")}
            profiles = {key: radial_profile(k) for key, k in kernels.items()}
            control_profiles = {key: radial_profile(k) for key, k in control.items()}
            tests = {"measurement": ring_tests(profiles, "patterns", "surrogates"),
                     "pass": ring_tests(profiles, "surrogates", "resurrogates"),
                     "fail": ring_tests(control_profiles, "patterns", "surrogates")}
            for family, family_tests in tests.items():
                families[family] += [(name, level, ring) for ring in range(len(family_tests))]
            entry["levels"][str(level)] = {
                "sigma": float(np.sqrt(1 - alpha_bar)), "tests": tests,
                "profiles": {key: p.mean(axis=0) for key, p in profiles.items()},
                "control_profiles": {key: p.mean(axis=0) for key, p in control_profiles.items()},
                "centre_kernel": {key: k.mean(axis=0) for key, k in kernels.items()},
                # how strongly the denoiser responds at a pattern, in units of its response at
                # the pattern's Gaussian twin: the centre entry of the mean kernels
                "centre_ratio": float(profiles["patterns"][:, 0].mean() / profiles["surrogates"][:, 0].mean()),
                "seconds": time.perf_counter() - started}
            if progress:
                print(f"{name} t={level}: {time.perf_counter() - started:.0f} s", flush=True)
        classes[name] = entry

    verdicts = {}
    for family in families:
        keys = families[family]
        p = [classes[name]["levels"][str(level)]["tests"][family][ring]["p"] for name, level, ring in keys]
        rejected = benjamini_hochberg(p) <= protocol.q
        flags = dict(zip(keys, rejected))
        verdicts[family] = {}
        for name in protocol.classes:
            for level in protocol.levels:
                tests = classes[name]["levels"][str(level)]["tests"][family]
                mask = np.array([flags[(name, level, ring)] for ring in range(len(tests))])
                classes[name]["levels"][str(level)].setdefault("rejected", {})[family] = mask
                verdicts[family][f"{name}/{level}"] = verdict(tests, mask, classes[name]["wavelength_px"])
    return {"protocol": asdict(protocol), "classes": classes, "verdicts": verdicts,
            "controls": {"pass": all(v == "spectrum only" for v in verdicts["pass"].values()),
                         "fail": all(v != "spectrum only" for v in verdicts["fail"].values())}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--fields", type=int, default=DenoiserProtocol.fields_per_class,
                        help="fields per class")
    parser.add_argument("--classes", nargs="+", default=list(WELL_CLASSES), choices=WELL_CLASSES)
    parser.add_argument("--out", type=str, default=str(RESULTS))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    protocol = DenoiserProtocol(fields_per_class=args.fields, classes=tuple(args.classes))
    result = measure(protocol)
    result |= {"command": "python benchmarks/analogy_denoiser.py" + ("" if argv is None else " " + " ".join(argv)),
               "seconds": time.perf_counter() - started,
               "machine": machine_description()}
    write_json(args.out, plain(result))
    for family, table in result["verdicts"].items():
        print(family, table)
    print("controls:", result["controls"])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
