"""The README's examples run as written."""

import re

from readme import README, code_blocks


def test_readme_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write to runs/
    blocks = code_blocks("python")
    assert len(blocks) >= 3
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "__readme__"})


def test_readme_opens_with_the_two_setup_commands():
    text = README.read_text()
    setup = re.search(r"## Set-up\n\n```bash\n(.*?)```", text, re.S).group(1).strip().splitlines()
    assert setup == [
        'pip install -e ".[agents]" && tom-selfplay',
        'pip install -e ".[test]" && pytest',
    ]
