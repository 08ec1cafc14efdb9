"""Running `audiogen` as a user does, for the CLI tests: real processes, or many cases in one
process through `main(argv)` with file descriptors 1 and 2 redirected (see test_cli.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = Path(sys.executable).parent / "audiogen"
CLI = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "audiogen"]
TIMEOUT_S = 300
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class Run:
    args: list[str]
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:  # shown by pytest when an assertion fails
        return f"audiogen {' '.join(self.args)} -> {self.code}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"

    def json(self) -> dict:
        return json.loads(self.stdout)  # the whole of stdout must be one JSON document


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    args = [str(a) for a in args]
    proc = subprocess.run(CLI + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
    return Run(args, proc.returncode, proc.stdout, proc.stderr)


def run_cli_many(arg_lists: list[list], env: dict[str, str], cwd: Path) -> list[Run]:
    """Several independent runs at once (they are mostly waiting on imports)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda args: run_cli(args, env, cwd), arg_lists))


def listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))  # hidden files too: a leftover `.x.tmp-...` shows up


def assert_one_line_error(run: Run, *must_contain: str) -> None:
    """Exit 2, nothing on stdout, exactly one `audiogen: error: ...` line on stderr, no traceback."""
    assert run.code == 2, run
    assert "Traceback" not in run.stdout + run.stderr, run
    assert run.stdout == "", run
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), run
    assert run.stderr.endswith("\n"), run
    assert lines[0].startswith("audiogen: error:"), run
    for text in must_contain:
        assert text in lines[0], f"{text!r} not in the error line\n{run}"


DRIVER = textwrap.dedent("""
    import json, os, sys, tempfile
    from audiogen.cli.main import main

    cases = json.load(open(sys.argv[1]))
    results = {}
    for case_id, argv in cases.items():
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            sys.stdout.flush(); sys.stderr.flush()
            saved = os.dup(1), os.dup(2)
            os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
            try:
                try:
                    main(argv)
                    code = 0
                except SystemExit as e:  # what the interpreter would turn into the exit status
                    if e.code is None or isinstance(e.code, int):
                        code = e.code or 0
                    else:
                        print(e.code, file=sys.stderr); code = 1
                except BaseException:  # escaped main(): the interpreter would print a traceback
                    import traceback; traceback.print_exc(); code = 1
            finally:
                sys.stdout.flush(); sys.stderr.flush()
                os.dup2(saved[0], 1); os.dup2(saved[1], 2); os.close(saved[0]); os.close(saved[1])
            out.seek(0); err.seek(0)
            results[case_id] = {"argv": argv, "code": code, "stdout": out.read().decode(errors="replace"),
                                "stderr": err.read().decode(errors="replace")}
    json.dump(results, open(sys.argv[2], "w"))
""")


def run_in_one_process(cases: dict[str, list], env: dict[str, str], cwd: Path, folder: Path) -> dict[str, Run]:
    """Every case id -> argv run through `main(argv)` in one Python process (one torch import)."""
    (folder / "driver.py").write_text(DRIVER)
    (folder / "cases.json").write_text(json.dumps({k: [str(a) for a in v] for k, v in cases.items()}))
    proc = subprocess.run([sys.executable, str(folder / "driver.py"), str(folder / "cases.json"),
                           str(folder / "results.json")], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT_S * 4)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((folder / "results.json").read_text())
    return {k: Run(r["argv"], r["code"], r["stdout"], r["stderr"]) for k, r in results.items()}
