"""The `audiogen` command: registers the commands that work and turns errors into exit codes.

Exit codes: 0 ok; 2 bad usage or bad input (one line naming the file and the problem; an
unwritable or full destination, an input too large for memory); 1 an internal error (traceback
only with --debug); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM, handled like Ctrl-C).
"""

from __future__ import annotations

import re
import sys
import traceback
from typing import Annotated, Optional

import typer

import audiogen
from audiogen.cli import classify as classify_cmd
from audiogen.cli import index as index_cmd
from audiogen.cli import info as info_cmd
from audiogen.cli import map as map_cmd
from audiogen.cli import resynth as resynth_cmd
from audiogen.cli import similar as similar_cmd
from audiogen.cli import spec as spec_cmd
from audiogen.cli import translate as translate_cmd
from audiogen.cli.data import data_app
from audiogen.cli.verbs import (
    add_command,
    directions_app,
    encode_app,
    eval_app,
    export_app,
    fit_app,
    interpolate_app,
    render_app,
    sample_app,
    train_app,
)
from audiogen.errors import AudiogenError
from audiogen.runtime.signals import Terminated, install_sigterm_handler
from audiogen.runtime.threads import apply_threads, choose_threads, take_threads_option


def _no_flag_placeholder() -> None:
    """Typer 0.29 prints `<bool>` in the type column of every on/off flag, which takes no value:
    show nothing there."""
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "audiogen_patched", False):
        return

    def display_type_rich(self, ctx):
        return None if getattr(self, "is_flag", False) else shown(self, ctx)

    display_type_rich.audiogen_patched = True
    TyperOption.display_type_rich = display_type_rich


_no_flag_placeholder()
app = typer.Typer(
    name="audiogen",
    help="Neural audio and music generation from the command line: ABC char-LSTM, MusicVAE, SampleVAE, "
         "GANSynth and timbre translation (pix2pix / CycleGAN).\n\n"
         "Every command also takes --threads N (CPU threads; default: the cores not busy with other "
         "work, or $AUDIOGEN_THREADS).",
    epilog="Example: audiogen spec note.wav --out note.png",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        print(f"audiogen {audiogen.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_print_version, is_eager=True,
                                                    help="Show the version and exit.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of internal errors.")] = False,
) -> None:
    """audiogen: neural audio and music generation (ABC char-LSTM, MusicVAE, SampleVAE, GANSynth, timbre
    translation)."""


add_command(app, "info", info_cmd.info)
add_command(app, "spec", spec_cmd.spec)
add_command(app, "resynth", resynth_cmd.resynth)
add_command(app, "classify", classify_cmd.classify_command)
add_command(app, "index", index_cmd.index_command)
add_command(app, "similar", similar_cmd.similar_command)
add_command(app, "map", map_cmd.map_command)
add_command(app, "translate", translate_cmd.translate_command)
app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")
app.add_typer(sample_app, name="sample")
app.add_typer(interpolate_app, name="interpolate")
app.add_typer(render_app, name="render")
app.add_typer(encode_app, name="encode")
app.add_typer(export_app, name="export")
app.add_typer(fit_app, name="fit")
app.add_typer(directions_app, name="directions")
app.add_typer(eval_app, name="eval")


def _fail(message: str, code: int) -> None:
    # Plain write, not rich: the message stays on one line however narrow the terminal.
    sys.stderr.write(f"audiogen: error: {message}\n")
    sys.stderr.flush()
    sys.exit(code)


def _caused_by_ctrl_c(error: BaseException) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _cli_exceptions() -> tuple[type, type]:
    """(UsageError, Abort) of the Click that Typer runs on (vendored inside Typer since 0.2x)."""
    usage_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    return usage_error, typer.Abort


# Typer's validation speaks its own words; ours say what was given and what is wanted.
_OUR_WORDS = [
    (r"Input should be greater than or equal to (\S+)", r"must be at least \1"),
    (r"Input should be less than or equal to (\S+)", r"must be at most \1"),
    (r"Input should be greater than (\S+)", r"must be above \1"),
    (r"Input should be less than (\S+)", r"must be below \1"),
    (r"Input should be a valid integer.*", "expected a whole number"),
    (r"Input should be a valid number.*", "expected a number"),
    (r"Input should be a valid boolean.*", "expected true or false"),
    (r"Value error, ", ""),
]


def _given(args: list[str], names: str) -> str | None:
    """The value typed for an option ("--temperature / -t") on the command line, if any."""
    wanted = [n.strip() for n in names.split("/")]
    for i, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if name in wanted:
            return value if eq else (args[i + 1] if i + 1 < len(args) else None)
    return None


