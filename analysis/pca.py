"""Principal component analysis of z-points, and the map from a PC plane back to z.

The default solver eigendecomposes the z_dim x z_dim covariance matrix, which
is accumulated in float64 chunks over a (memory-mapped) array. For N >> z_dim
this was ~9x faster than scikit-learn's randomized SVD on 200k x 256 (see
``docs/BENCHMARKS.md``), is exact, and never copies the whole array.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis._checks import CHUNK, as_points

SOLVERS = ("auto", "covariance_eigh", "full", "randomized")


@dataclass
class PCAResult:
    """A fitted PCA, as plain arrays (cacheable without pickling).

    Attributes
    ----------
    mean_ : ndarray, shape (z_dim,)
    components_ : ndarray, shape (n_components, z_dim)
        Orthonormal rows, sorted by decreasing variance; the sign of each row
        makes its largest-magnitude loading positive (deterministic).
    explained_variance_ : ndarray, shape (n_components,)
    explained_variance_ratio_ : ndarray, shape (n_components,)
    cumulative : ndarray, shape (n_components,)
        Running sum of ``explained_variance_ratio_``.
    solver : str
    """

    mean_: np.ndarray
    components_: np.ndarray
    explained_variance_: np.ndarray
    explained_variance_ratio_: np.ndarray
    cumulative: np.ndarray = field(default=None)
    solver: str = "covariance_eigh"

    def __post_init__(self):
        if self.cumulative is None:
            self.cumulative = np.cumsum(self.explained_variance_ratio_)

    @property
    def n_components(self) -> int:
        """Number of components kept."""
        return int(self.components_.shape[0])

    def transform(self, z, n_components: int | None = None) -> np.ndarray:
        """Return the PC scores of ``z`` (N x n_components), optionally only the leading ``n_components``."""
        z = as_points(z, dtype=None)
        if z.shape[1] != len(self.mean_):
            raise ValueError(f"z has {z.shape[1]} dimensions but the PCA was fitted on {len(self.mean_)}")
        comps = self.components_ if n_components is None else self.components_[: int(n_components)]
        out = np.empty((len(z), comps.shape[0]))
        for start in range(0, len(z), CHUNK):
            out[start : start + CHUNK] = (np.asarray(z[start : start + CHUNK], dtype=np.float64) - self.mean_) @ comps.T
        return out

    def inverse_transform(self, scores) -> np.ndarray:
        """Return z for PC ``scores`` (N x k with k <= n_components; missing trailing components are 0)."""
        scores = as_points(scores, name="scores")
        k = scores.shape[1]
        if k > self.n_components:
            raise ValueError(f"scores have {k} components but the PCA has {self.n_components}")
        return scores @ self.components_[:k] + self.mean_

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Return the fit as a dict of arrays (for :func:`analysis.cache.cached`)."""
        return {
            "mean_": self.mean_,
            "components_": self.components_,
            "explained_variance_": self.explained_variance_,
            "explained_variance_ratio_": self.explained_variance_ratio_,
            "cumulative": self.cumulative,
            "solver": np.asarray(self.solver),
        }

    @classmethod
    def from_arrays(cls, arrays: dict) -> PCAResult:
        """Rebuild a fit from :meth:`to_arrays` output (e.g. a cache entry)."""
        return cls(
            mean_=np.asarray(arrays["mean_"]),
            components_=np.asarray(arrays["components_"]),
            explained_variance_=np.asarray(arrays["explained_variance_"]),
            explained_variance_ratio_=np.asarray(arrays["explained_variance_ratio_"]),
            cumulative=np.asarray(arrays["cumulative"]),
            solver=str(arrays["solver"]),
        )


def _sign_flip(components: np.ndarray) -> np.ndarray:
    # Same convention as scikit-learn's svd_flip: the largest loading is positive.
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    signs[signs == 0] = 1
    return components * signs[:, None]


