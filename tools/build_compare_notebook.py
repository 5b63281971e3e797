"""Write book/compare.ipynb (chapter 6) from the cell list below, without outputs.

    python tools/build_compare_notebook.py

The chapter is kept as this list so that its cells can be reviewed as plain Python; edit
here and rerun (the notebook is what the book builds and nbval runs).
"""
from pathlib import Path

import nbformat

CELLS = []


def md(text):
    CELLS.append(nbformat.v4.new_markdown_cell(text.strip("\n")))


def code(text, tags=()):
    cell = nbformat.v4.new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    CELLS.append(cell)


md(r"""
# Stability and complexity compared

Three systems now make Turing-type patterns: the **solver** of chapter 2 integrates the
Gray-Scott equations, the **ConvLSTM** of chapter 4 has learned to forecast their next frame,
and the **DDPM** of chapter 5 has learned what a developed pattern looks like. The research
proposal asks how they compare in *stability* and in *complexity*. This chapter answers on one
set of measurements, made the same way for all three ({mod}`turing_helpers.evaluation`): one
definition of a uniform field, one threshold for the two phases of a pattern, one wavelength
of a set, one correlation time.

**Learning goals.** After this chapter you can

1. tell *bounded* from *stable on the attractor*, and test for it with long-run statistics;
2. run the same perturbation experiment on a PDE, a recurrent network and a diffusion model;
3. measure the linear response of any one-frame map, mode by mode, and compare it with the
   dispersion relation;
4. compare sets of patterns with bootstrap intervals, and say when a difference is noise;
5. account for what each system costs per pattern.

**Prerequisites.** Chapters 1 (the dispersion relation), 4 and 5 (the two models).
**Run time.** About two minutes on two CPU cores: the heavy measurements were made by
`python benchmarks/compare.py` (a quarter of an hour on two cores; the time of the run is
printed below) and are read from its results file; the cells here recompute small pieces live.
""")

code(r"""
# Colab/Binder setup: install the book's package when it is missing (does nothing locally).
try:
    import turing_helpers
except ImportError:
    %pip install -q "git+https://github.com/naist-mathinfo/turing-patterns-three-ways@main"
""")

code(r"""
import numpy as np
import matplotlib.pyplot as plt
import turing_helpers as th

plt.rcParams.update({"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False})
rng = np.random.default_rng(0)
""")

code(r"""
import torch
from IPython.display import Markdown, display
import turing_helpers.evaluation, turing_helpers.models, turing_helpers.results
from turing_helpers.data import WELL_CLASSES as CLASSES

torch.manual_seed(0)
torch.set_num_threads(2)
torch.set_flush_denormal(True)  # fading rollouts pass through denormals, ~3x slower

# Numbers quoted in the text are "glued" into it from the cells that compute them (myst-nb).
try:
    from myst_nb import glue
except ImportError:  # e.g. on Colab, where the book's build tools are not installed
    def glue(name, value, display=True):
        pass

SYSTEMS = {"solver": "C0", "convlstm": "C3", "ddpm": "C2"}
LABELS = {"solver": "solver", "convlstm": "ConvLSTM", "ddpm": "DDPM",
          "none": "untreated"}
""")

md(r"""
## The measurements and the summary

Every experiment starts from *developed* solver states of fresh seeds (base seeds 31 and 33,
used nowhere in training, sampler tuning or the tests) on The Well's spacing $\Delta x = 2/128$
and the DDPM's periodic $48^2$ box. Runs that decayed to a uniform state are left out of the
solver's sets (a few gliders and spirals on this small box), so the solver's own uniform
fraction is zero by construction; the fraction kept is printed. The results file was written
by the command it names; its configuration (every size and seed) is stored in it:
""")

code(r"""
results = th.results.load("compare")
config = results["config"]
machine = results["machine"]
print(results["command"], "|", machine["processor"], f"{machine['cpu_count']} CPUs |",
      f"{results['seconds']['total'] / 60:.0f} min")
print({key: config[key] for key in ("size", "start_seed", "other_seed",
                                    "reference_per_class", "starts_per_class", "frames",
                                    "samples_per_class", "ddim_steps")})
print("runs still a pattern after 10 000 steps (the others are left out):",
      {key: round(value, 3) for key, value in results["kept"].items()})
""")

code(r"""
from turing_helpers.evaluation.comparison import summary_table

header = "| measurement | solver | ConvLSTM | DDPM |\n|---|---|---|---|\n"
rows = "\n".join(f"| {r['measurement']} | {r['solver']} | {r['convlstm']} | {r['ddpm']} |"
                 for r in summary_table(results, results["costs"]))
display(Markdown(header + rows))
""", tags=["hide-input"])

md(r"""
The table condenses the sections below, which show the figures behind each row. Read it with
the definitions in mind: "on the attractor" means that a 1000-frame rollout keeps the solver's
long-run pattern statistics, not merely that it stays bounded; a "distance" is the mean
relative change of three pattern statistics ($v$'s standard deviation, the component density,
the dominant wavelength), capped at 1, which is also the score of a pattern that was lost.
""")

md(r"""
## Stability under time

### Forecasts from developed states

The ConvLSTM reads four solver frames of a developed state and rolls out 1000 frames (10 000
time units); the solver continues from the same four frames. Its forecasts are scored with
`th.evaluation.forecast_skill`: VRMSE per window, its mean, median and pooled value
$\sqrt{\sum \text{MSE} / \sum \text{var}}$, beside persistence (repeat the last frame), per class.
""")

