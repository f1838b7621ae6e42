"""Views that other libraries need: the grid alone as a Box (SuperSuit, Stable-Baselines3, ...)."""

from __future__ import annotations

from pettingzoo import ParallelEnv

from .interop import ObservationView


class BoxObservation(ObservationView):
    """Observations become the (H, W, N+3) int8 grid; the action mask moves to ``infos[agent]["action_mask"]``.

    SuperSuit's vector-env and black-death wrappers need Box observations, so use this before them.
    It is :func:`~staghunt_env.interop.observation_view` with ``keys=None``.
    """

    def __init__(self, env: ParallelEnv) -> None:
        super().__init__(env, keys=None)


def box_observation(env: ParallelEnv) -> BoxObservation:
    """Wrap a parallel stag hunt so that observations are the grid as a Box (mask in ``infos``)."""
    return BoxObservation(env)
