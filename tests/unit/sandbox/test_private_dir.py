"""The sandbox's socket directory sits at a guessable /tmp path: it is made
private, and one another user made first (or a link) is refused."""
import os
import stat

import pytest

from sandbox.procs import SandboxError, private_dir


def test_a_new_directory_is_made_private(tmp_path):
    path = private_dir(tmp_path / "sbx-1234")
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert private_dir(path) == path  # a second `sandbox up` reuses it


def test_a_directory_open_to_others_is_refused(tmp_path):
    path = tmp_path / "sbx-1234"
    path.mkdir()
    path.chmod(0o777)
    with pytest.raises(SandboxError, match="not a private directory"):
        private_dir(path)


def test_a_link_is_refused_even_to_a_private_directory(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = tmp_path / "sbx-1234"
    link.symlink_to(target)
    with pytest.raises(SandboxError, match="not a private directory"):
        private_dir(link)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a directory owned by another user")
def test_a_directory_owned_by_another_user_is_refused(tmp_path):
    path = tmp_path / "sbx-1234"
    path.mkdir(mode=0o700)
    os.chown(path, 65534, 65534)
    with pytest.raises(SandboxError, match="owner uid 65534"):
        private_dir(path)
