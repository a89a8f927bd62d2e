"""Rollouts: plan (plan.py), start (start.py), decide what runs next
(engine.py), run one node step (steps.py), audit (audit.py), recover after a
worker loss (recover.py). RQ entry points are in jobs.py."""
