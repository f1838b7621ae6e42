"""tom_agents.checkpoints: every kind of value round-trips, every bad file is refused by name,
and no reader of a checkpoint ever runs code planted in a file (a pickle whose loading would
create a marker file, saved as a raw pickle, by torch.save, and as a Stable-Baselines3 zip)."""

from __future__ import annotations

import base64
import json
import math
import pathlib
import pickle
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pytest
import safetensors.torch
import torch

from tom_agents import checkpoints, make_agent
from tom_agents.checkpoints import CheckpointError

torch.set_num_threads(1)

PPO_ENV = {"grid_size": (5, 5), "max_block_components": 0, "max_cycles": 10}


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types, all the way down (nan equals nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def round_trip(tmp_path: Path, tree: Any, kind: str = "test") -> Any:
    path = checkpoints.save(tmp_path / "tree.safetensors", kind, tree)
    assert checkpoints.peek(path) == kind
    got_kind, got = checkpoints.load(path, kind)
    assert got_kind == kind
    return got


def adam_after_one_step() -> dict[str, Any]:
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    net(torch.ones(5, 3)).square().sum().backward()
    optimizer.step()
    return optimizer.state_dict()


class TestRoundTrips:
    def test_plain_values(self, tmp_path):
        tree = {
            "none": None,
            "flags": [True, False],
            "ints": [0, -7, 2**64 + 1, -(2**200)],
            "floats": [0.1, -0.0, 1e-300, math.nan, math.inf, -math.inf],
            "text": ["", "ünïcode", "$dict", '{"$tuple": []}'],
            "nested": {"tuple": (1, (2.5, "x"), ()), "empty": {}, "list": [[], [{}]]},
            3: "an int key",
            -1: {"$dict": "a user key that looks like a tag"},
        }
        got = round_trip(tmp_path, tree)
        assert same(got, tree)
        assert math.copysign(1.0, got["floats"][1]) == -1.0
        assert list(got) == list(tree)  # key order too

    @pytest.mark.parametrize(
        "dtype",
        [
            *("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"),
            *("float16", "float32", "float64", "complex64"),
        ],
    )
    def test_numpy_arrays_and_scalars(self, tmp_path, dtype):
        tree = {
            "matrix": np.arange(12).reshape(3, 4).astype(dtype),
            "empty": np.zeros((0, 3), dtype),
            "zero_d": np.array(1, dtype),
            "scalar": np.array(1, dtype)[()],
            "strided": np.arange(10).astype(dtype)[::3],  # not contiguous
            "fortran": np.asfortranarray(np.arange(6).reshape(2, 3).astype(dtype)),
        }
        got = round_trip(tmp_path, tree)
        assert same(got, {k: np.ascontiguousarray(v) if v.ndim else v for k, v in tree.items()})
        assert isinstance(got["scalar"], np.generic) and got["zero_d"].shape == ()

    def test_nan_arrays_and_big_endian(self, tmp_path):
        tree = {"nan": np.array([np.nan, 1.0, -np.inf]), "be": np.arange(4, dtype=">i4")}
        got = round_trip(tmp_path, tree)
        assert np.isnan(got["nan"][0]) and got["nan"][2] == -np.inf
        assert got["be"].dtype == np.dtype("int32") and got["be"].tolist() == [0, 1, 2, 3]

    def test_torch_tensors(self, tmp_path):
        base = torch.arange(12, dtype=torch.float32)
        tree = {
            "dtypes": [torch.ones(2, dtype=d) for d in (torch.bfloat16, torch.float16, torch.bool)],
            "views_of_one_storage": [base[:6], base[6:], base.view(3, 4).t()],
            "zero_d": torch.tensor(3.5),
            "empty": torch.zeros(0, 2, dtype=torch.int64),
            "grad": torch.ones(2, requires_grad=True) * 2,
            "parameter": torch.nn.Parameter(torch.ones(3)),
        }
        got = round_trip(tmp_path, tree)
        expected = {
            **tree,
            "views_of_one_storage": [t.contiguous() for t in tree["views_of_one_storage"]],
            "grad": tree["grad"].detach(),
            "parameter": tree["parameter"].detach().clone(),
        }
        assert same(got, expected)
        assert not got["grad"].requires_grad

    def test_an_optimizer_state_and_a_generator_state(self, tmp_path):
        adam = adam_after_one_step()
        rng = np.random.default_rng(1)
        rng.random(3)
        tree = {"adam": adam, "rng": rng.bit_generator.state, "legacy": np.random.get_state()}
        got = round_trip(tmp_path, tree)
        assert same(got["adam"], adam)  # int keys of "state", the betas tuple, the step tensors
        assert same(got["rng"], tree["rng"])
        restored = np.random.default_rng()
        restored.bit_generator.state = got["rng"]
        assert restored.random() == rng.random()
        assert same(got["legacy"], tree["legacy"])
        net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
        torch.optim.Adam(net.parameters()).load_state_dict(got["adam"])

    def test_objects_are_refused_when_saving(self, tmp_path):
        path = tmp_path / "bad.safetensors"
        for tree, where in (
            ({"a": [1, {2, 3}]}, r"tree\['a'\]\[1\]: cannot store a set"),
            ({(1, 2): 3}, "dict keys must be str or int"),
            ({True: 3}, "dict keys must be str or int"),
            ({"s": np.array(["x"])}, "cannot store an array of <U1"),
            ({"o": np.array([None], dtype=object)}, "cannot store an array of object"),
            ({"c": np.ones(2, np.complex128)}, "cannot store an array of complex128"),
            ({"c": [torch.ones(2, dtype=torch.complex128)]}, "cannot store torch.complex128"),
            (adam_after_one_step, "cannot store a function"),
        ):
            with pytest.raises(TypeError, match=where):
                checkpoints.save(path, "test", tree)
        assert not path.exists() and not list(tmp_path.iterdir())
        with pytest.raises(ValueError, match="kind"):
            checkpoints.save(path, "", {})


def good_file(tmp_path: Path, kind: str = "planner") -> Path:
    tree = {"weights": {"w": torch.arange(1000.0)}, "step": 3}
    return checkpoints.save(tmp_path / "good.safetensors", kind, tree)


def safetensors_with_header(path: Path, header: dict[str, Any], data: bytes = b"") -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


class TestBadFiles:
    def refused(self, path: Path, reason: str, kinds: Any = "planner") -> None:
        with pytest.raises(CheckpointError, match=f"{path}.*{reason}") as caught:
            checkpoints.load(path, kinds)
        assert caught.value.path == path

    def test_torn_files(self, tmp_path):
        good = good_file(tmp_path)
        data = good.read_bytes()
        torn = tmp_path / "torn.safetensors"
        for size, reason in ((0, "too short"), (5, "too short"), (40, "torn"), (-10, "torn")):
            torn.write_bytes(data[:size])
            self.refused(torn, reason)
        assert checkpoints.peek(torn) == "planner"  # the header is whole: peek reads only it

    def test_missing_and_foreign_files(self, tmp_path):
        self.refused(tmp_path / "missing.safetensors", "FileNotFoundError")
        garbage = tmp_path / "garbage.bin"
        garbage.write_bytes(b"not a checkpoint" * 100)
        self.refused(garbage, "not a safetensors file")
        plain = tmp_path / "plain.safetensors"
        safetensors.torch.save_file({"w": torch.ones(3)}, plain)
        self.refused(plain, "not a tom_agents checkpoint")
        marked = tmp_path / "marked.safetensors"
        safetensors.torch.save_file({"w": torch.ones(3)}, marked, metadata={"format": "other"})
        self.refused(marked, "not a tom_agents checkpoint")
        archive = tmp_path / "archive.zip"
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("readme.txt", "hello")
        self.refused(archive, "a zip file, not a tom_agents checkpoint")
        for bad in (plain, garbage, archive):
            with pytest.raises(CheckpointError, match=str(bad)):
                checkpoints.peek(bad)

    def test_bad_headers_and_structures(self, tmp_path):
        ours = {"format": checkpoints.FORMAT, "version": "1", "kind": "planner"}
        cases = {
            "header_json": (b"{not json", "bad header"),
            "structure_json": ({**ours, "tree": "{not json"}, "not valid JSON"),
            "nan_constant": ({**ours, "tree": "NaN"}, "not valid JSON"),
            "unknown_tag": ({**ours, "tree": '{"$object": "os.system"}'}, "malformed structure"),
            "two_keys": ({**ours, "tree": '{"$tuple": [], "x": 1}'}, "malformed structure"),
            "bad_pair": ({**ours, "tree": '{"$dict": [[1.5, 2]]}'}, "malformed dict entry"),
            "no_tensor": ({**ours, "tree": '{"$tensor": "7"}'}, "malformed structure"),
            "no_tree": (ours, "no structure"),
            "no_kind": ({**ours, "kind": None, "tree": "1"}, "no valid version or kind"),
            "newer": ({**ours, "version": "99", "tree": "1"}, "newer tom_agents"),
            "deep": ({**ours, "tree": "[" * 100_000 + "]" * 100_000}, "nested too deeply"),
        }
        for name, (metadata, reason) in cases.items():
            path = tmp_path / f"{name}.safetensors"
            if isinstance(metadata, bytes):
                path.write_bytes(struct.pack("<Q", len(metadata)) + metadata)
            else:
                safetensors_with_header(path, {"__metadata__": metadata})
            self.refused(path, reason)

    def test_a_checkpoint_of_another_kind(self, tmp_path):
        good = good_file(tmp_path, kind="selfplay")
        self.refused(good, "it is a 'selfplay' checkpoint, expected 'planner'")
        self.refused(good, "expected 'planner' or 'ppo'", kinds=["ppo", "planner"])
        assert checkpoints.load(good, ("planner", "selfplay"))[0] == "selfplay"

    def test_an_old_torch_save_file(self, tmp_path):
        old = tmp_path / "checkpoint_000003.pt"
        torch.save({"format": "tom_agents.selfplay/1", "weights": torch.ones(2)}, old)
        self.refused(old, r"old-format checkpoint \(a torch.save zip\).*could run code.*Retrain")
        legacy = tmp_path / "legacy.pt"
        torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
        self.refused(legacy, r"old-format checkpoint \(a pickle")


# ---------------------------------------------------------------- malicious files


class Payload:
    """Unpickling this creates ``marker``: proof that a reader ran code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (pathlib.Path.touch, (self.marker,))


def write_malicious(path: Path, form: str, marker: Path) -> Path:
    """A file whose unpickling touches ``marker``, as a raw pickle, a torch zip or an SB3 zip."""
    payload = {"format": "tom_agents.selfplay/1", "trainer": Payload(marker), "config": {}}
    path.parent.mkdir(parents=True, exist_ok=True)
    if form == "pickle":
        path.write_bytes(pickle.dumps(payload))
    elif form == "torch":
        torch.save(payload, path)
    else:  # Stable-Baselines3's layout: PPO.load cloudpickle-loads the ":serialized:" values
        serialized = base64.b64encode(cloudpickle.dumps(Payload(marker))).decode()
        data = {"policy_class": {":type:": "<class 'type'>", ":serialized:": serialized}}
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("data", json.dumps(data))
            archive.writestr("policy.pth", b"")
            archive.writestr("pytorch_variables.pth", b"")
            archive.writestr("_stable_baselines3_version", "2.3.0")
    return path


FORMS = ["pickle", "torch", "sb3"]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "MARKER"


def assert_refused(
    call: Callable[[], Any], path: Path, marker: Path, capsys: Any, must_fail: bool = True
) -> None:
    """``call`` does not run the payload and names ``path`` (in its error, output or warnings)."""
    error = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
        except (ValueError, SystemExit) as e:
            error = f"{e}"
        else:
            assert not must_fail, "the malicious file was accepted"
    out = capsys.readouterr()
    said = "\n".join([error, out.out, out.err, *(str(w.message) for w in caught)])
    assert not marker.exists(), "the payload in the file ran"
    name = str(path) if must_fail else path.name
    assert name in said, said[-2000:]


def test_the_payload_is_live(marker):
    """The tests below mean something: unpickling the payload does touch the marker."""
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


def assert_arena_refuses(spec, path, marker, capsys, out) -> None:
    """The seat ``spec`` is refused by the arena's Python API and by ``tom-arena``."""
    from tom_agents.arena import play
    from tom_agents.arena.cli import main

    lineup = [spec, "random", "random", "random"]
    assert_refused(lambda: play(lineup, 1, [0], progress=False), path, marker, capsys)
    argv = [*lineup, "--episodes", "1", "--matches", "1", "--no-progress", "--out", str(out)]
    assert_refused(lambda: main(argv), path, marker, capsys)


class TestPPOReaders:
    @pytest.mark.parametrize("form", FORMS)
    def test_checkpoints_load_and_peek(self, tmp_path, marker, capsys, form):
        path = write_malicious(tmp_path / "evil.safetensors", form, marker)
        for call in (lambda: checkpoints.load(path, "ppo"), lambda: checkpoints.peek(path)):
            assert_refused(call, path, marker, capsys)
        with pytest.raises(CheckpointError, match=r"old-format checkpoint.*could run code"):
            checkpoints.load(path, "ppo")

    @pytest.mark.parametrize("form", FORMS)
    def test_make_agent(self, tmp_path, marker, capsys, form):
        path = write_malicious(tmp_path / "evil.zip", form, marker)
        call = lambda: make_agent("ppo", env_config=PPO_ENV, checkpoint=str(path))  # noqa: E731
        assert_refused(call, path, marker, capsys)

    @pytest.mark.parametrize("form", FORMS)
    def test_arena_ppo_seat(self, tmp_path, marker, capsys, form):
        path = write_malicious(tmp_path / "evil.zip", form, marker)
        assert_arena_refuses(f"ppo:{path}", path, marker, capsys, tmp_path / "arena")

    @pytest.mark.parametrize("form", FORMS)
    def test_train_ppo_resume(self, tmp_path, marker, capsys, form):
        from tom_agents.ppo.train import main

        path = write_malicious(tmp_path / "run" / "ppo.safetensors", form, marker)
        argv = ["--out", str(path), "--resume", "--timesteps", "256", "--num-envs", "1"]
        argv += ["--no-progress", "--env", "grid_size=[5,5]", "--env", "max_block_components=0"]
        assert_refused(lambda: main(argv), path, marker, capsys)


class TestPlannerAndSelfPlayReaders:
    """The same attack on the planner and self-play readers."""

    @pytest.mark.parametrize("form", FORMS)
    def test_make_agent_hop(self, tmp_path, marker, capsys, form):
        path = write_malicious(tmp_path / "evil.pt", form, marker)
        call = lambda: make_agent("hop", env_config=PPO_ENV, checkpoint=str(path))  # noqa: E731
        assert_refused(call, path, marker, capsys)

    @pytest.mark.parametrize("form", FORMS)
    def test_load_agent(self, tmp_path, marker, capsys, form):
        """``tom_agents.load_agent``: planner, self-play and PPO checkpoints alike."""
        import tom_agents

        path = write_malicious(tmp_path / "evil.pt", form, marker)
        assert_refused(lambda: tom_agents.load_agent(path, seat=1), path, marker, capsys)

    @pytest.mark.parametrize("form", FORMS)
    def test_arena_checkpoint_seat(self, tmp_path, marker, capsys, form):
        path = write_malicious(tmp_path / "evil.pt", form, marker)
        assert_arena_refuses(f"checkpoint:{path}", path, marker, capsys, tmp_path / "arena")

    @pytest.mark.parametrize("form", FORMS)
    def test_selfplay_resume(self, tmp_path, marker, capsys, form):
        """A planted newest checkpoint (under the old and the new file name) is skipped by name."""
        from tom_agents.selfplay.cli import main

        folder = tmp_path / "runs" / "evil" / "checkpoints"
        planted = [folder / f"checkpoint_999999{suffix}" for suffix in (".pt", ".safetensors")]
        for path in planted:
            write_malicious(path, form, marker)
        sets = [
            "iterations=1",
            "num_games=1",
            "steps_per_iteration=8",
            "num_trees=1",
            "num_simulations=2",
            "channels=[4,4,4]",
            "hidden=8",
            "sgd_iterations=1",
            "minibatch=8",
            "eval_episodes=0",
            "progress=false",
            "env={grid_size=[4,4], num_players=2, max_block_components=0, max_cycles=4}",
            f"out_dir={json.dumps(str(tmp_path / 'runs'))}",
        ]
        argv = ["--preset", "quick", "--name", "evil", "--resume", "--device", "cpu"]
        argv += [arg for item in sets for arg in ("--set", item)]
        assert_refused(lambda: main(argv), planted[-1], marker, capsys, must_fail=False)
