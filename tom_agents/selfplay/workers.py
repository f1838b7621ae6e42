"""Scale-out on Ray: self-play actors play the games, the driver's learner trains.

Each iteration the driver puts the networks' weights in Ray's object store once; every actor
loads them, plays its share of the games and returns its samples and co-player steps. An actor
that dies is restarted by Ray (with fresh games) and its task retried, so the run goes on.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import ray

from staghunt_env import StagHuntConfig

from .. import threads
from ..ray_cluster import connect_ray
from .checkpoint import restore_rollout, rollout_state
from .learner import RankedRewards
from .rollout import Collected, SelfPlayRollout, make_agents


def weights_of(owners) -> list[dict[str, Any]]:
    """CPU copies of every owner's networks (what workers need to play)."""

    def cpu(state):
        return {k: v.detach().cpu() for k, v in state.items()}

    return [
        {
            "policy_value": cpu(o.networks.policy_value.state_dict()),
            "opponents": [cpu(n.state_dict()) for n in o.networks.opponent_nets],
        }
        for o in owners
    ]


@ray.remote(max_restarts=-1, max_task_retries=-1)
class RolloutWorker:
    """Plays ``num_games`` self-play games with copies of the driver's networks."""

    def __init__(self, env: dict, config: dict, seed: int) -> None:
        threads.configure(torch_threads=1, numba_threads=1)  # an actor holds one CPU
        env_config = StagHuntConfig.make(**env)
        self.owners, players = make_agents(
            env_config,
            config["num_games"],
            config["share_networks"],
            seed,
            "cpu",
            config["options"],
        )
        ranked = (
            RankedRewards(
                config["ranked_percentile"], config["ranked_buffer"], config["ranked_initial"]
            )
            if config["ranked_rewards"]
            else None
        )
        self.rollout = SelfPlayRollout(
            env_config, self.owners, players, seed, config["gamma"], ranked
        )

    def collect(self, weights: list[dict[str, Any]], agent_steps: int):
        for owner, w in zip(self.owners, weights):
            owner.networks.policy_value.load_state_dict(w["policy_value"])
            for net, state in zip(owner.networks.opponent_nets, w["opponents"]):
                net.load_state_dict(state)
        collected = self.rollout.collect(agent_steps)
        return collected, self.rollout.drain_opponent_steps()

    def state(self) -> dict[str, Any]:
        return rollout_state(self.rollout)

    def restore(self, state: dict[str, Any]) -> None:
        restore_rollout(self.rollout, state)

    def pid(self) -> int:
        import os

        return os.getpid()


def start_workers(config, seed: int, states: list[dict[str, Any]] = ()) -> list:
    """Connect to (or start) Ray and create ``config.workers`` actors sharing ``config.num_games``
    (refused when Ray has not a CPU for each: it would wait for them forever); ``states``: one
    per actor, from :func:`worker_states`, to play on from a checkpoint's games."""
    connect_ray(config.workers, config.ray_address)
    shares = np.array_split(np.arange(config.num_games), config.workers)
    settings = {
        "share_networks": config.share_networks,
        "options": config.planner_options(),
        "gamma": config.planner.gamma,
        "ranked_rewards": config.ranked_rewards,
        "ranked_percentile": config.ranked_percentile,
        "ranked_buffer": config.ranked_buffer,
        "ranked_initial": config.ranked_initial,
    }
    workers = [
        RolloutWorker.options(num_cpus=1).remote(
            config.env, {**settings, "num_games": len(share)}, seed * 7919 + w
        )
        for w, share in enumerate(shares)
    ]
    ray.get([w.restore.remote(s) for w, s in zip(workers, states)])
    return workers


def worker_states(workers: list) -> list[dict[str, Any]]:
    """Each actor's games in flight and players (for a checkpoint)."""
    return ray.get([w.state.remote() for w in workers])


def collect_on_workers(workers: list, owners, agent_steps: int):
    """One iteration's play on all workers: (merged Collected, opponent steps per owner and seat)."""
    start = time.perf_counter()
    weights = ray.put(weights_of(owners))
    share = -(-agent_steps // len(workers))
    results = ray.get([w.collect.remote(weights, share) for w in workers])
    collected = Collected.merge([c for c, _ in results], time.perf_counter() - start)
    pools = [
        [[step for _, pool in results for step in pool[o][k]] for k in range(len(results[0][1][o]))]
        for o in range(len(owners))
    ]
    return collected, pools