def usage_line(error: Exception, args: list[str] | None = None) -> str:
    """A Click usage error as one line: "--steps: must be at least 1 (see `audiogen train abc
    --help`)" instead of the usage box, in our words rather than the validation library's."""
    message = " ".join(error.format_message().split())
    match = re.fullmatch(r"Invalid value for (.+?): (.*)", message)
    if match:
        names, problem = match.group(1).replace(chr(39), ""), match.group(2)
        given = _given(args or [], names)
        if given is not None and given.strip().lower() in ("nan", "+nan", "-nan"):
            problem = "not a number (nan)"
        else:
            for pattern, words in _OUR_WORDS:
                problem = re.sub(pattern, words, problem)
            if given is not None and problem.startswith(("must be", "expected")):
                problem = f"{problem}, got {given}"
        message = f"{names}: {problem}"
    elif message.startswith("Missing "):
        message = message[0].lower() + message[1:].replace("'", "")
    ctx = getattr(error, "ctx", None)
    if ctx is not None:
        message = message.rstrip(".") + f" (see `{ctx.command_path} --help`)"
    return message


_MEMORY_MESSAGES = ("alloc_cpu.cpp", "can't allocate memory", "CUDA out of memory", "out of memory",
                    "not enough memory", "MPS backend out of memory")


def _out_of_memory(error: BaseException) -> bool:
    if isinstance(error, MemoryError) or type(error).__name__ in ("OutOfMemoryError", "_ArrayMemoryError"):
        return True
    return isinstance(error, RuntimeError) and any(m in str(error) for m in _MEMORY_MESSAGES)


def _undo_unsaved_runs(*, interrupted: bool) -> str | None:
    """A training run of this command that never reached a checkpoint is undone (see
    `runtime.training.after_failure`); returns what to add to the message."""
    training = sys.modules.get("audiogen.runtime.training")  # loaded only if a run was set up
    return training.after_failure(interrupted=interrupted) if training is not None else None


def _interrupted(terminated: bool) -> None:
    undone = _undo_unsaved_runs(interrupted=True)
    word = "terminated" if terminated else "interrupted"
    _fail(f"{word} {undone}" if undone else word, 143 if terminated else 130)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        _main(argv)
    finally:
        locks = sys.modules.get("audiogen.runtime.locks")
        if locks is not None:  # folder locks end with the command (also when main runs again in one process)
            locks.release_all()


def _main(argv: list[str] | None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args
    usage_error, abort = _cli_exceptions()
    install_sigterm_handler()
    training = sys.modules.get("audiogen.runtime.training")
    if training is not None:  # main() called again in one process (tests): earlier runs are not this one's
        training.forget_runs()
    try:
        args, threads = take_threads_option(args)
        apply_threads(choose_threads(threads)[0])
        code = app(args=args, prog_name="audiogen", standalone_mode=False)
        code = code if isinstance(code, int) else 0
        if code == 130:  # Typer turns Ctrl-C into a return code
            _interrupted(Terminated.received())
        sys.exit(code)
    except AudiogenError as e:
        if debug:
            traceback.print_exc()
        undone = _undo_unsaved_runs(interrupted=e.exit_code in (130, 143))
        _fail(f"{e}; {undone}" if undone else str(e), e.exit_code)
    except usage_error as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # a bare group: Typer has printed its help
            sys.exit(0)
        _fail(usage_line(e, args), 2)
    except (KeyboardInterrupt, abort):
        _interrupted(Terminated.received())
    except SystemExit as e:
        if e.code == 130 and _caused_by_ctrl_c(e):
            _interrupted(Terminated.received())
        raise
    except OSError as e:
        from audiogen.runtime.atomic import WRITE_ERRNOS

        if debug:
            traceback.print_exc()
        undone = _undo_unsaved_runs(interrupted=False)
        if e.errno in WRITE_ERRNOS:  # a destination (or input) the user can fix
            message = f"{e.filename}: {e.strerror}" if e.filename else f"{e.strerror}"
            _fail(f"{message}; {undone}" if undone else message, 2)
        _internal(e, debug, undone)
    except Exception as e:  # an internal error: a bug, not the user's fault
        undone = _undo_unsaved_runs(interrupted=False)
        if _out_of_memory(e):
            message = "does not fit in memory: lower -n / --batch-size, or give a shorter input"
            _fail(f"{message}; {undone}" if undone else message, 2)
        if debug:
            traceback.print_exc()
        _internal(e, debug, undone)


def _internal(e: BaseException, debug: bool, undone: str | None = None) -> None:
    hint = "" if debug else " (rerun as `audiogen --debug ...` for the traceback)"
    tail = f"; {undone}" if undone else ""
    _fail(f"internal error: {type(e).__name__}: {e}{hint}{tail}", 1)


if __name__ == "__main__":
    main()
