"""Naive re-implementations of the original designs, the baselines the benchmarks time against.

Each reference is tested to compute the same thing as the real code (``tests/
test_benchmark_references.py``), so that a speed ratio compares designs, not different work.
"""

from benchmarks.reference.env_check import check_naive_against_real
from benchmarks.reference.naive_env import NaiveStagHunt

__all__ = ["NaiveStagHunt", "check_naive_against_real"]