code(r"""
stability = results["stability"]
skill, persistence = stability["skill"]["convlstm"], stability["skill"]["persistence"]
H = np.array(skill["horizon"])
fig, axes = plt.subplots(1, 6, figsize=(11, 2.4), sharey=True)
for ax, name in zip(axes, CLASSES):
    model_c, persist_c = skill["per_class"][name], persistence["per_class"][name]
    ax.plot(H, model_c["vrmse"]["median"], color=SYSTEMS["convlstm"], label="ConvLSTM")
    ax.plot(H, persist_c["vrmse"]["median"], color="0.5", label="persistence")
    ax.plot(H, model_c["vrmse"]["pooled"], "--", color=SYSTEMS["convlstm"], lw=0.8, label="ConvLSTM, pooled")
    ax.axhline(1, color="k", lw=0.5)
    ax.set(xscale="log", yscale="log", title=name, xlabel="horizon (frames)")
axes[0].set_ylabel("VRMSE (median)")
axes[0].legend(fontsize=6)
fig.suptitle("ConvLSTM rollouts from developed states against persistence, per class", fontsize=9)
plt.show()
""", tags=["hide-input"])

code(r"""
threshold = "0.8"
rows = []
for name in CLASSES:
    c = skill["per_class"][name]["correlation_time"][threshold]
    h_cross = np.flatnonzero(np.array(skill["per_class"][name]["vrmse"]["median"])
                             >= np.array(persistence["per_class"][name]["vrmse"]["median"]))
    rows.append(f"| {name} | {c['median']:.0f} | {np.min(c['per_window']):.0f}–{np.max(c['per_window']):.0f} | "
                f"{(h_cross[0] + 1) if h_cross.size else '> ' + str(H[-1])} |")
display(Markdown("| class | frames with r ≥ 0.8 (median) | range over starts | first horizon where persistence "
                 "is as good |\n|---|---|---|---|\n" + "\n".join(rows)))
overall = skill["correlation_time"][threshold]
glue("ct_median", overall["median"], display=False)
glue("ct_windows", len(overall["per_window"]), display=False)
""", tags=["hide-input"])

md(r"""
Over all {glue:text}`ct_windows` starts, the ConvLSTM stays correlated with the solver
($r \ge 0.8$) for a median of {glue:text}`ct_median:.0f` frames. A rollout whose field
became constant counts as decorrelated from that frame on (`th.metrics.decorrelation_frame`),
never dropped from the average.

### The climate: does a long rollout stay on the attractor?

Bounded is not enough: a field that fades to uniform is bounded and wrong. The test is the
*climate*, the long-run statistics of the rollout. For each class we average, over frames
500–1000 and over the starts, $v$'s standard deviation, the dominant wavelength and the
component density, and compare them with the solver's from the same starts. The verdict rule:
""")

code(r"""
from turing_helpers.evaluation.comparison import CLIMATE_RULE

for verdict, rule in CLIMATE_RULE.items():
    print(f"{verdict:>17}: {rule}")
""")

code(r"""
record = np.array(stability["record"][1:])
fig, axes = plt.subplots(1, 6, figsize=(11, 2.3), sharey=True)
for ax, name in zip(axes, CLASSES):
    for system in ("solver", "convlstm"):
        v_std = np.maximum(stability[name]["series"][system]["v_std"], 1e-4)  # 0 would vanish
        ax.plot(record, v_std, color=SYSTEMS[system], label=LABELS[system])
    ax.axvspan(config["climate_from"], config["frames"], color="0.93", zorder=0)
    ax.set(title=f"{name}\n{stability[name]['verdict']}", xlabel="frame", yscale="log", ylim=(1e-4, 0.5))
axes[0].set_ylabel("std of v (mean over starts,\nfloored at 1e-4)")
axes[0].legend(fontsize=7)
plt.show()
""", tags=["hide-input"])

code(r"""
rows = []
for name in CLASSES:
    m, s = stability[name]["convlstm"], stability[name]["solver"]
    rows.append(f"| {name} | {s['v_std']:.3f} / {m['v_std']:.3f} | {s['dominant_wavelength']:.3f} / "
                f"{m['dominant_wavelength']:.3f} | {s['component_density']:.1f} / {m['component_density']:.1f} | "
                f"{m['uniform_fraction']:.0%} | **{stability[name]['verdict']}** |")
display(Markdown("| class | std v (solver / ConvLSTM) | wavelength | components per length² | uniform frames "
                 "(ConvLSTM) | verdict |\n|---|---|---|---|---|---|\n" + "\n".join(rows)))
verdicts = [stability[name]["verdict"] for name in CLASSES]
glue("n_faded", verdicts.count("faded"), display=False)
glue("n_attractor", verdicts.count("on the attractor"), display=False)
""", tags=["hide-input"])

md(r"""
{glue:text}`n_faded` of the six classes fade and {glue:text}`n_attractor` stay on the
attractor. The shaded band of the figure is the averaging window. A rollout can be bounded —
its values never leave $[0, 1]$, by construction of the model's output — and still lose the
pattern, which the solver never does from a developed state.

A short live rollout shows what the numbers mean, one start per class, 300 frames:
""")

code(r"""
convlstm = th.models.load_pretrained("convlstm")
# one developed state per class, (6, 2, 48, 48)
starts, _, _ = th.data.developed_patterns(48, 1, seed=config["start_seed"])
models = [th.preset(n) for n in CLASSES]
u, v = th.simulate(models, starts[:, 0].astype(float), starts[:, 1].astype(float),
                   steps=10 * 303, dt=1.0, dx=2 / 128, backend="numba", save_every=10)
truth = np.stack([u, v], axis=2).astype(np.float32)         # (6, 304, 2, 48, 48)
with torch.no_grad():
    context = torch.from_numpy(truth[:, :4])
    rollout = convlstm.rollout(context, 300).numpy()        # (6, 300, 2, 48, 48)
""")

code(r"""
fig, axes = plt.subplots(2, 6, figsize=(10, 3.6))
for j, name in enumerate(CLASSES):
    for i, (field, label) in enumerate(((truth[j, -1, 1], "solver"), (rollout[j, -1, 1], "ConvLSTM"))):
        axes[i, j].imshow(field, cmap="magma", vmin=0, vmax=0.45)
        axes[i, j].set(xticks=[], yticks=[], title=name if i == 0 else "")
        if j == 0:
            axes[i, j].set_ylabel(f"{label}\nframe 300")
plt.tight_layout()
plt.show()
""", tags=["hide-input"])

