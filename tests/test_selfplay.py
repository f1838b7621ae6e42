"""Self-play training (tom_agents.selfplay): the losses by hand, kill-and-resume equal to an
unbroken run, bad checkpoints, Ray workers that die, the CPU path, the outputs, config errors.

Every run is tiny (2 players on a 4 x 4 grid, 4 simulations, 4 iterations of 60 agent steps).
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import staghunt_env
from tom_agents import checkpoints, load_agent
from tom_agents.devices import resolve_device
from tom_agents.planner.learning import opponent_loss
from tom_agents.run_folders import NothingToResumeError
from tom_agents.selfplay import Trainer, load_config, preset, train
from tom_agents.selfplay import checkpoint as ckpt
from tom_agents.selfplay.cli import main as cli_main
from tom_agents.selfplay.config import SelfPlayConfig, to_toml
from tom_agents.selfplay.learner import RankedRewards, alphazero_loss, value_targets

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ENV = "{grid_size=[4,4], num_players=2, num_hares=5, max_block_components=0, max_cycles=8}"
TINY = [
    "iterations=4",
    "num_games=4",
    "steps_per_iteration=60",
    "num_trees=1",
    "num_simulations=4",
    "channels=[4,8,8]",
    "hidden=32",
    "sgd_iterations=1",
    "minibatch=64",
    "opponent_buffer_size=20",
    "opponent_epochs=1",
    "checkpoint_every=1",
    "keep_checkpoints=3",
    "eval_episodes=2",
    "share_networks=false",  # the paper's layout, one network per seat (the quick preset shares)
    "progress=false",
    "workers=0",  # in this process, whatever the machine's load (the Ray tests say workers=2)
    f"env={ENV}",
]
TIMING = {"env_steps_per_s", "simulations_per_s"}
# One torch thread, as in this process (conftest): tiny networks on a busy 2-core machine are
# many times slower with two threads competing, and both runs then compute identically.
SUBPROCESS_ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "OMP_NUM_THREADS": "1"}


def tiny_config(out_dir: Path, name: str, *extra: str) -> SelfPlayConfig:
    """The config ``cli_command(out_dir, name)`` runs with."""
    overrides = [*TINY, f"out_dir={json.dumps(str(out_dir))}", f'name="{name}"', *extra]
    return load_config("quick", overrides=overrides)


def cli_command(out_dir: Path, name: str, *extra: str) -> list[str]:
    sets = [arg for item in TINY for arg in ("--set", item)]
    return [
        sys.executable,
        "-m",
        "tom_agents.selfplay",
        "--preset",
        "quick",
        *sets,
        "--set",
        f"out_dir={json.dumps(str(out_dir))}",
        "--name",
        name,
        *extra,
    ]


def start(command: list[str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as f:
        return subprocess.Popen(command, stdout=f, stderr=subprocess.STDOUT, env=SUBPROCESS_ENV)


def finish(proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    assert proc.wait(timeout=timeout) == 0, log.read_text()[-3000:]


def checkpoint_names(run_dir: Path) -> list[str]:
    return [p.name for p in ckpt.list_checkpoints(run_dir)]


def wait_for_checkpoints(proc, run_dir: Path, count: int, log: Path, timeout: float = 90) -> None:
    """Poll until ``count`` checkpoints exist; the run must still be going."""
    deadline = time.monotonic() + timeout
    while len(ckpt.list_checkpoints(run_dir)) < count:
        assert proc.poll() is None, f"the run ended before {count} checkpoints:\n{log.read_text()}"
        assert time.monotonic() < deadline, "no checkpoint appeared in time"
        time.sleep(0.01)


def sigkill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def metrics(run_dir: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(run_dir / "metrics.csv", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames), list(reader)


def untimed(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [
        {k: v for k, v in row.items() if k not in TIMING and not k.startswith("time_")}
        for row in rows
    ]


def network_states(path: Path) -> list[dict[str, torch.Tensor]]:
    states = []
    for owner in ckpt.read_checkpoint(path)["owners"]:
        states.append(owner["networks"]["policy_value"])
        states += owner["networks"]["opponents"]
    return states


def assert_all_checkpoints_load(run_dir: Path, config: SelfPlayConfig) -> None:
    """Every checkpoint file reads; anything else in the folder is an unfinished temp file."""
    for path in sorted((run_dir / "checkpoints").iterdir()):
        if path.name.startswith("checkpoint_") and path.suffix == ".safetensors":
            data = ckpt.read_checkpoint(path, config.to_dict())
            assert data["iteration"] == int(path.stem.split("_")[1])
        else:
            assert path.name.endswith(".tmp"), f"unexpected file {path}"


# --------------------------------------------------------------------------- 1. losses by hand


def test_alphazero_loss_matches_a_hand_computation_and_ignores_masked_actions():
    # two rows, 4 actions; row 0 has action 3 illegal, row 1 actions 0 and 2 illegal
    probs = np.array([[0.5, 0.3, 0.2, 0.0], [0.0, 0.6, 0.0, 0.4]])
    log_pi = np.where(probs > 0, np.log(np.where(probs > 0, probs, 1.0)), -1e9)
    pi_target = np.array([[0.25, 0.25, 0.5, 0.0], [0.0, 0.9, 0.0, 0.1]])
    value = np.array([0.5, -0.2])
    z = np.array([1.0, 0.3])
    # by hand: cross-entropy over the legal actions only
    ce0 = -(0.25 * np.log(0.5) + 0.25 * np.log(0.3) + 0.5 * np.log(0.2))
    ce1 = -(0.9 * np.log(0.6) + 0.1 * np.log(0.4))
    policy = (ce0 + ce1) / 2
    mse = ((0.5 - 1.0) ** 2 + (-0.2 - 0.3) ** 2) / 2
    expected = 0.5 * (policy + mse)

    log_pi_t = torch.tensor(log_pi, dtype=torch.float32, requires_grad=True)
    value_t = torch.tensor(value, dtype=torch.float32, requires_grad=True)
    total, policy_t, value_loss = alphazero_loss(
        log_pi_t, value_t, torch.tensor(pi_target, dtype=torch.float32), torch.tensor(z).float()
    )
    assert total.item() == pytest.approx(expected, rel=1e-5)
    assert policy_t.item() == pytest.approx(policy, rel=1e-5)
    assert value_loss.item() == pytest.approx(mse, rel=1e-5)
    total.backward()
    assert torch.isfinite(log_pi_t.grad).all() and torch.isfinite(value_t.grad).all()
    # d total / d log_pi = -0.5 * pi_target / rows; zero on the masked actions
    np.testing.assert_allclose(log_pi_t.grad.numpy(), -0.5 * pi_target / 2, rtol=1e-6)
    np.testing.assert_allclose(value_t.grad.numpy(), 0.5 * 2 * (value - z) / 2, rtol=1e-5)

    # masking with -inf instead of -1e9 gives the same finite loss
    log_inf = torch.tensor(np.where(probs > 0, log_pi, -np.inf), dtype=torch.float32)
    total_inf, _, _ = alphazero_loss(
        log_inf, value_t.detach(), torch.tensor(pi_target).float(), torch.tensor(z).float()
    )
    assert total_inf.item() == pytest.approx(expected, rel=1e-5)


def test_opponent_loss_is_minus_log_of_the_explaining_actions_probability_for_the_goal():
    # 3 transitions, 2 goals, 7 actions
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(7), size=(3, 2))
    goals = np.array([0, 1, 1])
    explains = np.zeros((3, 7), dtype=bool)
    explains[0, [2]] = True  # one action explains the move
    explains[1, [0, 4]] = True  # two actions lead to the same cell
    explains[2, [1, 3, 6]] = True
    expected = -np.mean([np.log(probs[m, goals[m]][explains[m]].sum()) for m in range(3)])
    loss = opponent_loss(torch.tensor(np.log(probs)), torch.tensor(goals), torch.tensor(explains))
    assert loss.item() == pytest.approx(expected, rel=1e-9)
    # a goal-free model (G = 1) uses its single head for every goal label
    loss1 = opponent_loss(
        torch.tensor(np.log(probs[:, :1])), torch.tensor(goals), torch.tensor(explains)
    )
    expected1 = -np.mean([np.log(probs[m, 0][explains[m]].sum()) for m in range(3)])
    assert loss1.item() == pytest.approx(expected1, rel=1e-9)


def test_value_targets_discount_the_final_reward_back_from_the_last_decision():
    np.testing.assert_allclose(value_targets(10.0, 3, 0.5), [2.5, 5.0, 10.0])
    np.testing.assert_allclose(value_targets(1.0, 4, 0.95), 0.95 ** np.array([3, 2, 1, 0]))
    np.testing.assert_allclose(value_targets(-2.0, 1, 0.9), [-2.0])
    assert value_targets(1.0, 0, 0.95).shape == (0,)


def test_ranked_rewards_raw_until_initial_then_plus_minus_one_against_the_percentile():
    rng = np.random.default_rng(0)
    ranked = RankedRewards(percentile=50.0, size=4, initial=3)
    assert ranked.normalise(1.0, rng) == 1.0  # raw
    assert ranked.normalise(2.0, rng) == 2.0  # raw
    assert ranked.normalise(3.0, rng) == 1.0  # buffer [1, 2, 3]: median 2
    assert ranked.normalise(0.0, rng) == -1.0  # [1, 2, 3, 0]: median 1.5
    # [2, 3, 0, 2.4] (the 1 dropped: the buffer holds 4): median 2.2, so 2.4 ranks above
    assert ranked.normalise(2.4, rng) == 1.0
    assert list(ranked.buffer) == [2.0, 3.0, 0.0, 2.4]


def test_ranked_rewards_sequence_against_numpy():
    rng = np.random.default_rng(1)
    ranked = RankedRewards(percentile=75.0, size=5, initial=3)
    rewards = [0.0, 1.0, 10.0, 0.0, 1.0, 1.0, 10.0, 0.0, 5.0]
    buffer: list[float] = []
    for r in rewards:
        buffer = [*buffer, r][-5:]
        out = ranked.normalise(r, rng)
        if len(buffer) < 3:
            assert out == r
        else:
            threshold = np.percentile(buffer, 75.0)
            if r > threshold:
                assert out == 1.0
            elif r < threshold:
                assert out == -1.0
            else:
                assert out in (-1.0, 1.0)
    # ties with the threshold go either way
    tie = RankedRewards(percentile=50.0, size=10, initial=1)
    outs = {tie.normalise(2.0, rng) for _ in range(40)}
    assert outs == {-1.0, 1.0}


# --------------------------------------------------------------------------- the runs
# Run "a" goes unbroken; run "b" (the same config) is SIGKILLed after its second checkpoint
# and resumed. They run side by side (two cores).


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    log_a, log_b = out / "a.log", out / "b.log"
    proc_a = start(cli_command(out, "a"), log_a)
    proc_b = start(cli_command(out, "b"), log_b)
    try:
        wait_for_checkpoints(proc_b, out / "b", 2, log_b)
        sigkill(proc_b)
        assert proc_b.returncode == -signal.SIGKILL
        killed = {
            "checkpoints": checkpoint_names(out / "b"),
            "metrics": metrics(out / "b")[1] if (out / "b" / "metrics.csv").exists() else [],
            "pid": proc_b.pid,
            "lock": (out / "b" / ".lock").read_text(),  # left behind by the kill
        }
        assert_all_checkpoints_load(out / "b", tiny_config(out, "b"))
        proc_b = start(cli_command(out, "b", "--resume"), log_b)
        finish(proc_b, log_b)
        finish(proc_a, log_a)
    finally:
        for proc in (proc_a, proc_b):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return {"out": out, "killed": killed, "log_b": log_b}


def test_a_run_killed_by_sigkill_resumes_to_the_same_result_as_an_unbroken_run(runs):
    out = runs["out"]
    assert runs["killed"]["checkpoints"][:2] == [
        "checkpoint_000001.safetensors",
        "checkpoint_000002.safetensors",
    ]
    assert len(runs["killed"]["metrics"]) < 4, "the kill came before the end"
    assert "resumed from" in runs["log_b"].read_text()
    fields_a, rows_a = metrics(out / "a")
    fields_b, rows_b = metrics(out / "b")
    assert fields_a == fields_b
    assert [r["iteration"] for r in rows_b] == ["1", "2", "3", "4"], "nothing lost"
    assert untimed(rows_a) == untimed(rows_b)
    # the trained networks too, bit for bit
    last = "checkpoint_000004.safetensors"
    assert checkpoint_names(out / "a") == checkpoint_names(out / "b")
    for sa, sb in zip(
        network_states(out / "a" / "checkpoints" / last),
        network_states(out / "b" / "checkpoints" / last),
        strict=True,
    ):
        assert sa.keys() == sb.keys()
        for key in sa:
            assert torch.equal(sa[key], sb[key]), key


def test_a_lock_left_by_a_sigkilled_run_does_not_block_its_resume(runs):
    assert runs["killed"]["lock"] == f"{runs['killed']['pid']}\n"  # the killed run's lock file
    assert "resumed from" in runs["log_b"].read_text()  # ... and yet --resume went ahead
    assert not (runs["out"] / "b" / ".lock").exists(), "released when the resumed run ended"


def test_tensorboard_of_the_resumed_run_has_each_iteration_once(runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for name in ("a", "b"):
        acc = EventAccumulator(str(runs["out"] / name / "tensorboard"))
        acc.Reload()
        steps = [e.step for e in acc.Scalars("pv_loss")]
        assert steps == [1, 2, 3, 4], (name, steps)


def test_a_kill_at_random_moments_leaves_only_loadable_checkpoints(runs, tmp_path):
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    out, log = tmp_path, tmp_path / "c.log"
    config = tiny_config(out, "c")
    for attempt in range(2):
        proc = start(cli_command(out, "c", *(["--resume"] if attempt else [])), log)
        try:
            before = len(ckpt.list_checkpoints(out / "c"))
            # a moment somewhere in the training, checkpoint writes included
            wait_for_checkpoints(proc, out / "c", min(before + 1, 3), log)
            time.sleep(rng.uniform(0.0, 1.0))
            sigkill(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert_all_checkpoints_load(out / "c", config)
    proc = start(cli_command(out, "c", "--resume"), log)
    finish(proc, log)
    assert_all_checkpoints_load(out / "c", config)
    assert untimed(metrics(out / "c")[1]) == untimed(metrics(runs["out"] / "a")[1]), seed


def test_a_kill_while_a_checkpoint_is_written_leaves_the_previous_one_whole(tmp_path):
    path = tmp_path / "checkpoints" / "checkpoint_000001.safetensors"
    checkpoints.save(path, ckpt.KIND, {"iteration": 1})
    script = (
        "import sys, torch; from tom_agents import checkpoints; "
        "checkpoints.save(sys.argv[1], 'selfplay', {'iteration': 2, 'big': torch.ones(15_000_000)})"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], env=SUBPROCESS_ENV)
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in path.parent.glob("*.tmp")):
            assert proc.poll() is None, "the write finished before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.001)
        sigkill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    _, data = checkpoints.load(path, ckpt.KIND)
    leftovers = list(path.parent.glob("*.tmp"))
    if leftovers:  # killed before the rename: the old checkpoint is untouched
        assert data["iteration"] == 1
    assert ckpt.list_checkpoints(tmp_path) == [path], "temp files are not checkpoints"


# --------------------------------------------------------------------------- 3. bad checkpoints


@pytest.fixture
def run_copy(runs, tmp_path):
    import shutil

    shutil.copytree(runs["out"] / "a", tmp_path / "a")
    config = load_config(
        "quick",
        path=tmp_path / "a" / "config.toml",
        overrides=[f"out_dir={json.dumps(str(tmp_path))}"],
    )
    return tmp_path / "a", config


def test_a_truncated_checkpoint_is_named_skipped_and_training_resumes_before_it(
    run_copy, runs, capsys
):
    run_dir, config = run_copy
    names = checkpoint_names(run_dir)
    assert names == [
        "checkpoint_000002.safetensors",
        "checkpoint_000003.safetensors",
        "checkpoint_000004.safetensors",
    ]
    newest = run_dir / "checkpoints" / names[-1]
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2])

    with pytest.raises(ckpt.CheckpointError, match=r"checkpoint_000004\.safetensors"):
        ckpt.read_checkpoint(newest, config.to_dict())
    with pytest.warns(UserWarning, match=r"checkpoint_000004\.safetensors"):
        path, loaded = ckpt.latest_good_checkpoint(run_dir, config.to_dict())
    assert path.name == "checkpoint_000003.safetensors" and loaded["iteration"] == 3

    with pytest.warns(UserWarning, match=r"checkpoint_000004\.safetensors"):
        trainer = train(config, resume=True)
    assert "checkpoint_000003.safetensors (iteration 3)" in capsys.readouterr().out
    assert trainer.iteration == 4
    # the redone iteration matches the unbroken run (in-process: threads may differ, so approx)
    rows, rows_a = untimed(metrics(run_dir)[1]), untimed(metrics(runs["out"] / "a")[1])
    assert [r["iteration"] for r in rows] == ["1", "2", "3", "4"]
    for row, row_a in zip(rows, rows_a, strict=True):
        assert row.keys() == row_a.keys()
        for key in row:
            a, b = row_a[key], row[key]
            assert (a == b) or float(b) == pytest.approx(float(a), rel=1e-4, abs=1e-6), key
    ckpt.read_checkpoint(newest, config.to_dict())  # rewritten whole


def test_random_bytes_foreign_files_and_other_configs_are_rejected_by_name(run_copy):
    run_dir, config = run_copy
    expected = config.to_dict()
    folder = run_dir / "checkpoints"
    good = ckpt.read_checkpoint(folder / "checkpoint_000004.safetensors")

    junk = folder / "checkpoint_000004.safetensors"
    junk.write_bytes(os.urandom(junk.stat().st_size))
    with pytest.raises(ckpt.CheckpointError, match=r"checkpoint_000004\.safetensors"):
        ckpt.read_checkpoint(junk, expected)

    planner = {**good["config"]["planner"], "hidden": 16}
    other = dict(good, config={**good["config"], "seed": 7, "planner": planner})
    checkpoints.save(folder / "checkpoint_000003.safetensors", ckpt.KIND, other)
    with pytest.raises(
        ckpt.CheckpointError, match=r"checkpoint_000003\.safetensors.*another config"
    ):
        ckpt.read_checkpoint(folder / "checkpoint_000003.safetensors", expected)
    with pytest.raises(ckpt.CheckpointError, match="planner"):
        ckpt.read_checkpoint(folder / "checkpoint_000003.safetensors", expected)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path, data = ckpt.latest_good_checkpoint(run_dir, expected)
    messages = [str(w.message) for w in caught]
    assert any("checkpoint_000004.safetensors" in m for m in messages), messages
    assert any("checkpoint_000003.safetensors" in m for m in messages), messages
    assert path.name == "checkpoint_000002.safetensors" and data["iteration"] == 2

    torch.save({"weights": torch.zeros(3)}, folder / "checkpoint_000002.safetensors")  # not ours
    with pytest.raises(ckpt.CheckpointError, match=r"checkpoint_000002\.safetensors"):
        ckpt.read_checkpoint(folder / "checkpoint_000002.safetensors", expected)
    with warnings.catch_warnings(), pytest.raises(NothingToResumeError) as refused:
        warnings.simplefilter("error")  # the refusal names them all: no warnings besides
        ckpt.latest_good_checkpoint(run_dir, expected)
    for name in ("000004", "000003", "000002"):  # each file named, with its fault
        assert f"checkpoint_{name}.safetensors: " in str(refused.value)
    assert "another configuration" in str(refused.value)

    # settings a resume may change are not "another configuration"
    changed = {**expected, "iterations": 9, "device": "cpu", "progress": True}
    checkpoints.save(folder / "checkpoint_000005.safetensors", ckpt.KIND, good)
    assert ckpt.read_checkpoint(folder / "checkpoint_000005.safetensors", changed)["iteration"] == 4


# --------------------------------------------------------------------------- 4. Ray workers


def test_ray_workers_complete_an_iteration_when_one_is_killed_mid_run(tmp_path):
    import ray

    config = tiny_config(tmp_path, "ray", "workers=2", "steps_per_iteration=120")
    trainer = Trainer(config)
    try:
        first = trainer.step()
        assert first["agent_steps"] >= 120
        assert len(trainer.workers) == 2
        victim = trainer.workers[0]
        old_pid = ray.get(victim.pid.remote())
        killed = threading.Event()

        def kill():
            os.kill(old_pid, signal.SIGKILL)
            killed.set()

        timer = threading.Timer(0.3, kill)
        timer.start()
        second = trainer.step()
        timer.join()
        assert killed.is_set()
        assert second["iteration"] == 2 and second["agent_steps"] >= 120
        assert second["episodes"] >= 1
        new_pid = ray.get(victim.pid.remote())
        assert new_pid != old_pid, "the dead worker was replaced"
        assert trainer.step()["iteration"] == 3
    finally:
        ray.shutdown()


def test_a_run_on_ray_workers_resumes_from_a_checkpoint_exactly_as_it_would_have_gone_on(
    tmp_path,
):
    import ray

    config = tiny_config(tmp_path, "ray", "workers=2", "ranked_rewards=true")
    unbroken = Trainer(config)
    try:
        unbroken.step()
        path = ckpt.save_checkpoint(tmp_path, unbroken, keep=1)
        going_on = [unbroken.step() for _ in range(2)]
        weights = unbroken.owners[0].networks.state_dict()["policy_value"]
        for worker in unbroken.workers:
            ray.kill(worker)
        deadline = time.monotonic() + 60  # Ray frees the killed actors' CPUs a moment later
        while ray.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        resumed = Trainer(config)
        ckpt.restore_trainer(resumed, ckpt.read_checkpoint(path, config.to_dict()))
        assert [untimed([resumed.step()])[0] for _ in range(2)] == untimed(going_on)
        for key, value in resumed.owners[0].networks.state_dict()["policy_value"].items():
            assert torch.equal(value, weights[key]), key
    finally:
        ray.shutdown()


@pytest.mark.parametrize(
    ("load", "ray_installed", "on_cpu", "expected"),
    [
        (0.1, True, True, 2),  # two free cores: one actor on each
        (1.2, True, True, 0),  # one of them busy: actors would slow the run (0.55-0.6x)
        (0.1, False, True, 0),
        (0.1, True, False, 0),  # the networks on a GPU: Ray's actors play on the CPU
    ],
)
def test_unset_workers_are_one_ray_actor_per_free_core_where_that_pays(
    monkeypatch, tmp_path, load, ray_installed, on_cpu, expected
):
    from tom_agents import threads
    from tom_agents.selfplay.train import with_workers

    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "load_average", lambda: load)
    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: found(name, *a) if ray_installed or name != "ray" else None,
    )
    assert threads.auto_workers(num_games=6, on_cpu=on_cpu)[0] == expected
    unset = dataclasses.replace(tiny_config(tmp_path, "auto"), workers=None, device="cpu")
    if on_cpu:
        decided, why = with_workers(unset)
        assert decided.workers == expected and why, "the choice is made and said"
    assert threads.auto_workers(num_games=1, on_cpu=True)[0] <= 1, "at most one actor per game"
    assert with_workers(dataclasses.replace(unset, workers=1)) == (
        dataclasses.replace(unset, workers=1),
        "",
    ), "a count given is kept"


# --------------------------------------------------------------------------- 5. the device path


def test_resolve_device_auto_is_cuda_only_when_available():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


def test_train_with_an_explicit_cpu_device_goes_through_the_same_functions(tmp_path):
    config = tiny_config(tmp_path, "cpu", 'device="cpu"', "iterations=2", "share_networks=true")
    trainer = train(config)
    assert trainer.device == "cpu" and trainer.iteration == 2
    assert len(trainer.owners) == 1  # shared networks
    for owner in trainer.owners:
        assert all(p.device.type == "cpu" for p in owner.networks.policy_value.parameters())
    rows = metrics(config.run_dir)[1]
    assert [r["iteration"] for r in rows] == ["1", "2"]
    assert all(np.isfinite(float(r["pv_loss"])) for r in rows if r["pv_loss"])
    assert checkpoint_names(config.run_dir)[-1] == "checkpoint_000002.safetensors"


# --------------------------------------------------------------------------- 6. outputs


def test_a_run_writes_config_metrics_tensorboard_curves_gif_and_checkpoints(runs):
    run_dir = runs["out"] / "a"
    with open(run_dir / "config.toml", "rb") as f:
        parsed = tomllib.load(f)
    assert parsed["name"] == "a" and parsed["iterations"] == 4
    assert parsed["env"]["grid_size"] == [4, 4]
    # The thread counts the run used are recorded (tom_agents.threads: one each by default).
    assert (parsed["torch_threads"], parsed["numba_threads"]) == (1, 1)
    config = dataclasses.replace(tiny_config(runs["out"], "a"), torch_threads=1, numba_threads=1)
    assert load_config("quick", path=run_dir / "config.toml") == config

    fields, rows = metrics(run_dir)
    required = {
        "iteration",
        "reward_mean",
        "reward_hunter_0",
        "reward_hunter_1",
        "stag_rate",
        "hare_rate",
        "episode_length",
        "pv_loss",
        "policy_loss",
        "value_loss",
        "opponent_loss",
        "opponent_accuracy",
        "belief_accuracy",
        "env_steps_per_s",
        "simulations_per_s",
    }
    assert required <= set(fields), required - set(fields)
    assert fields[0] == "iteration" and len(rows) == 4
    for row in rows:
        assert float(row["env_steps_per_s"]) > 0 and float(row["simulations_per_s"]) > 0
    assert any(row["opponent_loss"] for row in rows), "the opponent models trained"

    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert (run_dir / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run_dir / "episode_latest.gif").read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    assert checkpoint_names(run_dir) == [f"checkpoint_{i:06d}.safetensors" for i in (2, 3, 4)]


def test_the_quick_preset_round_trips_through_its_toml(tmp_path):
    for name in ("quick", "paper"):
        config = preset(name)
        path = tmp_path / f"{name}.toml"
        path.write_text(to_toml(config))
        assert load_config(name, path=path) == config, name


def test_load_agent_gives_one_agent_per_seat_playing_a_legal_episode(runs):
    path = runs["out"] / "a" / "checkpoints" / "checkpoint_000004.safetensors"
    agents = [load_agent(path, seat=i, seed=3 + i) for i in range(2)]
    assert agents[0] is not agents[1]
    saved = ckpt.read_checkpoint(path)["owners"]
    assert len(saved) == 2, "ToM1 and ToM2"
    for agent, owner in zip(agents, saved, strict=True):
        for key, value in owner["networks"]["policy_value"].items():
            assert torch.equal(agent.networks.policy_value.state_dict()[key], value)

    env = staghunt_env.parallel_env(config=agents[0].config)
    observations, infos = env.reset(seed=5)
    seats = dict(zip(env.possible_agents, agents, strict=True))
    for name, agent in seats.items():
        agent.reset(name)
    steps = 0
    while env.agents:
        actions = {}
        for name in env.agents:
            action = seats[name].act(observations[name], infos[name])
            assert observations[name]["action_mask"][action] == 1, (name, action)
            actions[name] = action
        observations, _, _, _, infos = env.step(actions)
        steps += 1
    assert 1 <= steps <= 8

    other = runs["out"] / "plain.pt"
    torch.save({"x": 1}, other)
    with pytest.raises(ValueError, match=r"plain\.pt"):
        load_agent(other)


# --------------------------------------------------------------------------- 7. config errors


def test_config_errors_name_the_key(tmp_path, capsys):
    with pytest.raises(ValueError, match="bogus_key"):
        load_config("quick", overrides=["bogus_key=1"])
    with pytest.raises(ValueError, match="iterations"):
        load_config("quick", overrides=["iterations=0"])
    with pytest.raises(ValueError, match="iterations"):
        load_config("quick", overrides=["iterations=abc"])
    with pytest.raises(ValueError, match="num_simulations"):
        load_config("quick", overrides=["num_simulations=2.5"])
    with pytest.raises(ValueError, match="workers"):
        load_config("quick", overrides=["workers=-1"])
    with pytest.raises(ValueError, match="key=value"):
        load_config("quick", overrides=["iterations"])
    with pytest.raises(ValueError, match="nonsense"):
        load_config("nonsense")
    bad = tmp_path / "bad.toml"
    bad.write_text("iterations = 3\nlearning_rate = 0.1\n")
    with pytest.raises(ValueError, match="learning_rate"):
        load_config("quick", path=bad)
    # the command line reports the same errors as usage errors (exit status 2)
    for setting, key in (("bogus_key=1", "bogus_key"), ("iterations=0", "iterations")):
        with pytest.raises(SystemExit, match="2"):
            cli_main(["--set", setting])
        assert key in capsys.readouterr().err


def test_the_cli_shows_its_phases_on_stderr_and_ends_with_a_one_line_summary(tmp_path, capsys):
    sets = [arg for item in [*TINY, "iterations=2"] for arg in ("--set", item)]
    out_dir = ["--set", f"out_dir={json.dumps(str(tmp_path))}"]
    cli_main([*sets, *out_dir, "--set", "progress=true", "--name", "shown"])
    captured = capsys.readouterr()
    phases = ["compiling", "evaluating (untrained)", "collecting", "learning"]
    phases += ["evaluating (trained)", "writing outputs"]
    for phase in phases:
        assert f"shown: {phase}" in captured.err, phase
    assert "nan" not in captured.err
    (line,) = captured.out.splitlines()
    assert line.startswith("shown: 2 iterations, ") and "evaluation reward" in line
    assert line.endswith(f"outputs in {tmp_path / 'shown'}/")
    cli_main([*sets, *out_dir, "--name", "quiet", "--no-progress"])
    captured = capsys.readouterr()
    assert captured.err == "" and len(captured.out.splitlines()) == 1


def test_without_imageio_the_run_warns_before_training_and_writes_no_gif(tmp_path, monkeypatch):
    """A missing optional piece is said at the start, not found after the work (GIFs skipped)."""
    train_module = importlib.import_module("tom_agents.selfplay.train")
    monkeypatch.setattr(train_module, "gifs_available", lambda: False)
    start, warned_first = train_module._start, []

    def start_after_the_warning(*args):
        warned_first.append(any("imageio" in str(w.message) for w in caught))
        return start(*args)

    monkeypatch.setattr(train_module, "_start", start_after_the_warning)
    config = tiny_config(tmp_path, "no_gif", "iterations=1", "eval_episodes=0", "progress=false")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(config)
    assert warned_first == [True], "the warning came before the training"
    assert any("no episode GIFs" in str(w.message) for w in caught)
    assert not list(config.run_dir.glob("*.gif"))
    assert (config.run_dir / "metrics.csv").exists()
    assert (config.run_dir / "learning_curves.png").exists()
