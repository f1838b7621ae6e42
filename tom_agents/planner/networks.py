"""The networks a planner and its followers share: the policy-value net, the opponent models, and
their optimisers, on one device. Built once per network owner; followers hold a reference."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from staghunt_env import StagHuntConfig

from ..devices import resolve_device
from ..inference import InferenceNet
from ..nets import PolicyValueNet
from ..opponents import LearnedOpponents, OpponentModel, ScriptedOpponents, UniformOpponents
from .options import PlannerOptions


class PlannerNetworks:
    """Policy-value net + opponent model (+ Adam for each network that learns)."""

    def __init__(
        self,
        env_config: StagHuntConfig,
        options: PlannerOptions,
        init_seed: int,
        device: str | torch.device = "auto",
    ) -> None:
        self.config = env_config
        self.options = options
        self.device = resolve_device(device)
        # Initialisation draws from torch's generator: seed it here, inside fork_rng so that the
        # global torch state is left as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            self.policy_value = PolicyValueNet(env_config, options.channels, options.hidden)
            self.opponents = self._make_opponents()
        self.policy_value.to(self.device)
        self.policy_value_inference = InferenceNet(self.policy_value, options.inference)
        self.optimizer = torch.optim.Adam(self.policy_value.parameters(), lr=options.lr)

    def _make_opponents(self) -> OpponentModel:
        opts = self.options
        if opts.opponent_model == "uniform":
            return UniformOpponents()
        if opts.opponent_model == "scripted":
            return ScriptedOpponents(opts.scripted_epsilon)
        return LearnedOpponents(
            self.config,
            goal_conditioned=opts.opponent_model == "learned",
            device=self.device,
            lr=opts.opponent_lr,
            channels=opts.channels,
            hidden=opts.hidden,
            inference=opts.inference,
        )

    @property
    def learns_opponents(self) -> bool:
        """Whether the opponent models are networks that train (learned, goal_free)."""
        return isinstance(self.opponents, LearnedOpponents)

    @property
    def goal_conditioned(self) -> bool:
        return self.opponents.num_goals > 1

    @property
    def opponent_nets(self) -> list[torch.nn.Module]:
        return self.opponents.nets if self.learns_opponents else []

    @property
    def opponent_optimizers(self) -> list[torch.optim.Optimizer]:
        return self.opponents.optimizers if self.learns_opponents else []

    def to(self, device: str | torch.device) -> PlannerNetworks:
        """Move every network and its optimiser's state to ``device``."""
        self.device = resolve_device(device)
        for net in [self.policy_value, *self.opponent_nets]:
            net.to(self.device)
        for optimizer in [self.optimizer, *self.opponent_optimizers]:
            for state in optimizer.state.values():
                for key, value in state.items():
                    if isinstance(value, torch.Tensor):
                        state[key] = value.to(self.device)
        if self.learns_opponents:
            self.opponents.device = self.device
        return self

    @torch.inference_mode()
    def evaluate_policy_value(
        self, grids: np.ndarray, t: np.ndarray, masks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(priors (M, 7), values (M,)) from the policy-value net, for the search."""
        log_pi, v = self.policy_value_inference(
            torch.from_numpy(np.ascontiguousarray(grids)).to(self.device),
            torch.from_numpy(np.asarray(t)).to(self.device),
            torch.from_numpy(np.ascontiguousarray(masks)).to(self.device),
        )
        return log_pi.exp().double().cpu().numpy(), v.double().cpu().numpy()

    def state_dict(self, moments: bool = True) -> dict[str, Any]:
        """Every weight and optimiser state, as tensors and plain data (for ``checkpoints.save``).

        ``moments=False`` leaves out the optimisers' running moments (their settings stay):
        loading such a state starts them afresh, as a new optimiser would."""

        def optimizer(o: torch.optim.Optimizer) -> dict[str, Any]:
            state = o.state_dict()
            return state if moments else {**state, "state": {}}

        return {
            "policy_value": self.policy_value.state_dict(),
            "optimizer": optimizer(self.optimizer),
            "opponents": [net.state_dict() for net in self.opponent_nets],
            "opponent_optimizers": [optimizer(o) for o in self.opponent_optimizers],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy_value.load_state_dict(state["policy_value"])
        self.optimizer.load_state_dict(state["optimizer"])
        if len(state["opponents"]) != len(self.opponent_nets):
            raise ValueError(
                f"the state has {len(state['opponents'])} opponent networks, "
                f"these networks {len(self.opponent_nets)}"
            )
        for net, weights in zip(self.opponent_nets, state["opponents"]):
            net.load_state_dict(weights)
        for optimizer, weights in zip(self.opponent_optimizers, state["opponent_optimizers"]):
            optimizer.load_state_dict(weights)
        self.to(self.device)