md(r"""
### The DDPM's samples under the true dynamics

The DDPM has no dynamics of its own, but its samples can be handed to the solver. If a sample
were a developed state, the solver would move it as little as it moves its own developed
states. We advance both by 10 000 time steps and record how far $v$ moves from its start
(VRMSE) and how fast it still moves (VRMSE between records 100 steps apart):
""")

code(r"""
settling = results["settling"]
times = np.array(settling["time"])
fig, axes = plt.subplots(1, 6, figsize=(11, 2.3), sharey=True)
for ax, name in zip(axes, CLASSES):
    for system, style in (("solver", "-"), ("ddpm", "-")):
        ax.plot(times[1:], settling[name][system]["rate"], style, color=SYSTEMS[system], label=LABELS[system])
    settle = settling[name]["settle_time"]
    if np.isfinite(settle):
        ax.axvline(settle, color=SYSTEMS["ddpm"], lw=0.6, ls=":")
    ax.set(title=name, xlabel="solver steps", xscale="log", yscale="log")
axes[0].set_ylabel("VRMSE per 100 steps")
axes[0].legend(fontsize=7)
plt.show()
""", tags=["hide-input"])

code(r"""
def settled(name):
    t = settling[name]["settle_time"]
    return "still moving at the end" if not np.isfinite(t) else f"{t:.0f}"

rows = [f"| {name} | {settling[name]['ddpm']['moved'][10]:.3f} | {settling[name]['solver']['moved'][10]:.3f} | "
        f"{settled(name)} | {settling[name]['ddpm']['rate'][-1]:.1e} / {settling[name]['solver']['rate'][-1]:.1e} | "
        f"{settling[name]['ddpm']['distance'][-1]:.2f} / {settling[name]['solver']['distance'][-1]:.2f} |"
        for name in CLASSES]
display(Markdown(f"| class | DDPM sample moved in {times[10]:.0f} steps | solver state moved | steps from which on "
                 "it moves like a solver state | rate at the end (DDPM / solver) | set distance of the "
                 "statistics after 10 000 steps (DDPM / solver) |\n"
                 "|---|---|---|---|---|---|\n" + "\n".join(rows)))
""", tags=["hide-input"])

md(r"""
The dotted line marks the time from which on a class's samples never again move faster than
1.5 times the solver's own developed states (the median rate over the run) plus a floor of
0.005 — without the floor a class whose solver states stand still (bubbles) could never
settle. Read it with care: gliders and spirals never stand still, so for them the test is
weak, and the rate at the end (fifth column) shows how far from the solver's own rest the
slow classes still are. The last column is a *set* distance: the mean relative difference of
the set's v std, component density and set wavelength from the solver's starting set — the
same three statistics as the per-field distance used below, but of whole sets. Small values
say the samples kept their class's statistics under the true dynamics; they do not prove
that each sample lies in the basin of a developed state.

## Stability under perturbation: one experiment for all three

The same experiment for all three systems. Take four developed patterns per class, perturb
them — Gaussian noise of amplitude 0.02 to 0.4 added to $u$ and $v$ (clipped to $[0, 1]$), or
a $16^2$ square erased to the state $(1, 0)$ — and let each system act:

- the **solver** evolves the perturbed state for 100 frames (1000 time units);
- the **ConvLSTM** rolls out 100 frames from it (held for its four context frames);
- the **DDPM** relaxes it in its own way: noise to level $t = 300$ (of 1000) and denoise back
  ({cite:t}`meng2022sdedit`; `DDPM.denoise_from`).

Recovery is the distance of the result's statistics to the unperturbed pattern's; at
amplitude 0 it is each system's own drift from an unperturbed pattern.
""")

code(r"""
rows = results["perturbation"]["rows"]
fig, ax = plt.subplots(figsize=(6.2, 3.6))
for system in ("none", "solver", "convlstm", "ddpm"):
    noise = [r for r in rows if r["kind"] == "noise"]
    size = np.array([np.mean(r["size"]) for r in noise])
    amplitude = np.array([r["amplitude"] for r in noise])
    levels = np.unique(amplitude)
    x = [size[amplitude == a].mean() for a in levels]
    y = [np.mean(np.concatenate([np.atleast_1d(r[system]) for r in noise if r["amplitude"] == a])) for a in levels]
    color = SYSTEMS.get(system, "0.5")
    ax.plot(x, y, marker="o", color=color, ls="-" if system != "none" else ":", label=LABELS[system], ms=4)
    patch = [r for r in rows if r["kind"] == "patch"]
    offset = {"none": -0.006, "solver": -0.002, "convlstm": 0.002, "ddpm": 0.006}[system]  # keep markers apart
    ax.plot(np.mean([np.mean(r["size"]) for r in patch]) + offset,
            np.mean(np.concatenate([np.atleast_1d(r[system]) for r in patch])), "s", color=color, ms=7, mfc="none")
ax.set(xlabel="size of the perturbation: RMS change of v", ylabel="distance to the unperturbed pattern",
       title="circles: noise; squares: an erased 16² patch", ylim=(0, 1.02))
ax.legend(fontsize=7)
plt.show()
""", tags=["hide-input"])

code(r"""
def recovery(kind, amplitude, system):
    chosen = [r for r in rows if r["kind"] == kind and (amplitude is None or r["amplitude"] == amplitude)]
    return float(np.mean(np.concatenate([np.atleast_1d(r[system]) for r in chosen])))

for system in ("none", "solver", "convlstm", "ddpm"):
    for a, key in ((0.0, "zero"), (0.1, "mid"), (0.4, "big")):
        glue(f"rec_{system}_{key}", recovery("noise", a, system), display=False)
    glue(f"rec_{system}_patch", recovery("patch", None, system), display=False)
big = [r for r in rows if r["kind"] == "noise" and r["amplitude"] == 0.4]
glue("solver_lost_big", float(np.mean(np.concatenate([np.atleast_1d(r["solver"]) for r in big]) == 1.0)),
     display=False)
""", tags=["remove-cell"])

