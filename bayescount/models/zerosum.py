"""Sum-to-zero group effects within each parent, for unbalanced nested groups.

A level with ``n_p`` children under parent ``p`` has ``n_p - 1`` free values per
parent. They are mapped isometrically onto the zero-sum subspace with the same
Householder-style map PyMC's ``ZeroSumNormal`` uses (extended to many parents by
segment sums), so free values iid ``Normal(0, sigma)`` give children exactly
``ZeroSumNormal(sigma)`` within each parent, at O(n) cost and without a padded grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt

__all__ = ["ZeroSumLayout"]


@dataclass(frozen=True)
class ZeroSumLayout:
    """Index arrays of the free-to-constrained map for one level.

    Parameters
    ----------
    parent_index : numpy.ndarray
        Parent position of each child; children of a parent must be contiguous.
    """

    parent_index: np.ndarray

    @property
    def n_children(self) -> int:
        """Number of constrained effects."""
        return len(self.parent_index)

    @property
    def n_parents(self) -> int:
        """Number of parents."""
        return int(self.parent_index.max()) + 1 if self.n_children else 0

    @property
    def sizes(self) -> np.ndarray:
        """Children per parent."""
        return np.bincount(self.parent_index, minlength=self.n_parents)

    @property
    def is_last(self) -> np.ndarray:
        """Whether each child is the last (dependent) one of its parent."""
        last = np.ones(self.n_children, dtype=bool)
        last[:-1] = self.parent_index[1:] != self.parent_index[:-1]
        return last

    @property
    def free_positions(self) -> np.ndarray:
        """Child positions that carry a free value."""
        return np.flatnonzero(~self.is_last)

    @property
    def n_free(self) -> int:
        """Number of free values (children minus parents)."""
        return self.n_children - self.n_parents

    def to_children(self, free):
        """Map free values (last axis) to zero-sum children, in PyTensor.

        Per parent with ``n`` children and free values ``f`` (``n - 1`` of them),
        ``s = sum(f)``: the free children are ``f - s / (sqrt(n) + n)`` and the last
        child is ``-s / sqrt(n)``; the Householder map of PyMC's ``ZeroSumNormal``.

        Parameters
        ----------
        free : pytensor.tensor.TensorVariable or array_like
            Vector of :attr:`n_free` free values, dim ``<level>_free_dim``.

        Returns
        -------
        pytensor.tensor.TensorVariable
            Vector of :attr:`n_children` effects, dim ``<level>``, summing to zero
            within each parent.
        """
        free = pt.as_tensor_variable(free)
        free_parent = self.parent_index[self.free_positions]
        last_pos = np.flatnonzero(self.is_last)
        sqrt_n = np.sqrt(self.sizes).astype(float)
        sums = pt.zeros(self.n_parents)[free_parent].inc(free) if self.n_free else pt.zeros(
            self.n_parents
        )
        norm = sums / (sqrt_n + self.sizes)
        children = pt.zeros(self.n_children)
        if self.n_free:
            children = children[self.free_positions].set(free - norm[free_parent])
        return children[last_pos].set(-sums / sqrt_n)

    def to_children_numpy(self, free: np.ndarray) -> np.ndarray:
        """Numpy version of :meth:`to_children` (for tests and checks).

        Parameters
        ----------
        free : numpy.ndarray
            Vector of :attr:`n_free` free values.

        Returns
        -------
        numpy.ndarray
            Vector of :attr:`n_children` effects, zero-sum within each parent.
        """
        free_parent = self.parent_index[self.free_positions]
        sqrt_n = np.sqrt(self.sizes)
        sums = np.bincount(free_parent, weights=free, minlength=self.n_parents)
        norm = sums / (sqrt_n + self.sizes)
        out = np.empty(self.n_children)
        out[self.free_positions] = free - norm[free_parent]
        out[self.is_last] = -sums / sqrt_n
        return out
