"""TorchRL's PettingZooWrapper runs the parallel stag hunt with its action masks (README snippet),
and docs/interop.md's MAPPO recipe trains on it."""

import math

import pytest
import torch
from readme import README, code_blocks
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.envs.libs.pettingzoo import PettingZooWrapper
from torchrl.modules import MaskedCategorical, ProbabilisticActor

import staghunt_env
from staghunt_env.interop import observation_view

pytestmark = [
    pytest.mark.interop,
    # TorchRL warns that it is tested against PettingZoo 1.24.3 only
    pytest.mark.filterwarnings("ignore:PettingZoo in TorchRL is tested:UserWarning"),
    # TorchRL 0.14's Collector builds its own deprecated weight updaters
    pytest.mark.filterwarnings(
        "ignore:Creating .*WeightUpdater.* is deprecated:DeprecationWarning"
    ),
]


def legal(hunters) -> torch.Tensor:
    """Whether each hunter's action was allowed by its action mask, shape (T, N)."""
    return hunters["action_mask"].gather(-1, hunters["action"].unsqueeze(-1)).squeeze(-1)


def test_torchrl_rollout_respects_the_action_masks():
    (block,) = code_blocks('python title="torchrl"')
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


@pytest.fixture(scope="module")
def mappo(run_recipe):
    """docs/interop.md's TorchRL MAPPO recipe, run once: 3 batches of 200 frames."""
    return run_recipe("torchrl-mappo")


def test_mappo_recipe_trains_with_finite_losses(mappo):
    losses, loss_module = mappo["losses"], mappo["loss_module"]
    assert len(losses) == 3 * 2 * 4  # batches x epochs x minibatches
    assert all(math.isfinite(x) for x in losses)
    assert all(torch.isfinite(p).all() for p in loss_module.parameters())


def test_mappo_recipe_acts_legally_on_the_float_view(mappo):
    data = mappo["data"]  # the last batch
    hunters = data["hunter"]
    grid = hunters["observation", "observation"]
    assert grid.shape == (200, 2, 5 * 5 * 5) and grid.dtype == torch.float32
    assert ((grid == 0) | (grid == 1)).all()
    assert legal(hunters)[hunters["mask"]].all()
    assert torch.isfinite(hunters["sample_log_prob"]).all()
    assert torch.isfinite(hunters["state_value"]).all() and torch.isfinite(data["advantage"]).all()
    # MAPPO's centralised critic: one value per hunter, the same for all hunters of a step
    values = hunters["state_value"]
    assert torch.allclose(values[:, 0], values[:, 1])
    assert data["next", "done"].sum() >= 1  # 200 frames outlast a 25-step game


def test_float_view_carries_the_same_grid_as_the_int8_env():
    plain = PettingZooWrapper(staghunt_env.parallel_env(), use_mask=True, seed=3)
    viewed = PettingZooWrapper(
        observation_view(staghunt_env.parallel_env(), dtype="float32", flatten=True),
        use_mask=True,
        seed=3,
    )
    a, b = plain.reset(), viewed.reset()
    grid = a["hunter", "observation", "observation"]
    assert grid.dtype == torch.int8
    flat = b["hunter", "observation", "observation"]
    assert flat.dtype == torch.float32 and flat.shape == (4, 8 * 8 * 7)
    assert torch.equal(flat, grid.reshape(4, -1).float())
    assert torch.equal(a["hunter", "action_mask"], b["hunter", "action_mask"])