md(r"""
A system *restores* a pattern where its curve lies below the untreated one (dotted): the
distance after acting is smaller than before. Each system's value at size 0 is its own drift
from an unperturbed pattern: {glue:text}`rec_solver_zero:.2f` for the solver (the moving
classes move), {glue:text}`rec_convlstm_zero:.2f` for the ConvLSTM (held on a static
context, it changes even an unperturbed pattern), {glue:text}`rec_ddpm_zero:.2f` for the DDPM.
At noise amplitude 0.1 the untreated distance is {glue:text}`rec_none_mid:.2f`; after the
solver it is {glue:text}`rec_solver_mid:.2f`, after the DDPM {glue:text}`rec_ddpm_mid:.2f`. At
0.4 (untreated {glue:text}`rec_none_big:.2f`) the solver ends at
{glue:text}`rec_solver_big:.2f`: {glue:text}`solver_lost_big:.0%` of its fields have
decayed to the uniform state (distance 1). That is the true dynamics' answer, not a failure to
measure: clipped noise adds $v$ where it was near 0 and removes $u$, and on these parameters,
where $(1, 0)$ is the only stable homogeneous state and no class is Turing-unstable, a
pattern knocked far enough does not come back. So this score measures how close a system
stays to the *original pattern's* statistics, not how faithfully it follows the equations:
the DDPM, which was trained to remove noise, scores {glue:text}`rec_ddpm_big:.2f` because it
regenerates a pattern of the class — and relaxing from $t = 300$ ($\sigma_t \approx 0.46$ in
its units) is itself a large perturbation, so it regenerates rather than repairs — and the
ConvLSTM scores {glue:text}`rec_convlstm_big:.2f` because it keeps a faded version of what
it was given. The erased square changes these statistics little (untreated
{glue:text}`rec_none_patch:.2f`), so this distance is a weak test of regrowth; a measure local
to the patch would be sharper. A live example, one maze with noise of amplitude 0.2:
""")

code(r"""
ddpm = th.models.load_pretrained("ddpm")
maze = starts[CLASSES.index("maze")][None]                                    # (1, 2, 48, 48)
noisy = np.clip(maze + 0.2 * rng.standard_normal(maze.shape), 0, 1).astype(np.float32)
u, v = th.simulate(th.preset("maze"), noisy[:, 0].astype(float), noisy[:, 1].astype(float), steps=1000,
                   dt=1.0, dx=2 / 128, backend="numba")
with torch.no_grad():
    rolled = convlstm.rollout(torch.from_numpy(np.repeat(noisy[:, None], 4, axis=1)), 100)[:, -1].numpy()
relaxed = ddpm.denoise_from(noisy, "maze", config["ddpm_t_start"], seed=0)
panels = {"developed": maze[0, 1], "perturbed": noisy[0, 1], "solver, 100 frames": v[0],
          "ConvLSTM, 100 frames": rolled[0, 1], f"DDPM from t = {config['ddpm_t_start']}": relaxed[0, 1]}
fig, axes = plt.subplots(1, 5, figsize=(10, 2.3))
for ax, (title, field) in zip(axes, panels.items()):
    ax.imshow(field, cmap="magma", vmin=0, vmax=0.45)
    ax.set(xticks=[], yticks=[], title=title)
plt.show()
""", tags=["hide-input"])

md(r"""
## Linear stability, learned

Around the homogeneous state $(1, 0)$ the exact one-frame map (10 time units) multiplies a
Fourier mode of wavenumber $q$ by $e^{10\lambda(q)}$, with $\lambda$ the eigenvalues of
$J - q^2 D$ (chapter 1). At $(1, 0)$ the Jacobian is $\mathrm{diag}(-F, -(F + k))$, so the
state is stable for every $F, k > 0$ and the two branches are $\lambda_u = -F - D_u q^2$ and
$\lambda_v = -(F + k) - D_v q^2$: the exact answer is a **decaying low-pass filter** whose
shape in $q$ is set by the diffusivities and whose level is set, class by class, by $F$ and
$k$. (None of The Well's classes has a Turing-unstable homogeneous state at all, chapter 1.)
The ConvLSTM was trained on frames of the explicit Euler solver (5-point Laplacian,
$\Delta t = 1$), whose one-frame map is close to this one at the resolved scales (exercise
below); the figure shows both. `th.evaluation.linear_response` measures the same $2 \times 2$ matrix per
mode for any map by finite differences; on the exact solver it reproduces $e^{10\lambda(q)}$ to
$10^{-6}$ (the package's tests check all six classes). A quick live check:
""")

code(r"""
def solver_frame(name):
    def step(x):   # (B, 2, n, n) -> 10 time units later (ETDRK4, dt = 1)
        u, v = th.simulate(th.preset(name), x[:, 0], x[:, 1], steps=10, dt=1.0,
                           dx=2 / 128, method="etdrk4")
        return np.stack([u, v], axis=1)
    return step

modes = np.arange(0, 25)
q = 2 * np.pi * modes / (48 * 2 / 128)
measured = th.evaluation.linear_response(solver_frame("maze"), (1.0, 0.0), 48, 2 / 128,
                                         modes)
exact = np.exp(10 * th.preset("maze").dispersion(q, (1.0, 0.0)))
difference = np.max(np.abs(measured - exact) / np.abs(exact))
print(f"{len(modes)} modes; equal to exp(10 λ(q)) to 1e-6: {difference < 1e-6}")
""", tags=["nbval-check-output"])

md(r"""
The ConvLSTM is one network for all six classes; at a homogeneous state it cannot see which
class it is in (the context is uniform), so it can match at most one of the six curves. For the
DDPM the analogous question is which scales one reverse step amplifies: the ratio of the
radial power after one DDIM step to before it, on developed patterns noised to level $t$
(`th.evaluation.spectral_gain`), for several noise levels $\sigma_t = \sqrt{1 - \bar\alpha_t}$.
One figure, three systems, gain against wavenumber:
""")

