"""The shape of a pattern: its two phases, their connected components and Euler
characteristic (excursion sets {v > t} on the periodic grid, 8-connected).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components as _graph_components

from ..backend import to_numpy
from .fields import as_fields, batch_result

__all__ = ["morphology_threshold", "euler_characteristic", "label_components", "connected_components"]


def morphology_threshold(field) -> np.ndarray:
    """The level t that splits each field into its two phases: the midrange (max + min)/2.

    Halfway between the bright and the dark phase whatever their areas, so v → −v exchanges
    spots and holes exactly (the mean would sit near the background of sparse spots and near
    the top of a holes pattern). The default threshold of every morphology metric. float,
    shape batch.
    """
    f = as_fields(field, "field")
    return batch_result((f.max(axis=(-2, -1)) + f.min(axis=(-2, -1))) / 2)


def _binarise(field, threshold):
    """The excursion set {field > threshold}, boolean (..., N, N)."""
    f = as_fields(field, "field")
    batch = f.shape[:-2]
    if threshold is None:
        thr = np.asarray(morphology_threshold(f))
    else:
        thr = to_numpy(threshold)
        if np.iscomplexobj(thr):
            raise ValueError("threshold must be real")
        thr = thr.astype(np.float64)
        if not np.isfinite(thr).all():
            raise ValueError("threshold must be finite")
        try:
            thr = np.broadcast_to(thr, batch)
        except ValueError:
            raise ValueError(
                f"threshold must be a scalar or broadcast to the batch shape {batch}, "
                f"got shape {thr.shape}"
            ) from None
    return f > thr[..., None, None]


def euler_characteristic(field, threshold=None, periodic=True):
    """Euler characteristic χ of the excursion set {field > threshold}; int, shape batch.

    Each pixel of the set is a closed unit square, so pixels touching at a corner are
    joined (the 8-connectivity of :func:`connected_components`), and χ = V − E + F
    counts the vertices, edges and faces of the union. With ``periodic=True`` (default)
    the squares live on the torus of the periodic domain. χ = (number of components) −
    (number of independent loops) + (enclosed cavities), so on the torus:

    - N disjoint disks (also disks cut by the domain edges): χ = N;
    - stripes that wrap around the torus (in any lattice direction): χ = 0;
    - the complement of N disjoint disks (N holes): χ = −N (the torus itself has χ = 0);
    - a labyrinth that percolates both ways: typically χ < 0.

    With ``periodic=False`` the field is treated as a patch of the plane (a disk cut
    by the edge becomes two pieces). threshold: None for each field's midrange
    (:func:`morphology_threshold`, the default of every morphology metric: symmetric
    between the phases, and a field with any contrast has both phases non-empty), or a
    scalar or array broadcasting to the batch shape. A constant field gives the empty
    set: χ = 0.
    """
    f = _binarise(field, threshold)
    if not periodic:
        pad = [(0, 0)] * (f.ndim - 2) + [(0, 1), (0, 1)]
        f = np.pad(f, pad)  # an empty row and column: the torus formula no longer wraps
    faces = f.sum(axis=(-2, -1))
    # an edge is in the set if either pixel beside it is; a vertex if any of its four
    edges = (f | np.roll(f, 1, axis=-2)).sum(axis=(-2, -1)) + (f | np.roll(f, 1, axis=-1)).sum(
        axis=(-2, -1)
    )
    g = f | np.roll(f, 1, axis=-1)
    vertices = (g | np.roll(g, 1, axis=-2)).sum(axis=(-2, -1))
    return batch_result((vertices - edges + faces).astype(np.int64))


_EIGHT = np.ones((3, 3), dtype=bool)


def label_components(mask: np.ndarray, periodic: bool = True) -> tuple[np.ndarray, int]:
    """Labels 1..n of the 8-connected components of a 2-D boolean mask (0: outside).

    With ``periodic=True`` the planar labels of ``scipy.ndimage.label`` are merged across
    opposite edges and corners, so the labels are those of the mask on the torus.
    Returns (labels of the mask's shape, n).
    """
    labels, n = ndimage.label(mask, structure=_EIGHT)
    if not periodic or n == 0:
        return labels, int(n)
    a, b = [], []
    for shift in (-1, 0, 1):
        a += [labels[0, :], labels[:, 0]]
        b += [np.roll(labels[-1, :], shift), np.roll(labels[:, -1], shift)]
    a, b = np.concatenate(a), np.concatenate(b)
    keep = (a > 0) & (b > 0)
    graph = sparse.coo_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n + 1, n + 1))
    _, merged = _graph_components(graph, directed=False)  # merged[0] is the background's
    order = np.unique(merged[1:], return_inverse=True)[1] + 1  # renumber 1..m
    lookup = np.concatenate([[0], order])
    return lookup[labels], int(order.max())


def connected_components(field, threshold=None, periodic=True):
    """Number of connected components of {field > threshold}; int, shape batch.

    8-connectivity (pixels touching at a corner are joined), consistent with the
    closed-square convention of :func:`euler_characteristic`. With ``periodic=True``
    (default) components are counted on the torus: a spot cut by the domain edge is one
    spot, and a stripe wrapping around the domain is one component (labels from
    ``scipy.ndimage.label`` merged across opposite edges with a union-find). threshold:
    None for each field's midrange (:func:`morphology_threshold`), or a scalar / array
    broadcasting to the batch shape.
    """
    f = _binarise(field, threshold)
    flat = f.reshape(-1, f.shape[-2], f.shape[-1])
    counts = np.array([label_components(m, periodic)[1] for m in flat], dtype=np.int64)
    return batch_result(counts.reshape(f.shape[:-2]))
