"""Parts of bench/rollout_vs_ansible.py, one job each."""