code(r"""
gains = results["gains"]
q_modes, q_shells = np.array(gains["q_modes"]), np.array(gains["q_shells"])
fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.5))
ax = axes[0]
for name in CLASSES:
    exact = np.array(gains["exact"][name])                                  # (modes, 2)
    ax.plot(q_modes, exact[:, 0], color="0.6", lw=0.8)
    ax.plot(q_modes, np.array(gains["euler"][name])[:, 0], ":", color="0.3", lw=0.8)
ax.plot([], [], color="0.6", lw=0.8, label="exact e^{10λ(q)}, larger branch, six classes")
ax.plot([], [], ":", color="0.3", lw=0.8, label="Euler solver's frame map (training data)")
learned = np.array(gains["convlstm_finite"])
amplitude = gains["finite_amplitude"]
ax.plot(q_modes, learned[:, 0], "o", color=SYSTEMS["convlstm"], ms=3, label=f"ConvLSTM (amplitude {amplitude:g}), larger")
ax.plot(q_modes, learned[:, 1], "x", color=SYSTEMS["convlstm"], ms=3, label="ConvLSTM, smaller eigenvalue")
ax.plot(q_modes, np.array(gains["convlstm"])[:, 0], "-", color=SYSTEMS["convlstm"], lw=0.8,
        label="ConvLSTM (amplitude 1e-6): absorbed by the clip")
ax.axhline(1, color="k", lw=0.5)
ax.set(xlabel="q (rad / length)", ylabel="gain per frame (10 time units)", title="around (1, 0): solver vs ConvLSTM")
ax.legend(fontsize=6.5)
ax = axes[1]
sigma = np.array(gains["ddpm_sigma"])
name = "spots"
ddpm_gain = np.array(gains["ddpm"][name])                                   # (levels, shells)
colors = plt.cm.viridis(np.linspace(0, 1, len(sigma)))
for g, s, color in zip(ddpm_gain, sigma, colors):
    ax.plot(q_shells[1:], g[1:], color=color, lw=1, label=f"σ = {s:.2f}")
ring = gains["chain"][name]["ring_shell"] * 2 * np.pi / (48 * 2 / 128)  # the class's wavenumber
ax.axvline(ring, color="k", lw=0.6, ls=":")
ax.axhline(1, color="k", lw=0.5)
ax.set(xlabel="q (rad / length)", ylabel="power gain of one DDIM step", yscale="log",
       title=f"DDPM ({name}): one reverse step, by noise level")
ax.legend(fontsize=5.5, ncol=2)
plt.tight_layout()
plt.show()
""", tags=["hide-input"])

code(r"""
exact_all = np.array([np.array(gains["exact"][n])[:, 0] for n in CLASSES])   # (classes, modes)
tiny = np.abs(np.array(gains["convlstm"])).max()
glue("lr_tiny", float(tiny), display=False)
glue("lr_finite_min", float(learned.min()), display=False)
glue("lr_finite_max", float(learned.max()), display=False)
glue("lr_exact_high", float(exact_all[:, -1].max()), display=False)
glue("lr_exact_low", float(exact_all[:, 0].min()), display=False)
print(f"ConvLSTM at amplitude 1e-6: largest |gain| {tiny:.2g}; at {amplitude:g}: gains in "
      f"[{learned.min():.3f}, {learned.max():.3f}]; exact at the grid scale: at most {exact_all[:, -1].max():.3f}")
""", tags=["hide-input"])

md(r"""
Two findings. For perturbations of $10^{-6}$ the network's gain is
{glue:text}`lr_tiny:.2g` at every $q$: $(1, 0)$ sits on the corner of the model's output clip
$[0, 1]^2$, and the network's own, unclipped increment there points *out* of the box (it
would push $u$ above 1 and $v$ below 0), so the clip absorbs every small perturbation. The state
is a fixed point of the model only thanks to the clip. For perturbations of amplitude
$10^{-2}$, above that drift, the gains lie between {glue:text}`lr_finite_min:.2f` and
{glue:text}`lr_finite_max:.2f` at every wavenumber:
the network passes every scale almost unchanged, where the exact map damps the grid scale
to at most {glue:text}`lr_exact_high:.3f` per frame. The ConvLSTM has not learned the
low-pass filter; its decay at $(1, 0)$ is the clip's, not diffusion's. 

The DDPM's gain (right) is of another kind: it is the power ratio across one reverse DDIM
step $t \to t - 10$ (one step of the 100-step schedule; a bigger step would give bigger
ratios), and it depends on the noise level $\sigma_t$, not on $(F, k)$. At high noise every
scale passes almost unchanged; in the last steps (small $\sigma_t$) the step keeps a band of
intermediate wavenumbers and strongly damps the grid scale, where the remaining noise sits.
Whether the kept band is centred on the class's ring (dotted) differs from class to class;
it is not a growing mode, and there is no Turing instability here to compare it with. Where
along the sampling chain does each class's ring emerge? We follow 100-step chains and record
the ratio of the power at the ring to the mean power over all wavenumbers; the ring counts
as emerged when it exceeds 2:
""")

code(r"""
chains = gains["chain"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for name in CLASSES:
    chain = chains[name]
    axes[0].plot(chain["sigma"], chain["ring_ratio"], label=f"{name}: σ = {chain['emergence_sigma']:.2f}")
    axes[1].plot(np.arange(len(chain["sigma"])), chain["pde_residual"], label=name)
axes[0].axhline(2, color="k", lw=0.5, ls=":")
axes[0].set(xlabel="noise level σ_t (sampling runs right to left)", ylabel="ring power / mean power",
            xlim=(1.0, 0.0), yscale="log", title="where the ring emerges")
axes[0].legend(fontsize=6.5)
axes[1].set(xlabel="DDIM step", ylabel="PDE residual (1/time)", yscale="log",
            title="PDE residual along the sampling chain")
plt.tight_layout()
plt.show()
""", tags=["hide-input"])

