"""Bayesian hierarchical models of count telemetry."""
