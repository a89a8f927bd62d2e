"""Promotion: a version that succeeded on one cluster copied by its digest to
another cluster's registry, ready for the usual rollout there."""