md(r"""
The classes' rings emerge at noise levels of their own (legend). With this criterion the
order is *not* coarse to fine: the finer classes (maze, spots, worms) cross the threshold
first. The criterion compares the ring with the mean of all shells, not each scale with the
noise at that scale, so it is not the per-scale signal-to-noise test behind "diffusion is
spectral autoregression" ({cite:t}`dieleman2024spectral`); the exercise-sized follow-up is to
compute that ratio per shell from the chain's spectra.

### The PDE residual, and why it is no score on its own

How far a field is from satisfying the steady equations, $\lVert \partial_t (u, v) \rVert$,
is small for a developed pattern and large for noise. A uniform field *at a homogeneous steady
state* such as $(1, 0)$ has residual zero, so a collapse onto it would look like success; a
uniform field anywhere else does not. So the residual is read beside the uniform fraction:
""")

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(10, 3.0))
for name, color in zip(CLASSES, plt.cm.tab10(np.arange(6))):
    for system, style in (("solver", "-"), ("convlstm", "--")):
        axes[0].plot(record, stability[name]["series"][system]["pde_residual"], style, color=color, lw=1)
        if system == "convlstm":
            axes[1].plot(record, stability[name]["series"][system]["uniform_fraction"], style, color=color,
                         lw=1, label=name)
axes[0].plot([], [], "k-", label="solver"); axes[0].plot([], [], "k--", label="ConvLSTM")
axes[0].set(xlabel="frame", ylabel="PDE residual (1/time)", yscale="log", title="residual over rollout time")
axes[0].legend(fontsize=7)
axes[1].set(xlabel="frame", ylabel="uniform fraction", title="ConvLSTM fields that are uniform", ylim=(-0.02, 1.02))
axes[1].legend(fontsize=6.5)
plt.tight_layout()
plt.show()
""", tags=["hide-input"])

md(r"""
In most classes the ConvLSTM's faded fields keep a residual *larger* than the solver's
developed states: they are uniform but not at $(1, 0)$ — the network holds states that the
equations would move. Where its residual does fall to zero (the maze), the right panel shows
why: every field there has collapsed onto $(1, 0)$.

## Complexity of the patterns

Per class, each system's fields are compared with a reference set of developed solver
patterns (base seed 31) by `th.evaluation.compare_patterns`: the relative error of the set's
mean of each statistic, with a bootstrap 95% interval. Beside the models: a second set of
solver patterns (base seed 33, the seed-to-seed noise floor), the solver's own states after the
1000-frame run, and the phase-randomised surrogate of the second solver set, which has its power
spectrum exactly. The statistics include the **compression complexity**
(`th.evaluation.compression_complexity`): the zlib-compressed size of the 8-bit field, scaled so
that a uniform field scores 0 and white noise 1, after {cite:t}`adamatzky2016complexity`.
""")

code(r"""
complexity = results["complexity"]
sources = {"solver": "solver (seed 33)", "solver_1000_frames": "solver, 1000 frames", "convlstm": "ConvLSTM, 1000 frames",
           "ddpm": "DDPM samples", "surrogate": "surrogate"}
statistics = ("compression_complexity", "component_density", "dominant_wavelength", "euler_density")
fig, axes = plt.subplots(1, 4, figsize=(11.5, 3.0), sharey=True)
for ax, statistic in zip(axes, statistics):
    for k, (source, label) in enumerate(sources.items()):
        y = np.arange(6) + 0.14 * (k - 2)
        entries = [complexity[name][source]["comparison"][statistic] for name in CLASSES]
        error = np.array([e["error"] for e in entries])
        low = np.array([e["interval"][0] for e in entries])
        high = np.array([e["interval"][1] for e in entries])
        ax.errorbar(error, y, xerr=[error - low, high - error], fmt="o", ms=3, lw=0.8, label=label,
                    color=["C0", "C9", "C3", "C2", "0.5"][k])
    ax.axvline(0, color="k", lw=0.5)
    ax.set(title=statistic.replace("_", " "), xlabel="relative error vs solver (symlog)", xscale="symlog")
    ax.set_xscale("symlog", linthresh=0.1)
axes[0].set_yticks(range(6), CLASSES)
axes[0].invert_yaxis()
axes[-1].legend(fontsize=6, loc="lower right")
fig.suptitle("points missing: no value (every field of the set uniform)", fontsize=7, y=0.02)
plt.tight_layout()
plt.show()
""", tags=["hide-input"])

code(r"""
def cell(entry):
    low, high = entry["interval"]
    return f"{entry['error']:+.0%} [{low:+.0%}, {high:+.0%}]"

rows = [f"| {name} | {complexity[name]['reference']['compression_complexity']:.3f} | " + " | ".join(
        f"{complexity[name][s]['means']['compression_complexity']:.3f}" for s in ("convlstm", "ddpm", "surrogate"))
        + " | " + " | ".join(cell(complexity[name][s]["comparison"]["component_density"]) for s in
                             ("solver", "convlstm", "ddpm", "surrogate")) + " |" for name in CLASSES]
