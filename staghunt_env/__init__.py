"""The Markov Stag Hunt as a PettingZoo environment, with a shared rules engine and a batched engine.

Importing this package registers ``staghunt/stag_hunt-v0`` with ``pettingzoo.make``.
"""

from . import spec, stag_hunt_v0, validate
from .batched import BatchedStagHunt
from .config import StagHuntConfig
from .interop import ObservationView, observation_view
from .registration import register
from .rules import GameState
from .spec import ACTION_NAMES, HUNT_HARE, HUNT_STAG, STAY, Action, Catch, Goal
from .stag_hunt_v0 import env, parallel_env, raw_env
from .wrappers import BoxObservation, box_observation

__version__ = "0.1.0"
__all__ = [
    "ACTION_NAMES",
    "HUNT_HARE",
    "HUNT_STAG",
    "STAY",
    "Action",
    "BatchedStagHunt",
    "BoxObservation",
    "Catch",
    "GameState",
    "Goal",
    "ObservationView",
    "StagHuntConfig",
    "box_observation",
    "env",
    "observation_view",
    "parallel_env",
    "raw_env",
    "spec",
    "stag_hunt_v0",
    "validate",
]

register()
