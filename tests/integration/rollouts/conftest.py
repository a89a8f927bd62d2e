"""What the fault matrix files (test_fault_matrix*.py) start from; a file
that needs another version defines its own `version`."""
import pytest

from support.fleet_picture import FenceStarts
from support.image_versions import product_version

MATRIX_TAG = "10.9.0"  # one image for every row: built and pushed once per session


@pytest.fixture
def version(rollout_sandbox, rollout_fleet):
    return product_version(rollout_sandbox, rollout_fleet, MATRIX_TAG)


@pytest.fixture
def starts(rollout_sandbox):
    """Counts fence starts on every DEA from the test's start."""
    return FenceStarts(rollout_sandbox)