display(Markdown("| class | complexity: solver | ConvLSTM | DDPM | surrogate | component density error: solver "
                 "(seed 33) | ConvLSTM | DDPM | surrogate |\n|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)))
""", tags=["hide-input"])

md(r"""
An interval that holds zero says the two sets cannot be told apart at this sample size (twelve
fields per class): the second solver set shows how wide that is for each class. A bar far from
zero with a narrow interval is a real difference. The surrogate shares the reference's
spectrum but not its shapes: it is more complex (its phases are random) and its component
counts are wrong, which is why morphology, not the spectrum, is the test of a generated
pattern. The compression complexity separates the classes: the sparse, regular bubbles compress
best; the other classes score alike; a faded field scores near 0.

## Complexity of the systems

What each costs, measured side by side in one run of the benchmark, each system in a fresh
process so that its memory peak is its own; parameters and training time from the shipped
checkpoints' records:
""")

code(r"""
costs = results["costs"]
rows = []
for system in ("solver", "convlstm", "ddpm"):
    c = costs[system]
    rows.append(f"| {LABELS[system]} | {c['parameters']:,} | {c['training_seconds'] / 60:.0f} min | "
                f"{c['seconds_per_frame'] * 1e3:.2f} ms | {c['seconds_per_pattern']:.2f} s | {c['sequential_steps']:,} | "
                f"{c['mib_per_pattern']:.2f} MiB | {c['process_mib']:.0f} MiB |")
display(Markdown("| system | parameters | training (2-core CPU) | CPU time per frame / step | per developed pattern | "
                 "sequential steps per pattern | working memory per pattern | process peak |\n"
                 "|---|---|---|---|---|---|---|---|\n"
                 + "\n".join(rows)))
ratio = costs["ddpm"]["seconds_per_pattern"] / costs["solver"]["seconds_per_pattern"]
glue("cost_ratio_ddpm_solver", ratio, display=False)
glue("cost_ratio_convlstm_solver", costs["convlstm"]["seconds_per_pattern"] / costs["solver"]["seconds_per_pattern"],
     display=False)
for system in ("convlstm", "ddpm"):
    glue(f"training_{system}", costs[system]["training_seconds"] / 60, display=False)
    glue(f"parameters_{system}", f"{costs[system]['parameters']:,}", display=False)
""", tags=["hide-input"])

md(r"""
A frame of the solver is ten explicit Euler steps; of the ConvLSTM one network step; of the
DDPM one denoising step (a developed pattern: 10 000 solver steps, 1000 ConvLSTM frames, 100
DDIM steps). Per pattern the DDPM costs {glue:text}`cost_ratio_ddpm_solver:.0f`× the compiled
solver on this CPU, and 1000 ConvLSTM frames cost {glue:text}`cost_ratio_convlstm_solver:.0f`×
as much as 1000 solver frames — though the ConvLSTM needs four solver frames to start and, as
measured above, does not end on a developed pattern. The times exclude training:
{glue:text}`training_convlstm:.0f` and {glue:text}`training_ddpm:.0f` minutes on a two-core
CPU. The equations are four numbers; the networks have {glue:text}`parameters_convlstm` and
{glue:text}`parameters_ddpm` parameters, and they only imitate what they were shown.

## What the numbers support, and what they do not
""")

code(r"""
settle = np.array([settling[name]["settle_time"] for name in CLASSES])
glue("settle_min", float(np.nanmin(settle)), display=False)
glue("settle_max", float(np.nanmax(settle)), display=False)
glue("settle_never", int(np.sum(~np.isfinite(settle))), display=False)
glue("settle_distance_max", float(max(settling[n]["ddpm"]["distance"][-1] for n in CLASSES)), display=False)
glue("uniform_convlstm", float(np.mean([stability[n]["convlstm"]["uniform_fraction"] for n in CLASSES])),
     display=False)
ddpm_density = [abs(complexity[n]["ddpm"]["comparison"]["component_density"]["error"]) for n in CLASSES]
glue("ddpm_density_max", float(max(ddpm_density)), display=False)
glue("solver_density_max", float(max(abs(complexity[n]["solver"]["comparison"]["component_density"]["error"])
                                     for n in CLASSES)), display=False)
persistence_ct = persistence["correlation_time"]["0.8"]
glue("ct_persistence", persistence_ct["median"], display=False)
glue("ct_censored", int(np.sum(np.array(overall["per_window"]) == H[-1])), display=False)
""", tags=["remove-cell"])

md(r"""
- **Stability under time.** The solver is the reference. From developed states of fresh seeds
  the ConvLSTM stays correlated with the solver for a median of {glue:text}`ct_median:.0f`
  frames ({glue:text}`ct_censored` of the windows reach the 100-frame horizon), but
  persistence, which never moves, stays correlated longer (median
  {glue:text}`ct_persistence:.0f`), and per class the model beats persistence's VRMSE only in
  the moving classes, and only early (table above). Over 1000 frames {glue:text}`n_faded` of
  the six classes fade (on average {glue:text}`uniform_convlstm:.0%` of the last 500 frames are
  uniform): bounded, but off the attractor. This is chapter 4's freezing, measured per class;
  it is what the project's ConvLSTM work (longer unrolls, noise injection, windows from
  developed states) has to move.
- **The DDPM's samples** are not steady states pixel by pixel. Handed to the true dynamics, they
  keep their class's statistics (set distance after 10 000 steps at most
  {glue:text}`settle_distance_max:.2f`), and the slow classes calm down within thousands of
  steps ({glue:text}`settle_never` classes still move faster than the solver's own states at the
  end). Close in statistics, not a proof that each sample lies in a developed state's basin.
- **Under perturbation** the outcome depends on what is asked. Under the true dynamics a
  strongly perturbed pattern of these classes dies — no class is Turing-unstable, so nothing
  regrows from noise — while the DDPM regenerates a pattern of the class and the ConvLSTM keeps
  a faded copy. A distance to the original statistics rewards the DDPM and even the ConvLSTM
  over the equations there; it measures the models' preference for their training
  distribution, not fidelity to the dynamics.
- **Linear response.** The exact map around $(1, 0)$ is a low-pass filter. The ConvLSTM did not
  learn it: small perturbations are absorbed by its clip, larger ones pass at almost every
  scale. The DDPM's per-step gain is no dispersion relation — it depends on the noise level,
  not on $(F, k)$ — and the order in which the rings emerge, by our criterion, is not coarse to
  fine.
