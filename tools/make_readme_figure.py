"""Draw the README's figure: The Well's six Gray-Scott classes grown by the package's solver.

    .venv/bin/python tools/make_readme_figure.py   # writes book/figures/gray_scott_hero.png

The Well's grid (128² periodic, dx = 2/128), dt = 1, 10,000 explicit-Euler steps (The
Well's time span) from random Fourier patches (``th.random_fourier``, seed 3).
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import turing_helpers as th  # noqa: E402
from turing_helpers.plotting import show_field  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "book" / "figures" / "gray_scott_hero.png"


def main():
    names = list(th.WELL_PARAMETERS)
    models = [th.preset(name) for name in names]
    u0, v0 = th.random_fourier(128, seed=3, batch=len(models))
    _, v = th.simulate(models, u0, v0, steps=10_000, dt=1.0, dx=2 / 128, backend="numba")
    fig, axes = plt.subplots(1, 6, figsize=(12, 2.3), layout="constrained")
    for ax, name, model, field in zip(axes, names, models, v):
        show_field(ax, field, vmin=0, vmax=0.5)
        ax.set_title(f"{name}  (F={model.F:g}, k={model.k:g})", fontsize=8)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
