"""Run folders (tom_agents.run_folders) through the three commands: one run per folder at a time,
no run writing into an older run's folder, resume that refuses to start from nothing, outputs
checked before any work, I/O errors named plainly, Ray workers that fit the machine.

Refusals are one line on stderr and exit status 1; the in-process runs are one tiny iteration.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from test_selfplay import SUBPROCESS_ENV, TINY, cli_command

from tom_agents import checkpoints
from tom_agents.arena import cli as arena_cli
from tom_agents.ppo import train as ppo_train
from tom_agents.run_folders import Place, RunError, WriteError, claim
from tom_agents.selfplay import checkpoint as ckpt
from tom_agents.selfplay.cli import main as selfplay_main
from tom_agents.selfplay.config import load_config
from tom_agents.selfplay.train import OUTPUTS

ARENA = ["nearest_stag", "random", "--episodes", "1", "--matches", "1", "--no-progress"]
ARENA += ["--env", "grid_size=[5,5]"]
PPO = ["--timesteps", "1024", "--num-envs", "2", "--no-progress", "--env", "grid_size=[5,5]"]
PPO += ["--env", "max_block_components=0", "--env", "max_cycles=10"]
PPO += ["--set", "n_steps=64", "--set", "batch_size=256", "--set", "net_arch=[32]"]


def selfplay_argv(out: Path, *extra: str) -> list[str]:
    """One tiny iteration in ``out`` (the default name unless ``extra`` has --name)."""
    sets = [*TINY, "iterations=1", "eval_episodes=0", f"out_dir={json.dumps(str(out))}"]
    return [*(arg for item in sets for arg in ("--set", item)), *extra]


def refused(capsys, main, argv: list[str]) -> str:
    """Run ``main(argv)``: it must end with exit status 1 and one line on stderr, returned."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def never(*args, **kwargs):
    raise AssertionError("called, but the run should have been refused before any work")


def old_run(folder: Path, *names: str) -> dict[str, bytes]:
    """Files standing for an earlier run in ``folder``; returns their contents."""
    files = {}
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"old {name}\n".encode())
        files[name] = path.read_bytes()
    return files


def contents(folder: Path, names) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names}


# ------------------------------------------------------------------ claims: locks and numbering


