"""The README's examples run as written and print what the README says they print."""

import contextlib
import doctest
import io
import re

from readme import README, code_blocks, examples

from tom_agents.selfplay import cli as selfplay_cli

# "..." in a README output stands for anything (doctest's ELLIPSIS); spaces may differ.
CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_readme_python_examples_run_and_print_what_the_readme_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write to runs/
    blocks = examples()
    assert len(blocks) >= 3
    checked = 0
    for code, expected in blocks:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
        assert printed.getvalue().strip(), f"this example prints nothing:\n{code}"
        if expected is not None:
            assert CHECKER.check_output(expected, printed.getvalue(), FLAGS), (
                f"the README says\n{expected}\nbut the example printed\n{printed.getvalue()}"
            )
            checked += 1
    assert checked >= 5


def test_readme_config_files_are_read_by_tom_selfplay(tmp_path):
    (text,) = [block for block in code_blocks("toml") if "[env]" in block]
    path = tmp_path / "run.toml"
    path.write_text(text)
    config, _ = selfplay_cli.parse_args(["--config", str(path)])
    assert (config.name, config.iterations, config.num_games) == ("small-run", 30, 32)
    assert config.env["max_cycles"] == 20 and config.planner.num_simulations == 32


def test_readme_opens_with_the_two_setup_commands():
    text = README.read_text()
    setup = re.search(r"## Set-up\n\n```bash\n(.*?)```", text, re.S).group(1).strip().splitlines()
    assert setup == [
        'pip install -e ".[agents]" && tom-selfplay',
        'pip install -e ".[test]" && pytest',
    ]
