"""TorchRL's PettingZooWrapper runs the parallel stag hunt with its action masks (README snippet)."""

import pytest
import torch
from readme import README, code_blocks
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.envs.libs.pettingzoo import PettingZooWrapper
from torchrl.modules import MaskedCategorical, ProbabilisticActor

import staghunt_env

pytestmark = [
    pytest.mark.interop,
    # TorchRL warns that it is tested against PettingZoo 1.24.3 only
    pytest.mark.filterwarnings("ignore:PettingZoo in TorchRL is tested:UserWarning"),
]


def legal(hunters) -> torch.Tensor:
    """Whether each hunter's action was allowed by its action mask, shape (T, N)."""
    return hunters["action_mask"].gather(-1, hunters["action"].unsqueeze(-1)).squeeze(-1)


def test_torchrl_rollout_respects_the_action_masks():
    (block,) = code_blocks("python torchrl")
    ns = {"__name__": "__readme__"}
    exec(compile(block, str(README), "exec"), ns)
    rollout, hunters = ns["rollout"], ns["hunters"]

    assert rollout.batch_size == (100,)
    assert hunters["observation", "observation"].shape == (100, 4, 8, 8, 7)
    assert hunters["action_mask"].shape == (100, 4, 7)
    assert hunters["action_mask"].dtype == torch.bool
    live = hunters["mask"]
    # walls and the grid's edge forbid moves and HUNT_* needs prey underfoot: masks do bite
    assert (~hunters["action_mask"][live]).any()
    assert legal(hunters)[live].all()
    # 100 steps outlast a 35-step episode: it ended (with auto-reset) at least twice
    assert rollout["next", "done"].sum() >= 2
    assert torch.isfinite(rollout["next", "hunter", "reward"]).all()


def test_torchrl_masked_policy_takes_only_legal_actions():
    env = PettingZooWrapper(
        staghunt_env.parallel_env(num_players=3), use_mask=True, done_on_any=False, seed=1
    )
    net = nn.Sequential(nn.Flatten(-3), nn.LazyLinear(7))
    logits = TensorDictModule(
        lambda grid: net(grid.float()),
        in_keys=[("hunter", "observation", "observation")],
        out_keys=[("hunter", "logits")],
    )
    policy = ProbabilisticActor(
        logits,
        in_keys={"logits": ("hunter", "logits"), "mask": ("hunter", "action_mask")},
        out_keys=[("hunter", "action")],
        distribution_class=MaskedCategorical,
        return_log_prob=True,
    )
    rollout = env.rollout(max_steps=80, policy=policy, break_when_any_done=False)
    hunters = rollout["hunter"]
    assert hunters["action"].shape == (80, 3)
    assert legal(hunters)[hunters["mask"]].all()
    assert torch.isfinite(hunters["action_log_prob"]).all()
    assert rollout["next", "done"].sum() >= 2


def test_torchrl_dead_hunters_are_masked_out():
    # A hunter on a hare's cell that hunts it leaves the game; the other one stays.
    env = PettingZooWrapper(
        staghunt_env.parallel_env(layout=["0H.H1"], max_cycles=5),
        use_mask=True,
        done_on_any=False,
    )
    td = env.reset()
    right, stay, hunt_hare = 3, staghunt_env.STAY, staghunt_env.HUNT_HARE
    for joint in ([right, stay], [hunt_hare, stay], [stay, stay]):
        td["hunter", "action"] = torch.tensor(joint)
        td = env.step(td)
        if joint[0] == hunt_hare:
            assert td["next", "hunter", "terminated"].squeeze(-1).tolist() == [True, False]
            assert not td["next", "done"]
        td = td["next"]
    assert td["hunter", "mask"].tolist() == [False, True]
