"""The networks of SPEC section 2: a policy-value net and (goal-conditioned) opponent nets.

Both share the original's trunk: three 3x3 convolutions (16, 32, 32 channels by default),
flatten, concatenate the time step (and the goal), a 512-unit layer. Inputs are batches of
int8 grids (B, H, W, C) as the env gives them; one call evaluates a whole batch.
"""

from __future__ import annotations

import torch
from torch import nn

from staghunt_env import StagHuntConfig
from staghunt_env.spec import NUM_ACTIONS, NUM_GOALS

NEG_INF = -1e9


class Trunk(nn.Module):
    """Conv(C->c1) ReLU, Conv(c1->c2) ReLU, Conv(c2->c3) ReLU, flatten."""

    def __init__(self, config: StagHuntConfig, channels: tuple[int, int, int] = (16, 32, 32)):
        super().__init__()
        c_in, (h, w) = config.num_channels, config.grid_size
        layers: list[nn.Module] = []
        for c_out in channels:
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]
            c_in = c_out
        self.convs = nn.Sequential(*layers, nn.Flatten())
        self.out_features = c_in * h * w
        self.max_cycles = config.max_cycles

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        x = grid.permute(0, 3, 1, 2).to(dtype=self.convs[0].weight.dtype)
        return self.convs(x)

    def time_feature(self, t: torch.Tensor) -> torch.Tensor:
        """t scaled to [0, 1] by the episode length, as a column."""
        return (t.to(self.convs[0].weight.dtype) / self.max_cycles).reshape(-1, 1)


def masked_log_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """log-probabilities with illegal actions (mask 0) at probability zero, in fp32 whatever
    the dtype of the logits (a bf16 softmax would round the search's priors)."""
    return torch.log_softmax(logits.float().masked_fill(mask == 0, NEG_INF), dim=-1)


def kaiming_init(module: nn.Module, heads: tuple[nn.Linear, ...]) -> None:
    """Kaiming init (as the original) for the hidden layers; zero output heads, so that an
    untrained net predicts uniform legal actions and a value of 0 (a neutral prior for search)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    for head in heads:
        nn.init.zeros_(head.weight)


class PolicyValueNet(nn.Module):
    """(grid, t, mask) -> (log pi over 7 actions, masked; value)."""

    def __init__(
        self,
        config: StagHuntConfig,
        channels: tuple[int, int, int] = (16, 32, 32),
        hidden: int = 512,
    ):
        super().__init__()
        self.trunk = Trunk(config, channels)
        self.fc = nn.Linear(self.trunk.out_features + 1, hidden)
        self.policy = nn.Linear(hidden, NUM_ACTIONS)
        self.value = nn.Linear(hidden, 1)
        kaiming_init(self, heads=(self.policy, self.value))

    def forward(
        self, grid: torch.Tensor, t: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        features = torch.cat([self.trunk(grid), self.trunk.time_feature(t)], dim=1)
        h = torch.relu(self.fc(features))
        return masked_log_softmax(self.policy(h), mask), self.value(h).squeeze(-1)


class OpponentNet(nn.Module):
    """pi_w(a | s, t, g): a co-player's action distribution given its goal (SPEC's "MOA").

    ``forward`` returns log-probabilities for every goal at once, (B, G, 7): the trunk and the
    first dense layer run once, and the one-hot goal adds its column of that layer (``goal``).
    With ``goal_conditioned=False`` there is a single "goal" (G = 1): the direct opponent model
    of the direct-OM baseline.
    """

    def __init__(
        self,
        config: StagHuntConfig,
        goal_conditioned: bool = True,
        channels: tuple[int, int, int] = (16, 32, 32),
        hidden: int = 512,
    ):
        super().__init__()
        self.num_goals = NUM_GOALS if goal_conditioned else 1
        self.trunk = Trunk(config, channels)
        self.fc = nn.Linear(self.trunk.out_features + 1, hidden)
        self.goal = nn.Parameter(torch.zeros(self.num_goals, hidden))
        self.actor = nn.Linear(hidden, NUM_ACTIONS)
        kaiming_init(self, heads=(self.actor,))
        if goal_conditioned:  # the goal columns of the dense layer, Kaiming-initialised with it
            nn.init.normal_(self.goal, std=(2.0 / (self.fc.in_features + NUM_GOALS)) ** 0.5)

    def forward(self, grid: torch.Tensor, t: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        features = torch.cat([self.trunk(grid), self.trunk.time_feature(t)], dim=1)
        h = torch.relu(self.fc(features).unsqueeze(1) + self.goal.unsqueeze(0))  # (B, G, hidden)
        return masked_log_softmax(self.actor(h), mask.unsqueeze(1))
