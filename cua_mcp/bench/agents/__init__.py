"""Agents the benchmark can run: each is one module implementing `base.Agent`."""