def fit_pca(z, solver: str = "auto", n_components: int | None = None, random_state=0) -> PCAResult:
    """Fit a PCA on all z-points.

    Parameters
    ----------
    z : array_like, shape (N, z_dim)
        The z-points (memory-mapped arrays are streamed).
    solver : {"auto", "covariance_eigh", "full", "randomized"}
        ``auto`` uses ``covariance_eigh`` (exact; fastest measured for N >> z_dim)
        unless N < z_dim, then ``full`` (SVD of the centred data).
        ``randomized`` is scikit-learn's randomized SVD, kept as a baseline.
    n_components : int, optional
        Components to keep; default all (``min(N, z_dim)`` for ``full``).
    random_state : int or None
        Seed of the randomized solver.

    Returns
    -------
    PCAResult
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown PCA solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    z = as_points(z, dtype=None)
    n, d = z.shape
    if solver == "auto":
        solver = "covariance_eigh" if n >= d else "full"
    k = d if n_components is None else int(n_components)
    if not 1 <= k <= d:
        raise ValueError(f"n_components must be between 1 and z_dim={d}, got {n_components}")
    mean = np.zeros(d)
    for start in range(0, n, CHUNK):
        mean += np.asarray(z[start : start + CHUNK], dtype=np.float64).sum(axis=0)
    mean /= n
    dof = max(n - 1, 1)
    if solver == "covariance_eigh":
        cov = np.zeros((d, d))
        for start in range(0, n, CHUNK):
            block = np.asarray(z[start : start + CHUNK], dtype=np.float64) - mean
            cov += block.T @ block
        cov /= dof
        values, vectors = np.linalg.eigh(cov)
        order = np.argsort(values)[::-1]
        variance = np.clip(values[order], 0, None)
        components = vectors[:, order].T
        total = variance.sum()
    elif solver == "full":
        centred = np.asarray(z, dtype=np.float64) - mean
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        variance = s**2 / dof
        components = vt
        total = float((centred**2).sum()) / dof
        k = min(k, len(variance))
    else:
        from sklearn.decomposition import PCA

        model = PCA(n_components=min(k, n, d), svd_solver="randomized", random_state=random_state)
        model.fit(np.asarray(z, dtype=np.float64))
        variance, components = model.explained_variance_, model.components_
        total = float(np.sum(model.explained_variance_ / np.maximum(model.explained_variance_ratio_, 1e-300)))
        total = total / len(variance) if len(variance) else 1.0
    ratio = variance / total if total > 0 else np.zeros_like(variance)
    return PCAResult(
        mean_=mean,
        components_=_sign_flip(np.ascontiguousarray(components[:k])),
        explained_variance_=variance[:k],
        explained_variance_ratio_=ratio[:k],
        solver=solver,
    )


def plane_to_z(pca: PCAResult, i: int, j: int, x: float, y: float, base_scores=None) -> np.ndarray:
    """Map a click at ``(x, y)`` on the plane of PCs ``i`` (horizontal) and ``j`` (vertical) to a full z.

    Parameters
    ----------
    pca : PCAResult
    i, j : int
        Zero-based component indices of the plane's axes.
    x, y : float
        Scores along components ``i`` and ``j``.
    base_scores : array_like, shape (n_components,), optional
        Scores of the other components (e.g. those of a selected point); default 0,
        i.e. the mean of the data along every other component.

    Returns
    -------
    ndarray, shape (z_dim,)
    """
    k = pca.n_components
    for name, value in (("i", i), ("j", j)):
        if not 0 <= int(value) < k:
            raise ValueError(f"component {name}={value} is out of range 0..{k - 1}")
    scores = np.zeros(k)
    if base_scores is not None:
        base = np.asarray(base_scores, dtype=np.float64).ravel()
        if base.shape != (k,):
            raise ValueError(f"base_scores must have {k} values, got {base.shape[0]}")
        scores[:] = base
    scores[int(i)] = float(x)
    scores[int(j)] = float(y)
    return pca.inverse_transform(scores[None, :])[0]
