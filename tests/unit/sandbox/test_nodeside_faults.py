"""Fault knobs: defaults, validation, atomic writes, the fail_restarts counter."""
import json

import pytest

from sandbox.nodeside import faults


def test_a_node_without_faults_json_has_no_knob_set(tmp_path):
    assert faults.read(tmp_path) == {"restart_delay": 0.0, "fail_restarts": 0,
                                     "hang": False, "down": False, "reload_in_place": False}


def test_write_changes_only_the_given_knobs(tmp_path):
    faults.write(tmp_path, hang=True)
    faults.write(tmp_path, restart_delay=2)
    assert faults.read(tmp_path) == {"restart_delay": 2.0, "fail_restarts": 0,
                                     "hang": True, "down": False, "reload_in_place": False}
    assert json.loads((tmp_path / "faults.json").read_text())["hang"] is True
    # only faults.json and its lock: the temp file was renamed, not left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [".faults.lock", "faults.json"]


@pytest.mark.parametrize("knobs", [
    {"restart_delay": -1}, {"restart_delay": "2"}, {"fail_restarts": 1.5},
    {"fail_restarts": -1}, {"fail_restarts": True}, {"hang": "on"}, {"down": 1},
    {"colour": "red"}])
def test_bad_values_are_refused_and_nothing_is_written(tmp_path, knobs):
    with pytest.raises(ValueError):
        faults.write(tmp_path, **knobs)
    assert not (tmp_path / "faults.json").exists()


def test_reset_clears_everything(tmp_path):
    faults.write(tmp_path, restart_delay=5, fail_restarts=2, hang=True, down=True)
    faults.reset(tmp_path)
    assert faults.read(tmp_path) == faults.DEFAULTS


def test_take_failed_start_counts_down_to_zero(tmp_path):
    faults.write(tmp_path, fail_restarts=2, hang=True)
    assert [faults.take_failed_start(tmp_path) for _ in range(3)] == [True, True, False]
    assert faults.read(tmp_path)["fail_restarts"] == 0
    assert faults.read(tmp_path)["hang"] is True  # other knobs untouched


def test_unknown_keys_in_the_file_are_ignored(tmp_path):
    (tmp_path / "faults.json").write_text('{"hang": true, "legacy": 1}')
    assert faults.read(tmp_path)["hang"] is True
    assert "legacy" not in faults.read(tmp_path)
