"""Opponent-model learning: cross-entropy of co-players' observed transitions under their
realised (hindsight) goals, on the buffers that the seats fill."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .networks import PlannerNetworks
from .options import PlannerOptions

# One buffered co-player step: (view, t, mask, explains, goal).
OpponentStep = tuple[np.ndarray, int, np.ndarray, np.ndarray, int]


def stack_opponent_steps(
    buffer: Sequence[OpponentStep], device: torch.device
) -> tuple[torch.Tensor, ...]:
    """A buffer of (view, t, mask, explains, goal) steps as five tensors on ``device``."""
    columns = zip(*buffer)
    return tuple(torch.from_numpy(np.stack(c)).to(device) for c in columns)


def select_goal(log_probs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
    """Rows of (M, G, 7) log-probabilities under each row's goal (goal 0 when G = 1)."""
    rows = torch.arange(len(goals), device=log_probs.device)
    return log_probs[rows, goals.clamp(max=log_probs.shape[1] - 1)]


def opponent_loss(
    log_probs: torch.Tensor, goals: torch.Tensor, explains: torch.Tensor
) -> torch.Tensor:
    """-log P(observed transition | goal): log of the summed probability of the explaining actions.

    log_probs (M, G, 7); goals (M,) the hindsight goal index (0 when G = 1); explains (M, 7) bool.
    """
    masked = select_goal(log_probs, goals).masked_fill(~explains, -torch.inf)
    return -torch.logsumexp(masked, dim=-1).mean()


def train_opponent(
    networks: PlannerNetworks,
    k: int,
    buffer: Sequence[OpponentStep],
    options: PlannerOptions,
    rng: np.random.Generator,
) -> float:
    """Epochs of minibatch SGD for co-player seat k's model; returns the mean loss."""
    views, t, masks, explains, goals = stack_opponent_steps(buffer, networks.device)
    net, optimizer = networks.opponent_nets[k], networks.opponent_optimizers[k]
    losses = []
    for _ in range(options.opponent_epochs):
        order = torch.from_numpy(rng.permutation(len(buffer))).to(networks.device)
        for start in range(0, len(buffer), options.opponent_minibatch):
            idx = order[start : start + options.opponent_minibatch]
            loss = opponent_loss(net(views[idx], t[idx], masks[idx]), goals[idx], explains[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return float(np.mean(losses))


@torch.inference_mode()
def opponent_accuracy(
    networks: PlannerNetworks, k: int, buffer: Sequence[OpponentStep]
) -> tuple[float, float]:
    """On steps not yet trained on: how often the model's likeliest action (given the realised
    goal) explains what the co-player did, and the same rate for a uniform guess among legal actions."""
    views, t, masks, explains, goals = stack_opponent_steps(buffer, networks.device)
    chosen = select_goal(networks.opponent_nets[k](views, t, masks), goals)
    explains, legal = explains.cpu().numpy(), masks.cpu().numpy() > 0
    guess = chosen.argmax(-1).cpu().numpy()
    model = explains[np.arange(len(guess)), guess].mean()
    uniform = ((explains & legal).sum(-1) / legal.sum(-1)).mean()
    return float(model), float(uniform)