- **Complexity.** By these statistics the DDPM's patterns are close to the solver's, though not
  always within its seed-to-seed noise (component density within
  {glue:text}`ddpm_density_max:.0%` per class, against up to {glue:text}`solver_density_max:.0%`
  between two solver sets); the ConvLSTM's long-run fields are not, because they faded. The
  costs differ by orders of magnitude, and the cheapest system is the one that knows the
  equations.
- **What the numbers do not say.** Twelve fields per class on a 48² box (four to six
  wavelengths; decayed runs left out) make intervals of tens of percent for the morphology of
  the sparse classes, and patterns this small are fragile; each model is one training run; the
  perturbation distance summarises three statistics and cannot tell a restored pattern from
  another pattern with the same statistics.

## Exercises

```{exercise}
:label: ch6-ex-noise-floor

How large is the seed-to-seed noise floor? Compare two independent sets of 16 developed
solver worms (`th.data.developed_patterns(48, 16, seed=...)` with two seeds) with
`th.evaluation.compare_patterns`. Which statistics' intervals hold zero? Repeat with 4 fields
per set: how wide do the intervals become?
```

```{solution-start} ch6-ex-noise-floor
:class: dropdown
```
""")

code(r"""
for per_set in (16, 4):
    a, _, _ = th.data.developed_patterns(48, per_set, seed=51, classes=("worms",))
    b, _, _ = th.data.developed_patterns(48, per_set, seed=52, classes=("worms",))
    result = th.evaluation.compare_patterns(a[:, 1], b[:, 1], 2 / 128, resamples=300)
    print(f"{per_set} fields per set:")
    for name, e in result.items():
        low, high = e["interval"]
        verdict = "holds 0" if low <= 0 <= high else "EXCLUDES 0"
        print(f"  {name:24s} error {e['error']:+.3f}  [{low:+.2f}, {high:+.2f}]  {verdict}")
""")

md(r"""
Both sets are the solver's, so the intervals should hold zero; the last column says which do.
They are not independent tests (the Euler density of a spot pattern *is* its component
density), and a bootstrap on four fields gives intervals that are too narrow, so a miss at
four fields per set says little. With four fields per set they are about twice as wide as with
sixteen (they shrink as $1/\sqrt{n}$): a model that is "3% off" on four fields has shown
nothing.

```{solution-end}
```

```{exercise}
:label: ch6-ex-euler-response

`th.evaluation.linear_response` works for any map. Measure the explicit Euler solver's one-frame
map (ten steps of `dt = 1`, 5-point Laplacian) around $(1, 0)$ for the maze class on a $48^2$
grid and compare it with the exact $e^{10\lambda(q)}$. Where do they differ, and why?
```

```{solution-start} ch6-ex-euler-response
:class: dropdown
```
""")

code(r"""
def euler_frame(x):
    u, v = th.simulate(th.preset("maze"), x[:, 0], x[:, 1], steps=10, dt=1.0,
                       dx=2 / 128)
    return np.stack([u, v], axis=1)

euler = th.evaluation.linear_response(euler_frame, (1.0, 0.0), 48, 2 / 128, modes).real
exact = np.exp(10 * th.preset("maze").dispersion(q, (1.0, 0.0))).real
difference = np.abs(euler[:, 0] / exact[:, 0] - 1)
print("relative difference, larger branch, by mode:", np.round(difference, 3))
""")

md(r"""
At small $q$ the two agree; towards the grid scale Euler's gain $(1 + \Delta t\,\mu(q))^{10}$,
with $\mu$ built from the 5-point stencil's symbol $-(4/\Delta x^2)(\sin^2(q_x\Delta x/2) +
\sin^2(q_y\Delta x/2))$ instead of $-q^2$, departs from $e^{10\lambda}$: the discrete Laplacian
damps the finest modes less than the continuum does, and the explicit step adds its own error.
The ConvLSTM was trained on frames of this Euler map, which is why the figure of this
section shows it beside the continuum's $e^{10\lambda}$.

```{solution-end}
```

```{exercise}
:label: ch6-ex-relaxation-depth

The DDPM's relaxation has a knob: the noise level $t$ from which it denoises. Perturb four
developed spots with noise of amplitude 0.2 and relax them from $t = 100, 300, 600$. Measure
the recovery distance (`th.evaluation.comparison.recovery_distance`). What does a small $t$
fail to do, and what does a large $t$ cost?
```

```{solution-start} ch6-ex-relaxation-depth
:class: dropdown
```
""")

code(r"""
from turing_helpers.evaluation.comparison import recovery_distance

spots4, _, _ = th.data.developed_patterns(48, 4, seed=config["start_seed"],
                                          classes=("spots",))
noise = 0.2 * rng.standard_normal(spots4.shape)
noisy4 = np.clip(spots4 + noise, 0, 1).astype(np.float32)
print("untreated:", recovery_distance(noisy4, spots4, 2 / 128).round(2))
for t in (100, 300, 600):
    relaxed4 = ddpm.denoise_from(noisy4, "spots", t, seed=0)
    error = np.mean(th.metrics.vrmse(relaxed4[:, 1], spots4[:, 1]))
    print(f"t = {t}:", recovery_distance(relaxed4, spots4, 2 / 128).round(2),
          f"VRMSE to the original {error:.2f}")
""")

md(r"""
Compare the printed rows. From a small $t$ the model removes only the finest noise and leaves
the rest, so the distance stays near the untreated one; from a large $t$ it makes a good
pattern of the class (small distance), but no longer *this* pattern — the VRMSE to the
original grows with $t$. The noise level trades fidelity for restoration.

```{solution-end}
```
""")


def main():
    for i, cell in enumerate(CELLS):
        cell.id = f"ch6-{i:02d}"  # stable ids: tests/nbval_expected/compare.json is keyed by them
    notebook = nbformat.v4.new_notebook(cells=CELLS)
    notebook.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}}
    path = Path(__file__).resolve().parent.parent / "book" / "compare.ipynb"
    nbformat.write(notebook, path)
    print(f"wrote {path} ({len(CELLS)} cells)")


if __name__ == "__main__":
    main()
