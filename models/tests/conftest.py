"""Fixtures shared by the model test suites."""

import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """One intra-op thread: tiny tensors, and CI's two cores are shared with other suites."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
