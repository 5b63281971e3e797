"""Figures and animations for the book (matplotlib only; takes plain arrays).

Conventions: the autocatalyst v is the field shown by default (it is where the pattern
lives); images are drawn with ``origin="lower"`` in physical coordinates when a grid
spacing is given; animations are HTML (``to_jshtml``) so they play in the static book.
"""
from __future__ import annotations

import numpy as np

from .backend import to_numpy

__all__ = ["FIELD_CMAP", "STYLE", "show_field", "field_grid", "animate_fields"]

FIELD_CMAP = "magma"
# the book's figures: a little larger than matplotlib's default, no top and right frame
STYLE = {"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False}


def show_field(ax, field, dx: float | None = None, title: str | None = None, cmap: str = FIELD_CMAP,
               vmin=None, vmax=None, colorbar: bool = False):
    """Draw one field (shape (Ny, Nx)) on ``ax``; axes in length units when ``dx`` is given."""
    field = to_numpy(field)
    extent = None if dx is None else (0, field.shape[1] * dx, 0, field.shape[0] * dx)
    image = ax.imshow(field, origin="lower", cmap=cmap, extent=extent, vmin=vmin, vmax=vmax,
                      interpolation="nearest")
    if title:
        ax.set_title(title, fontsize=10)
    if dx is None:
        ax.set_xticks([]), ax.set_yticks([])
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return image


def field_grid(fields, titles=None, ncols: int | None = None, size: float = 2.2, dx=None, row_labels=None,
               **kwargs):
    """A grid of fields; returns the figure.

    fields: a sequence or array (n, Ny, Nx), laid out ``ncols`` to a row (default: one row),
    or an array (rows, cols, Ny, Nx) laid out as it stands (the book's per-class figures:
    a row per system or time, a column per class). titles: one per column (or per panel of a
    flat sequence); row_labels: one per row, written beside the first column. Further keyword
    arguments (``cmap``, ``vmin``, ``vmax``, ``colorbar``) go to :func:`show_field`, so every
    panel shares one colour scale when ``vmin`` and ``vmax`` are given.
    """
    import matplotlib.pyplot as plt

    if not isinstance(fields, (list, tuple)) and np.ndim(fields) == 4:
        grid = to_numpy(fields)
        nrows, ncols = grid.shape[:2]
        panels = [grid[r, c] for r in range(nrows) for c in range(ncols)]
        panel_titles = None if titles is None else [titles[c] if r == 0 else None
                                                   for r in range(nrows) for c in range(ncols)]
    else:
        panels = [to_numpy(f) for f in fields]
        ncols = ncols or len(panels)
        nrows = int(np.ceil(len(panels) / ncols))
        panel_titles = titles
    if row_labels is not None and len(row_labels) != nrows:
        raise ValueError(f"row_labels must have one label per row ({nrows}), got {len(row_labels)}")
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * (titles is not None)),
                             squeeze=False, constrained_layout=True)
    for i, ax in enumerate(axes.flat):
        if i < len(panels):
            show_field(ax, panels[i], dx=dx, title=None if panel_titles is None else panel_titles[i], **kwargs)
        else:
            ax.axis("off")
    for r, label in enumerate(row_labels or []):
        axes[r, 0].set_ylabel(label, fontsize=9)
    return fig


def animate_fields(frames, times=None, dx=None, size: float = 3.0, interval: int = 80, titles=None,
                   cmap: str = FIELD_CMAP):
    """HTML animation of frames (T, Ny, Nx), or of several side by side (P, T, Ny, Nx).

    Keep T to a few dozen and the figure small: ``to_jshtml`` embeds every frame as a
    PNG in the page. Returns the HTML string (display it with IPython.display.HTML).
    """
    import matplotlib.pyplot as plt
    from matplotlib import animation

    frames = to_numpy(frames)
    panels = frames[None] if frames.ndim == 3 else frames  # (P, T, Ny, Nx)
    P, T = panels.shape[:2]
    fig, axes = plt.subplots(1, P, figsize=(size * P, size + 0.3), squeeze=False, constrained_layout=True)
    images = []
    for p, ax in enumerate(axes[0]):
        lo, hi = float(panels[p].min()), float(panels[p].max())
        images.append(show_field(ax, panels[p, 0], dx=dx, cmap=cmap, vmin=lo, vmax=hi,
                                 title=None if titles is None else titles[p]))
    label = fig.suptitle("", fontsize=10)

    def draw(t):
        for p, image in enumerate(images):
            image.set_data(panels[p, t])
        if times is not None:
            label.set_text(f"t = {times[t]:g}")
        return images

    movie = animation.FuncAnimation(fig, draw, frames=T, interval=interval, blit=False)
    html = movie.to_jshtml(default_mode="once")
    plt.close(fig)  # otherwise the notebook also shows the last frame as a still
    return html
