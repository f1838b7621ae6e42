"""Interop tests: the environment inside SuperSuit + Stable-Baselines3, RLlib and TorchRL.

``ray[rllib]`` pins its own gymnasium, so it is not in the ``test`` extra: test_rllib.py is
collected only where RLlib imports. CI runs it in a separate virtual environment (see .ci/run),
which checks ``import ray.rllib`` first; pytest fails there with "no tests ran" if it did not.
"""


def _rllib_importable() -> bool:
    try:
        import ray.rllib  # noqa: F401 (a bare ``ray`` without the rllib extra fails here)
    except ImportError:
        return False
    return True


collect_ignore = [] if _rllib_importable() else ["test_rllib.py"]
