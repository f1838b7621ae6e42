"""Learning from self-play: the AlphaZero loss and ranked rewards (opponent models learn in
:mod:`tom_agents.planner.learning`)."""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

from ..inference import padded_forward
from ..planner import PlannerAgent


def alphazero_loss(
    log_pi: torch.Tensor, value: torch.Tensor, pi_target: torch.Tensor, z: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """SPEC: 0.5 * [-sum(pi_target * log p) + (v - z)^2], averaged; returns (total, policy, value).

    Illegal actions have pi_target = 0 and log p = -1e9 after masking; their product is zeroed.
    """
    policy = -(pi_target * log_pi.masked_fill(pi_target == 0, 0.0)).sum(-1).mean()
    value_loss = ((value - z) ** 2).mean()
    return 0.5 * (policy + value_loss), policy, value_loss


class RankedRewards:
    """Ranked-reward normalisation (RLlib's AlphaZero): +1 above the buffer's percentile, -1 below.

    Ties with the threshold are broken at random; until ``initial`` rewards are buffered the raw
    reward is returned.
    """

    def __init__(self, percentile: float = 75.0, size: int = 1000, initial: int = 100) -> None:
        self.percentile = percentile
        self.buffer: deque[float] = deque(maxlen=size)
        self.initial = initial

    def normalise(self, reward: float, rng: np.random.Generator) -> float:
        self.buffer.append(reward)
        if len(self.buffer) < self.initial:
            return reward
        threshold = np.percentile(np.asarray(self.buffer), self.percentile)
        if reward != threshold:
            return 1.0 if reward > threshold else -1.0
        return float(rng.choice([-1.0, 1.0]))


def value_targets(final_reward: float, steps: int, gamma: float) -> np.ndarray:
    """z_t = final_reward * gamma^(T - 1 - t) for the T decisions of one trajectory."""
    return final_reward * gamma ** np.arange(steps - 1, -1, -1, dtype=np.float64)


def train_policy_value(
    agent: PlannerAgent, batch: dict[str, np.ndarray], iterations: int, minibatch: int
) -> dict[str, float]:
    """SGD on the AlphaZero loss; returns the mean losses of the first and the last pass."""
    device = agent.device
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in batch.items()}
    net, optimizer = agent.networks.policy_value, agent.networks.optimizer
    passes = []
    for _ in range(iterations):
        order = torch.from_numpy(agent.rng.permutation(len(batch["z"]))).to(device)
        losses = []
        for start in range(0, len(order), minibatch):
            idx = order[start : start + minibatch]
            log_pi, v = padded_forward(
                net, tensors["grid"][idx], tensors["t"][idx], tensors["mask"][idx]
            )
            total, policy, value = alphazero_loss(
                log_pi, v, tensors["pi"][idx].float(), tensors["z"][idx].float()
            )
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            losses.append((total.item(), policy.item(), value.item()))
        passes.append(np.mean(losses, axis=0))
    first, last = passes[0], passes[-1]
    return {
        "pv_loss_first": float(first[0]),
        "pv_loss": float(last[0]),
        "policy_loss": float(last[1]),
        "value_loss": float(last[2]),
    }
