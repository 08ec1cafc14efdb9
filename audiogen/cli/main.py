"""The `audiogen` command: registers the commands that work and turns errors into exit codes.

Exit codes: 0 ok; 2 bad usage or bad input (one line naming the file and the problem); 1 an
internal error (traceback only with --debug); 130 interrupted.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated, Optional

import typer

import audiogen
from audiogen.cli import info as info_cmd
from audiogen.cli.data import data_app
from audiogen.cli.verbs import encode_app, eval_app, interpolate_app, render_app, sample_app, train_app
from audiogen.cli import resynth as resynth_cmd
from audiogen.cli import samplevae_library as library_cmd
from audiogen.cli import spec as spec_cmd
from audiogen.errors import AudiogenError

app = typer.Typer(
    name="audiogen",
    help="Neural audio and music generation from the command line.\n\n"
         "Example: audiogen spec note.wav --out note.png",
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
    """audiogen: neural audio and music generation (ABC char-LSTM, MusicVAE, SampleVAE, GANSynth)."""


app.command("info")(info_cmd.info)
app.command("spec")(spec_cmd.spec)
app.command("resynth")(resynth_cmd.resynth)
app.command("classify")(library_cmd.classify_command)
app.command("index")(library_cmd.index_command)
app.command("similar")(library_cmd.similar_command)
app.command("map")(library_cmd.map_command)
app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")
app.add_typer(sample_app, name="sample")
app.add_typer(interpolate_app, name="interpolate")
app.add_typer(render_app, name="render")
app.add_typer(encode_app, name="encode")
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


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="audiogen")
    except AudiogenError as e:
        if debug:
            traceback.print_exc()
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except SystemExit as e:
        if e.code == 130 and _caused_by_ctrl_c(e):  # Typer turns Ctrl-C into a silent exit 130
            _fail("interrupted", 130)
        raise
    except MemoryError:
        _fail("out of memory (try a smaller --batch-size or a shorter input)", 1)
    except Exception as e:  # an internal error: a bug, not the user's fault
        if debug:
            traceback.print_exc()
            _fail(f"internal error: {type(e).__name__}: {e}", 1)
        _fail(f"internal error: {type(e).__name__}: {e} (rerun as `audiogen --debug ...` for the traceback)", 1)


if __name__ == "__main__":
    main()
