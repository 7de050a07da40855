"""ZeroSumLayout: free values -> zero-sum children within each parent (unbalanced)."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymc.distributions.transforms import ZeroSumTransform

from bayescount.models.zerosum import ZeroSumLayout

# Children per parent: 1 to 6 children under 1 to 8 parents.
sizes_st = st.lists(st.integers(1, 6), min_size=1, max_size=8)


def layout_of(sizes) -> ZeroSumLayout:
    return ZeroSumLayout(np.repeat(np.arange(len(sizes)), sizes))


def free_values(layout: ZeroSumLayout, seed: int, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=scale, size=layout.n_free)


def map_matrix(layout: ZeroSumLayout) -> np.ndarray:
    """The (n_children, n_free) matrix of the linear free-to-children map."""
    eye = np.eye(layout.n_free)
    cols = [layout.to_children_numpy(eye[i]) for i in range(layout.n_free)]
    return np.column_stack(cols) if cols else np.zeros((layout.n_children, 0))


def zero_sum_projection(sizes) -> np.ndarray:
    """Block-diagonal I - J/n: the covariance of ZeroSumNormal(1) within each parent."""
    blocks = [np.eye(n) - np.full((n, n), 1.0 / n) for n in sizes]
    out = np.zeros((sum(sizes), sum(sizes)))
    start = 0
    for n, block in zip(sizes, blocks, strict=True):
        out[start : start + n, start : start + n] = block
        start += n
    return out


@given(sizes=sizes_st, seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 1e3))
def test_children_sum_to_zero_within_each_parent(sizes, seed, scale):
    layout = layout_of(sizes)
    free = free_values(layout, seed, scale)
    children = layout.to_children_numpy(free)
    sums = np.bincount(layout.parent_index, weights=children, minlength=len(sizes))
    np.testing.assert_allclose(sums, 0.0, atol=1e-12 * scale * max(len(free), 1))


@given(sizes=sizes_st, seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 1e3))
def test_map_is_an_isometry(sizes, seed, scale):
    layout = layout_of(sizes)
    free = free_values(layout, seed, scale)
    children = layout.to_children_numpy(free)
    np.testing.assert_allclose(np.linalg.norm(children), np.linalg.norm(free), rtol=1e-12)


@given(sizes=sizes_st)
def test_counts_of_free_values_and_positions(sizes):
    layout = layout_of(sizes)
    assert layout.n_parents == len(sizes)
    assert layout.n_free == sum(sizes) - len(sizes)
    assert layout.sizes.tolist() == list(sizes)
    # The free positions are every child but the last of its parent.
    last = np.cumsum(sizes) - 1
    assert layout.free_positions.tolist() == sorted(set(range(sum(sizes))) - set(last))


@given(sizes=sizes_st, seed=st.integers(0, 2**32 - 1))
def test_single_child_parents_get_zero(sizes, seed):
    layout = layout_of(sizes)
    children = layout.to_children_numpy(free_values(layout, seed))
    single = np.flatnonzero(layout.sizes[layout.parent_index] == 1)
    assert np.all(children[single] == 0.0)


@given(sizes=sizes_st)
def test_covariance_of_iid_free_values_is_zero_sum_normal(sizes):
    # The map is linear, children = M @ free; iid N(0, 1) free values give children
    # with covariance M M^T, which must be ZeroSumNormal's I - J/n in each parent
    # (and zero across parents). Exact, no Monte Carlo error.
    m = map_matrix(layout_of(sizes))
    np.testing.assert_allclose(m @ m.T, zero_sum_projection(sizes), atol=1e-12)
    np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-12)


def test_empirical_covariance_of_children_matches_zero_sum_normal():
    sizes = [1, 4, 2, 3]
    layout = layout_of(sizes)
    rng = np.random.default_rng(0)
    free = rng.normal(size=(50_000, layout.n_free))
    children = free @ map_matrix(layout).T  # the map is linear
    np.testing.assert_allclose(children[7], layout.to_children_numpy(free[7]), rtol=1e-12)
    cov = np.cov(children, rowvar=False)
    # Monte Carlo sd of a covariance entry is about 1/sqrt(50000) = 0.0045.
    np.testing.assert_allclose(cov, zero_sum_projection(sizes), atol=0.03)
    # Each child's variance is (n - 1) / n of sigma^2, as for ZeroSumNormal.
    expected_var = 1.0 - 1.0 / np.repeat(sizes, sizes)
    np.testing.assert_allclose(np.diag(cov), expected_var, atol=0.03)


@settings(max_examples=15, deadline=None)
@given(sizes=sizes_st, seed=st.integers(0, 2**32 - 1))
def test_pytensor_map_equals_numpy_map(sizes, seed):
    layout = layout_of(sizes)
    free = free_values(layout, seed)
    x = pt.vector("x")
    f = pytensor.function(
        [x], layout.to_children(x), mode="FAST_COMPILE", on_unused_input="ignore"
    )
    np.testing.assert_allclose(f(free), layout.to_children_numpy(free), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n", [2, 3, 7])
def test_single_parent_matches_pymc_zero_sum_transform(n):
    # One parent: the layout must be exactly the map PyMC's ZeroSumNormal uses.
    layout = ZeroSumLayout(np.zeros(n, dtype=np.int64))
    free = np.random.default_rng(n).normal(size=n - 1)
    expected = ZeroSumTransform.extend_axis(pt.as_tensor(free), axis=0).eval()
    np.testing.assert_allclose(layout.to_children_numpy(free), expected, rtol=1e-12)
