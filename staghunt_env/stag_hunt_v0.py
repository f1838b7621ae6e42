"""The versioned module, as PettingZoo's own envs have: ``env``, ``parallel_env``, ``raw_env``."""

from .aec import env, raw_env
from .parallel import StagHuntParallelEnv as parallel_env  # noqa: N813

__all__ = ["env", "parallel_env", "raw_env"]