def test_a_held_folder_is_in_use_for_every_other_claim_until_released(tmp_path):
    place = Place.run_folder(tmp_path / "x", OUTPUTS)
    with claim(place):
        assert (tmp_path / "x" / ".lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(RunError, match=rf"{tmp_path / 'x'} is in use .*pid {os.getpid()}"):
            claim(place)
        with pytest.raises(RunError, match="in use"):
            claim(place, resume=True)
        with claim(place, fresh=True) as other:  # a default name moves on instead
            assert other.path == tmp_path / "x_2"
    assert not (tmp_path / "x" / ".lock").exists()
    with claim(place) as again:
        assert again.path == tmp_path / "x"


def test_default_places_are_numbered_like_sb3_runs(tmp_path):
    (tmp_path / "ppo.safetensors").write_bytes(b"old")
    (tmp_path / "ppo_2.safetensors").write_bytes(b"old")
    with claim(Place.output_file(tmp_path / "ppo.safetensors"), fresh=True) as held:
        assert held.path == tmp_path / "ppo_3.safetensors"
        assert held.place.lock_path == tmp_path / ".ppo_3.safetensors.lock"
    assert Place.run_folder("runs/quick", OUTPUTS).numbered(2).path == Path("runs/quick_2")


# ------------------------------------------------------------------ tom-selfplay


def test_selfplay_second_run_with_default_name_gets_fresh_folder(tmp_path, capsys):
    selfplay_main(selfplay_argv(tmp_path))
    first = contents(tmp_path / "quick", ["config.toml", "metrics.csv"])
    capsys.readouterr()
    selfplay_main(selfplay_argv(tmp_path))
    out = capsys.readouterr().out
    assert (
        f"{tmp_path / 'quick'} holds an earlier run: this run writes to {tmp_path / 'quick_2'}"
        in out
    )
    assert f"outputs in {tmp_path / 'quick_2'}/" in out
    assert contents(tmp_path / "quick", ["config.toml", "metrics.csv"]) == first
    assert 'name = "quick_2"' in (tmp_path / "quick_2" / "config.toml").read_text()
    assert len(list((tmp_path / "quick" / "tensorboard").iterdir())) == 1, "no second event file"
    assert ckpt.list_checkpoints(tmp_path / "quick_2")


def test_selfplay_explicit_name_existing_run_refused(tmp_path, capsys):
    before = old_run(tmp_path / "x", "config.toml", "metrics.csv")
    err = refused(capsys, selfplay_main, selfplay_argv(tmp_path, "--name", "x"))
    assert f"{tmp_path / 'x'} already holds a run (config.toml, metrics.csv)" in err
    assert "--resume to continue it, --overwrite to replace it" in err
    assert contents(tmp_path / "x", before) == before
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["config.toml", "metrics.csv"]


def test_selfplay_overwrite_clears_the_old_runs_files(tmp_path):
    stale = ["checkpoints/checkpoint_000099.safetensors", "tensorboard/events.out.tfevents.0"]
    stale += ["episode_000050.gif", "evaluation.json"]
    old_run(tmp_path / "x", *stale, "notes.txt")
    selfplay_main(selfplay_argv(tmp_path, "--name", "x", "--overwrite"))
    assert not any((tmp_path / "x" / name).exists() for name in stale)
    assert (tmp_path / "x" / "notes.txt").read_bytes() == b"old notes.txt\n", "not a run output"
    assert [p.name for p in ckpt.list_checkpoints(tmp_path / "x")] == [
        "checkpoint_000001.safetensors"
    ]
    assert len(list((tmp_path / "x" / "tensorboard").iterdir())) == 1


def unusable_checkpoints(run_dir: Path) -> None:
    folder = run_dir / "checkpoints"
    folder.mkdir(parents=True)
    (folder / "checkpoint_000001.safetensors").write_bytes(b"random bytes, not a checkpoint")
    (folder / "checkpoint_000002.safetensors").write_bytes(b"")
    other = {"config": {"seed": 99}, "iteration": 3}
    checkpoints.save(folder / "checkpoint_000003.safetensors", ckpt.KIND, other)
    (run_dir / "metrics.csv").write_text("iteration,reward_mean\n1,0.5\n2,0.7\n3,0.9\n")


def test_resume_with_only_unreadable_checkpoints_refuses_and_keeps_metrics(tmp_path, capsys):
    unusable_checkpoints(tmp_path / "x")
    before = contents(tmp_path / "x", ["metrics.csv"])
    stamp = (tmp_path / "x" / "metrics.csv").stat().st_mtime_ns
    err = refused(capsys, selfplay_main, selfplay_argv(tmp_path, "--name", "x", "--resume"))
    assert f"nothing to resume from {tmp_path / 'x'}: " in err
    assert "checkpoint_000001.safetensors: not a safetensors file" in err
    assert "checkpoint_000002.safetensors: too short (0 bytes)" in err
    assert "checkpoint_000003.safetensors: it comes from a run with another configuration" in err
    assert "pass --overwrite" in err
    assert contents(tmp_path / "x", ["metrics.csv"]) == before
    assert (tmp_path / "x" / "metrics.csv").stat().st_mtime_ns == stamp
    assert not (tmp_path / "x" / "config.toml").exists()


def test_resume_of_a_missing_run_folder_refuses_without_creating_it(tmp_path, capsys):
    err = refused(capsys, selfplay_main, selfplay_argv(tmp_path, "--name", "x", "--resume"))
    assert f"nothing to resume from {tmp_path / 'x'}: it does not exist" in err
    assert not (tmp_path / "x").exists()


def test_resume_with_overwrite_and_nothing_usable_starts_over(tmp_path):
    unusable_checkpoints(tmp_path / "x")
    selfplay_main(selfplay_argv(tmp_path, "--name", "x", "--resume", "--overwrite"))
    names = [p.name for p in ckpt.list_checkpoints(tmp_path / "x")]
    assert names == ["checkpoint_000001.safetensors"]
    rows = (tmp_path / "x" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("1,"), "a new run of one iteration"


def test_selfplay_run_folder_in_use_refused(tmp_path, capsys):
    with claim(Place.run_folder(tmp_path / "x", OUTPUTS)):
        err = refused(capsys, selfplay_main, selfplay_argv(tmp_path, "--name", "x"))
    assert f"{tmp_path / 'x'} is in use by another run (pid {os.getpid()})" in err
    assert not (tmp_path / "x" / "config.toml").exists()


def test_selfplay_uncreatable_run_folder_refused_before_work(tmp_path, capsys):
    (tmp_path / "file").write_text("a file, not a folder")
    argv = selfplay_argv(tmp_path / "file" / "runs")
    err = refused(capsys, selfplay_main, argv)
    assert f"cannot create {tmp_path / 'file' / 'runs' / 'quick'}: Not a directory" in err


def test_two_trainers_on_one_run_name_second_refused_first_intact(tmp_path):
    first_log = tmp_path / "first.log"
    with open(first_log, "wb") as log:
        first = subprocess.Popen(
            cli_command(tmp_path, "x", "--set", "iterations=30"),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=SUBPROCESS_ENV,
        )
    try:
        deadline = time.monotonic() + 90
        while not ckpt.list_checkpoints(tmp_path / "x"):  # the first run is under way
            assert first.poll() is None, first_log.read_text()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = subprocess.run(
            cli_command(tmp_path, "x", "--set", "iterations=2", "--seed", "5"),
            capture_output=True,
            text=True,
            env=SUBPROCESS_ENV,
            timeout=120,
        )
        assert first.wait(timeout=180) == 0, first_log.read_text()[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert second.returncode == 1
    assert f"tom-selfplay: error: {tmp_path / 'x'} is in use by another run (pid {first.pid})" in (
        second.stderr
    )
    assert "Traceback" not in second.stderr
    # the first run's outputs are its own: its config, every iteration once, its checkpoints
    config = load_config("quick", path=tmp_path / "x" / "config.toml")
    assert (config.iterations, config.seed) == (30, 0)
    rows = (tmp_path / "x" / "metrics.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == [str(i) for i in range(1, 31)]
    for path in ckpt.list_checkpoints(tmp_path / "x"):
        ckpt.read_checkpoint(path, config.to_dict())
    assert len(list((tmp_path / "x" / "tensorboard").iterdir())) == 1


# ------------------------------------------------------------------ disk full


def failing_fsync(monkeypatch, fragment: str) -> None:
    """``os.fsync`` fails with ENOSPC for files whose path contains ``fragment``."""
    real = os.fsync

    def fsync(fd: int) -> None:
        if fragment in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to name an fd's file")
def test_disk_full_error_names_path_and_reason(tmp_path, monkeypatch):
    path = tmp_path / "checkpoints" / "checkpoint_000004.safetensors"
    checkpoints.save(path, ckpt.KIND, {"iteration": 3})
    failing_fsync(monkeypatch, "checkpoint_000004")
    with pytest.raises(WriteError) as error:
        checkpoints.save(path, ckpt.KIND, {"iteration": 4})
    assert str(error.value) == f"cannot write {path}: No space left on device"
    assert error.value.errno == errno.ENOSPC and isinstance(error.value, OSError)
    assert checkpoints.load(path, ckpt.KIND)[1] == {"iteration": 3}, "the good one survives"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left"


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to name an fd's file")
def test_disk_full_during_selfplay_is_one_line_and_keeps_the_good_checkpoint(
    tmp_path, monkeypatch, capsys
):
    failing_fsync(monkeypatch, "checkpoint_000002")
    argv = selfplay_argv(tmp_path, "--name", "x", "--set", "iterations=3")
    err = refused(capsys, selfplay_main, argv)
    path = tmp_path / "x" / "checkpoints" / "checkpoint_000002.safetensors"
    assert err == f"tom-selfplay: error: cannot write {path}: No space left on device\n"
    assert [p.name for p in (tmp_path / "x" / "checkpoints").iterdir()] == [
        "checkpoint_000001.safetensors"
    ]
    assert ckpt.read_checkpoint(tmp_path / "x" / "checkpoints" / "checkpoint_000001.safetensors")
    assert not (tmp_path / "x" / ".lock").exists(), "the lock goes with the run"


# ------------------------------------------------------------------ Ray capacity


def test_ray_workers_beyond_capacity_refused_before_work(tmp_path, monkeypatch, capsys):
    import ray

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", never)  # no cluster is started for it
    argv = selfplay_argv(tmp_path, "--workers", "4", "--set", "num_games=4")
    err = refused(capsys, selfplay_main, argv)
    assert "--workers 4: each worker needs a CPU, but this machine has 2" in err
    assert not (tmp_path / "quick").exists(), "refused before the run folder"


def test_ray_workers_beyond_the_clusters_free_cpus_refused(tmp_path, monkeypatch, capsys):
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    monkeypatch.setattr(ray, "available_resources", lambda: {"CPU": 2.0})
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 8.0})
    argv = selfplay_argv(tmp_path, "--workers", "4", "--set", "num_games=4")
    err = refused(capsys, selfplay_main, argv)
    assert "--workers 4: each worker needs a CPU, but the Ray cluster has 2 free (of 8)" in err


def test_arena_workers_beyond_capacity_refused_before_matches(tmp_path, monkeypatch, capsys):
    import ray

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", never)
    argv = [*ARENA, "--workers", "4", "--matches", "4", "--out", str(tmp_path / "a")]
    assert "--workers 4" in refused(capsys, arena_cli.main, argv)
    assert not list((tmp_path / "a").iterdir())


# ------------------------------------------------------------------ tom-arena


def test_arena_second_run_with_default_out_gets_fresh_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    old = old_run(tmp_path / "runs" / "arena", "summary.md", "replay_episode_1.gif")
    arena_cli.main(ARENA)
    assert "runs/arena holds an earlier run: this run writes to runs/arena_2" in (
        capsys.readouterr().out
    )
    assert contents(tmp_path / "runs" / "arena", old) == old
    assert {p.name for p in (tmp_path / "runs" / "arena_2").iterdir()} == {
        *("episodes.csv", "summary.md", "rewards.png")
    }


def test_arena_explicit_out_existing_run_refused(tmp_path, capsys):
    old = old_run(tmp_path / "a", "summary.md", "replay_episode_3.gif")
    err = refused(capsys, arena_cli.main, [*ARENA, "--out", str(tmp_path / "a")])
    assert f"{tmp_path / 'a'} already holds a run (replay_episode_3.gif, summary.md)" in err
    assert "pass --overwrite to replace it, or choose another --out" in err
    assert "--resume" not in err
    assert contents(tmp_path / "a", old) == old


def test_arena_overwrite_removes_the_old_runs_gifs(tmp_path):
    old_run(tmp_path / "a", "summary.md", "replay_episode_3.gif")
    arena_cli.main([*ARENA, "--out", str(tmp_path / "a"), "--overwrite"])
    assert {p.name for p in (tmp_path / "a").iterdir()} == {
        *("episodes.csv", "summary.md", "rewards.png")
    }


def test_arena_out_uncreatable_refused_before_matches(tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("a file, not a folder")
    monkeypatch.setattr(arena_cli, "play", never)  # no match is played
    err = refused(capsys, arena_cli.main, [*ARENA, "--out", str(tmp_path / "file" / "a")])
    assert f"cannot create {tmp_path / 'file' / 'a'}: Not a directory" in err


# ------------------------------------------------------------------ tom-train-ppo


def test_ppo_existing_checkpoint_refused_without_resume_or_overwrite(tmp_path, capsys):
    out = tmp_path / "ppo.safetensors"
    out.write_bytes(b"an earlier run's checkpoint")
    err = refused(capsys, ppo_train.main, [*PPO, "--out", str(out)])
    assert f"{out} already exists" in err
    assert "--resume to continue it, --overwrite to replace it, or choose another --out" in err
    assert out.read_bytes() == b"an earlier run's checkpoint"


def test_ppo_overwrite_replaces_an_existing_checkpoint(tmp_path, capsys):
    out = tmp_path / "ppo.safetensors"
    out.write_bytes(b"an earlier run's checkpoint")
    ppo_train.main([*PPO, "--out", str(out), "--overwrite"])
    assert checkpoints.peek(out) == "ppo"
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["ppo.safetensors"]


def test_ppo_resume_of_a_missing_checkpoint_refused(tmp_path, capsys):
    out = tmp_path / "ppo.safetensors"
    err = refused(capsys, ppo_train.main, [*PPO, "--out", str(out), "--resume"])
    assert f"nothing to resume from {out}: it does not exist" in err


def test_ppo_out_uncreatable_refused_before_training(tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("a file, not a folder")
    monkeypatch.setattr(ppo_train, "make_vec_env", never)  # no training starts
    out = tmp_path / "file" / "ppo" / "ppo.safetensors"
    err = refused(capsys, ppo_train.main, [*PPO, "--out", str(out)])
    assert f"cannot create {out.parent}: Not a directory" in err
