"""Shared training-run mechanics; each model family writes its own loop on top::

    config = read_run_config(out) if resume else asdict(cfg)   # build the model from this
    run = TrainingRun(out, kind="abc", config=config, modules={"model": model},
                      optimizers={"opt": opt}, total_steps=steps, checkpoint_every=500,
                      resume=resume, init_from=init_from, quiet=quiet)
    for step in run.steps():            # 0-based step numbers, run.step .. total_steps - 1
        loss = train_step(...)
        run.log(step + 1, loss=loss)    # metrics are labelled by the steps completed
    run.export(dtype=torch.float16, extra={"vocab": vocab})

A run directory holds ``config.json`` (the run's config), ``metrics.jsonl`` (one JSON object per
``log`` call), ``checkpoint.pt`` (resumable state, written atomically) and ``model.safetensors``
(``export``). ``run.step`` counts completed steps; a checkpoint's step is that count.

- New run: refuses a directory that already holds ``checkpoint.pt`` (never overwrites one).
- ``resume``: restores modules, optimizers, schedulers, ``run.state`` and the step count from
  ``checkpoint.pt``; the RNG states are restored when ``steps()`` starts, so set-up code between
  the constructor and the loop sees the same seeded RNG as the original run did, and resuming is
  bit-exact on CPU. The saved ``config.json`` wins over the given config (a warning names the
  keys that differ): build the modules from ``read_run_config(out_dir)`` when resuming.
  Metrics lines labelled after the checkpoint's step (``log(n)`` labels a line with n completed
  steps) are dropped, as those steps will run again.
- ``init_from``: strict load of a model file of the same kind; tensors are named
  ``<module name>.<parameter name>`` (``model.lstm.weight_ih_l0``), as ``export`` writes them.
- Ctrl-C or SIGTERM inside ``steps()``: the current step finishes, a checkpoint is written, the
  ``export`` given to ``steps()`` writes model.safetensors from it, and ``TrainingInterrupted``
  (exit code 130, 143 for SIGTERM) is raised; a second signal aborts at once with
  KeyboardInterrupt (the previous checkpoint stays intact: writes are atomic).
- A loss that is not finite (``log``), weights that are not or that float16 cannot hold
  (``save_checkpoint``; every family exports float16) and a model file that would hold NaN or
  infinity (``export``) stop the run with ``TrainingDiverged``; the last checkpoint written stays
  the last good state.
- One writer per run folder: setting a run up takes the folder's lock (``runtime.locks``), and a
  second process is refused at once with the holder's pid until ``close()`` (the family's trainer
  calls it when done) or the command's end.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import torch

from audiogen.errors import AudiogenError, BadInputError
from audiogen.runtime.atomic import atomic_write_text, remove_stale_temps, undo_folder
from audiogen.runtime.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from audiogen.runtime.locks import FOLDER_LOCK, hold_folder, release_folder
from audiogen.runtime.modelfile import NonFiniteModel, load_model, save_model
from audiogen.runtime.progress import make_progress, stderr_console
from audiogen.runtime.signals import note_sigterm

CONFIG_NAME = "config.json"
METRICS_NAME = "metrics.jsonl"
CHECKPOINT_NAME = "checkpoint.pt"
MODEL_NAME = "model.safetensors"
CHECKPOINT_FORMAT = "audiogen-training-run"
CHECKPOINT_VERSION = 1


_OPEN_RUNS: list["TrainingRun"] = []  # the runs this process has set up, for `after_failure`


def after_failure(*, interrupted: bool) -> str | None:
    """When a command fails or is interrupted (called by the CLI's error handling): every run of
    this process that never reached a checkpoint and wrote nothing but its set-up files (an empty
    metrics.jsonl beside config.json) is undone: the folders this run made are removed, else the
    two files, so a failed first run leaves no run folder that cannot be resumed. A run that
    logged steps, or wrote held-out data, snapshots or a model, is kept as it is: its curves may
    be hours of work. Returns a phrase for the message (or None): what was undone, or for a
    resumed run that had not yet saved again, that its checkpoint is unchanged."""
    phrases = []
    while _OPEN_RUNS:
        run = _OPEN_RUNS.pop()
        phrase = run._undo_if_unsaved(interrupted=interrupted)
        if phrase:
            phrases.append(phrase)
    return "; ".join(phrases) or None


def forget_runs() -> None:
    """Forget the runs set up so far (a new command starts in this process)."""
    _OPEN_RUNS.clear()


class TrainingInterrupted(AudiogenError):
    """Ctrl-C (exit 130) or SIGTERM (exit 143) during training: a checkpoint was saved, and the
    model exported from it when the loop was given an ``export``."""

    exit_code = 130

    def __init__(self, step: int, checkpoint: Path, *, terminated: bool = False, model: Path | None = None):
        self.step = step
        self.checkpoint = checkpoint
        self.exit_code = 143 if terminated else 130
        exported = f" and model {model}" if model is not None else ""
        super().__init__(
            f"{'terminated' if terminated else 'interrupted'} at step {step}; checkpoint saved to "
            f"{checkpoint}{exported}; continue with --resume"
        )


class TrainingDiverged(AudiogenError):
    """A non-finite loss or weight: the run stops, its last checkpoint is kept as it was."""

    def __init__(self, step: int, what: str, last_good: int | None, checkpoint: Path):
        if last_good is not None:
            advice = f"{checkpoint} (step {last_good}) is the last good state; start a new run (another --out)"
        else:
            advice = "no checkpoint was written; start again"
        super().__init__(f"training diverged at step {step} ({what}); stopped: {advice} with a lower --lr")


# a weight beyond this cannot be exported (every family writes float16 model files)
EXPORT_LIMIT = float(torch.finfo(torch.float16).max)

# metrics.jsonl keys whose non-finite value means the run has diverged
_LOSS_KEYS = ("loss", "bpc", "recon", "kl")


def _is_loss(key: str) -> bool:
    return any(part in key for part in _LOSS_KEYS)


class LossWindow:
    """Running sums of per-step values between two metrics lines, kept in the run's state (so in
    every checkpoint): a run resumed mid-window logs the same means as one that never stopped.

    `add(**values)` after each step (floats, or tensors left on the device until `take`);
    `take()` -> {name: sum / steps} over the steps since the last `take`, and starts a new window.
    Create it after the TrainingRun, which restores the state on --resume.
    """

    KEY = "loss_window"

    def __init__(self, run: "TrainingRun"):
        self.run = run
        window = run.state.get(self.KEY) or {}
        self.sums: dict = dict(window.get("sums") or {})
        self.steps = int(window.get("batches", 0))

    def add(self, **values) -> None:
        for key, value in values.items():
            value = value.detach() if isinstance(value, torch.Tensor) else float(value)
            before = self.sums.get(key)
            if isinstance(value, torch.Tensor) and isinstance(before, torch.Tensor):
                before = before.to(value.device)  # a sum restored from a checkpoint joins the device
            self.sums[key] = value if before is None else before + value
        self.steps += 1
        self._keep()

    def means(self) -> dict:
        """{name: sum / steps} of the window so far (floats or tensors, as added)."""
        return {k: v / max(self.steps, 1) for k, v in self.sums.items()}

    def take(self) -> dict:
        means = self.means()
        self.sums, self.steps = {}, 0
        self._keep()
        return means

    def _keep(self) -> None:
        self.run.state[self.KEY] = {"sums": dict(self.sums), "batches": self.steps}


def _plain(config: object) -> dict:
    """The config as plain JSON data (tuples become lists), so saved and given configs compare."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    return json.loads(json.dumps(config))


def read_run_config(out_dir: str | os.PathLike) -> dict | None:
    """The ``config.json`` of a run directory, or None when there is none."""
    path = Path(out_dir) / CONFIG_NAME
    if not path.is_file():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInputError(path, f"not a readable run config: {e}") from None
    if not isinstance(config, dict):
        raise BadInputError(path, "not a run config: expected a JSON object")
    return config


def starting_config(config, out_dir: str | os.PathLike, *, kind: str, resume: bool,
                    init_from: str | os.PathLike | None, from_dict: Callable[[dict], object],
                    model_fields: Iterable[str], requested: dict | None = None):
    """The config a run starts from: the saved run's (``from_dict(config.json)``) when resuming;
    with ``init_from``, ``config`` with the model file's values of ``model_fields`` (its sizes);
    else ``config`` itself.

    ``requested``: the fields the user asked for on the command line (--config, --lr, --set,
    ...). Resuming a run whose saved config differs in any of them is refused: the run goes on as
    it was configured, so the request would be silently ignored.
    """
    if resume:
        saved = read_run_config(out_dir)
        if saved is None:
            raise AudiogenError(f"{out_dir}: no config.json to resume from")
        refuse_changed_config(out_dir, saved, requested)
        return from_dict(saved)
    if init_from is not None:
        base = from_dict(load_model(init_from, kind=kind).config)
        return dataclasses.replace(config, **{k: getattr(base, k) for k in model_fields if hasattr(base, k)})
    return config


def refuse_changed_config(out_dir: str | os.PathLike, saved: dict, requested: dict | None) -> None:
    """AudiogenError when a resumed run's saved config differs from the fields the command line
    asked for (``requested``): the run goes on as it was configured, so they would be ignored."""
    wanted = _plain(requested or {})
    differ = sorted(k for k, v in wanted.items() if k in saved and saved[k] != v)
    if differ:
        shown = ", ".join(f"{k} {saved[k]!r} (asked: {wanted[k]!r})" for k in differ[:4])
        raise AudiogenError(
            f"{out_dir}: --resume continues the run as it was configured, and it differs from this command "
            f"line in {shown}{' ...' if len(differ) > 4 else ''}; drop those options, or start a new run "
            "in another --out")


def _one_line(e: BaseException, limit: int = 300) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


def _scalar(value: object) -> object:
    """Tensors and numpy scalars as plain Python numbers (or lists) for JSON."""
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    return value


class TrainingRun:
    """One training run in ``out_dir``: see the module docstring for the life cycle.

    Attributes: ``step`` (completed steps), ``total_steps``, ``state`` (a dict of tensors /
    plain data saved in the checkpoint, e.g. a data iterator position), ``config``, ``kind``,
    ``modules``, ``optimizers``, ``schedulers``, and the paths ``config_path``,
    ``metrics_path``, ``checkpoint_path``, ``model_path``.
    ``checkpoint_every`` 0 writes checkpoints only at the end (and on Ctrl-C).
    ``write=False`` (the non-zero ranks of a data-parallel run) reads a checkpoint to resume but
    writes nothing and shows no progress: rank 0 writes for all.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike,
        *,
        kind: str,
        config: dict,
        modules: dict[str, torch.nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
        schedulers: dict | None = None,
        total_steps: int,
        checkpoint_every: int,
        resume: bool = False,
        init_from: str | os.PathLike | None = None,
        quiet: bool = False,
        write: bool = True,
    ):
        if total_steps < 0:
            raise AudiogenError(f"--steps {total_steps}: expected 0 or more")
        if checkpoint_every < 0:
            raise AudiogenError(
                f"--checkpoint-every {checkpoint_every}: expected 0 (only at the end) or more"
            )
        if resume and init_from is not None:
            raise AudiogenError(
                "--init-from cannot be combined with --resume: "
                "the checkpoint already holds the weights"
            )
        self.out_dir = Path(out_dir)
        self.config_path = self.out_dir / CONFIG_NAME
        self.metrics_path = self.out_dir / METRICS_NAME
        self.checkpoint_path = self.out_dir / CHECKPOINT_NAME
        self.model_path = self.out_dir / MODEL_NAME
        self.kind = kind
        self.config = _plain(config)
        self.modules = dict(modules)
        self.optimizers = dict(optimizers)
        self.schedulers = dict(schedulers or {})
        self.total_steps = int(total_steps)
        self.checkpoint_every = int(checkpoint_every)
        self.write = write
        self.quiet = quiet or not write
        self.status = ""  # shown after the progress bar's name, e.g. "stage 3 alpha 0.42"
        self.step = 0
        self.stopped_early = False  # set by steps() when a time limit or stop() ended the loop
        self.state: dict = {}
        self._elapsed_before = 0.0
        self._t0 = time.perf_counter()
        self._pending_rng: dict | None = None
        self._interrupted = False
        self._terminated = False
        self._last_checkpoint: int | None = None

        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise BadInputError(self.out_dir, "exists and is not a directory")
        self._made_root: Path | None = None
        self._found_files: set[str] = set()
        self._resumed_from: int | None = None
        if resume:
            self._resume()
            self._resumed_from = self.step
        else:
            self._start(init_from)
        if self.write:
            _OPEN_RUNS.append(self)

    # -- set-up ---------------------------------------------------------------------------

    def _start(self, init_from: str | os.PathLike | None) -> None:
        if self.checkpoint_path.exists():
            raise AudiogenError(
                f"{self.out_dir}: already holds a training run ({CHECKPOINT_NAME}); "
                "pass --resume to continue it or choose another --out"
            )
        if init_from is not None:
            self._init_from(init_from)
        if not self.write:
            return
        # The topmost folder this run creates (out_dir or one of its parents), removed on undo.
        self._made_root = next((p for p in reversed((self.out_dir, *self.out_dir.parents))
                                if not p.exists()), None)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._found_files = {p.name for p in self.out_dir.iterdir()}  # the user's, never undone
        try:
            hold_folder(self.out_dir, "training into it", " (or give another --out)")
        except AudiogenError:  # the holder's folder: only the empty folders this run made may go
            undo_folder(self.out_dir, self._made_root, contents=False)
            raise
        if self.checkpoint_path.exists():  # written by a run that held the folder while we looked
            release_folder(self.out_dir)
            raise AudiogenError(f"{self.out_dir}: already holds a training run ({CHECKPOINT_NAME}); "
                                "pass --resume to continue it or choose another --out")
        atomic_write_text(self.config_path, json.dumps(self.config, indent=2) + "\n")
        # Lines left by an earlier attempt that never reached a checkpoint belong to no run.
        atomic_write_text(self.metrics_path, "")

    def _undo_if_unsaved(self, *, interrupted: bool) -> str | None:
        """See `after_failure`."""
        if self._resumed_from is not None:
            if self._last_checkpoint == self._resumed_from and interrupted:
                return f"before training went on; {self.checkpoint_path} (step {self._resumed_from}) is unchanged"
            return None
        if self._last_checkpoint is not None or not self.out_dir.is_dir():
            return None
        ignored = {self.config_path.name, self.metrics_path.name, FOLDER_LOCK} | self._found_files
        if any(p.name not in ignored for p in self.out_dir.iterdir()) or (
            self.metrics_path.is_file() and self.metrics_path.stat().st_size > 0
        ):
            kept = f"{self.out_dir} is kept with what the run wrote (no checkpoint to resume)"
            return f"before the first checkpoint; {kept}" if interrupted else kept
        if self._made_root is not None:
            undo_folder(self.out_dir, self._made_root)  # under the lock, which goes with the folder
            release_folder(self.out_dir)
            return f"before the first checkpoint; {self._made_root} removed" if interrupted else f"{self._made_root} removed"
        for path in (self.config_path, self.metrics_path):
            path.unlink(missing_ok=True)
        release_folder(self.out_dir)
        return f"before the first checkpoint; nothing kept in {self.out_dir}" if interrupted else None

    def _init_from(self, path: str | os.PathLike) -> None:
        loaded = load_model(path, kind=self.kind)
        expected = self.named_tensors()
        for full, want in expected.items():
            have = loaded.tensors.get(full)
            if have is None:
                raise BadInputError(loaded.path, f"does not fit this model: tensor {full} is missing")
            if have.shape != want.shape:
                raise BadInputError(
                    loaded.path,
                    f"does not fit this model: tensor {full} has shape {tuple(have.shape)}, "
                    f"expected {tuple(want.shape)}",
                )
        # tensors outside the run's modules (a MusicVAE's fitted prior) are the file's, not the run's
        unexpected = sorted(n for n in set(loaded.tensors) - set(expected) if n.split(".")[0] in self.modules)
        if unexpected:
            raise BadInputError(
                loaded.path, f"does not fit this model: unexpected tensor {unexpected[0]}"
            )
        for name, module in self.modules.items():
            # copy_ inside load_state_dict casts float16 files to the module's dtype.
            module.load_state_dict(loaded.state_dict(None, prefix=name + "."), strict=True)

    def _resume(self) -> None:
        path = self.checkpoint_path
        if not path.is_file():
            raise BadInputError(
                path, "no checkpoint to resume from (drop --resume to start a new run)"
            )
        if self.write:
            hold_folder(self.out_dir, "training into it", " (or give another --out)")
            remove_stale_temps(self.out_dir)  # a run killed mid-write (SIGKILL) left them
        ckpt = load_checkpoint(path)
        if ckpt.get("format") != CHECKPOINT_FORMAT:
            raise BadInputError(path, "not an audiogen training checkpoint")
        if int(ckpt.get("version", 0)) > CHECKPOINT_VERSION:
            raise BadInputError(path, "checkpoint written by a newer audiogen; upgrade audiogen")
        if ckpt.get("kind") != self.kind:
            raise BadInputError(path, f"is a {ckpt.get('kind')} training run, expected {self.kind}")

        saved = read_run_config(self.out_dir)
        if saved is None:
            saved = ckpt.get("config", self.config)
        if saved != self.config:
            given = self.config
            keys = sorted(k for k in set(saved) | set(given) if saved.get(k) != given.get(k))
            stderr_console().print(
                f"warning: {self.config_path} differs from the given config "
                f"({', '.join(keys)}); resuming with the saved config",
                markup=False,
                highlight=False,
            )
            self.config = saved

        self._load_named(self.modules, ckpt.get("modules", {}), "module")
        self._load_named(self.optimizers, ckpt.get("optimizers", {}), "optimizer")
        self._load_named(self.schedulers, ckpt.get("schedulers", {}), "scheduler")
        self.step = int(ckpt["step"])
        self._last_checkpoint = self.step
        self.state = dict(ckpt.get("state", {}))
        self._elapsed_before = float(ckpt.get("elapsed", 0.0))
        self._pending_rng = ckpt.get("rng")
        self._trim_metrics()

    def _load_named(self, objects: dict, saved: dict, what: str) -> None:
        for name, obj in objects.items():
            if name not in saved:
                raise BadInputError(
                    self.checkpoint_path, f"has no {what} named {name!r} (it holds {sorted(saved)})"
                )
            try:
                obj.load_state_dict(saved[name])
            except (RuntimeError, ValueError, KeyError, TypeError) as e:
                raise BadInputError(
                    self.checkpoint_path, f"{what} {name!r} does not match: {_one_line(e)}"
                ) from None

    def _trim_metrics(self) -> None:
        """Drop metrics lines labelled after the checkpoint's step count (and any torn last line)."""
        if not self.write or not self.metrics_path.is_file():
            return
        lines = self.metrics_path.read_text(encoding="utf-8").splitlines()
        keep = []
        for line in lines:
            try:
                record = json.loads(line)
                if int(record["step"]) <= self.step:
                    keep.append(line)
            except (ValueError, KeyError, TypeError):
                continue
        if len(keep) != len(lines):
            atomic_write_text(self.metrics_path, "".join(line + "\n" for line in keep))

    # -- the loop -------------------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        """Seconds of training so far, summed over every session of this run."""
        return self._elapsed_before + (time.perf_counter() - self._t0)

    def steps(self, *, time_limit: float | None = None,
              stop: Callable[[int], bool] | None = None,
              export: Callable[[], object] | None = None) -> Iterator[int]:
        """Yield step numbers ``self.step .. total_steps - 1``; see the module docstring.

        Stops early, before a step's work, once ``time_limit`` seconds have passed since the loop
        began or ``stop(step)`` returns True: then ``stopped_early`` is set and a checkpoint is
        written (``--resume`` continues exactly there). ``export`` (e.g. ``lambda:
        run.export(...)``) is called after the checkpoint when a signal ends the loop.
        """
        if self._pending_rng is not None:
            set_rng_state(self._pending_rng)
            self._pending_rng = None
        start = self.step
        if start >= self.total_steps:
            self._say(
                f"{self.kind}: run already at step {start} of {self.total_steps}; nothing to train"
            )
            return
        began = time.perf_counter()
        restore = self._catch_sigint()
        try:
            with make_progress(quiet=self.quiet) as progress:
                task = progress.add_task(
                    f"train {self.kind}", total=self.total_steps, completed=start, initial=start
                )
                while self.step < self.total_steps:
                    if ((time_limit is not None and time.perf_counter() - began >= time_limit)
                            or (stop is not None and stop(self.step))):
                        self.stopped_early = True
                        self.save_checkpoint()
                        break
                    yield self.step
                    self.step += 1
                    progress.update(task, completed=self.step,
                                    description=f"{self.kind} {self.status}" if self.status else f"train {self.kind}")
                    if self._interrupted:
                        self.save_checkpoint()
                        model = None
                        if export is not None and self.write:
                            export()
                            model = self.model_path
                        raise TrainingInterrupted(self.step, self.checkpoint_path,
                                                  terminated=self._terminated, model=model)
                    every = self.checkpoint_every
                    if self.step == self.total_steps or (every and self.step % every == 0):
                        self.save_checkpoint()
        except (Exception, KeyboardInterrupt):  # not GeneratorExit: a caller's `break` still exports
            self.close()  # diverged, interrupted, failed: a library caller is not left holding the folder
            raise
        finally:
            restore()
            self._interrupted = self._terminated = False
        self._say(
            f"{self.kind}: trained steps {start}..{self.step} of {self.total_steps} in "
            f"{_duration(time.perf_counter() - began)}; run in {self.out_dir}"
        )

    def _catch_sigint(self) -> Callable[[], None]:
        """Install the Ctrl-C and SIGTERM handler; returns a function that puts the old ones back."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None  # signal handlers can only be set from the main thread

        def handler(signum: int, frame: object) -> None:
            if signum != signal.SIGINT:
                note_sigterm()
                self._terminated = True
            if self._interrupted:
                raise KeyboardInterrupt
            self._interrupted = True
            self._say(
                f"{'SIGTERM' if signum != signal.SIGINT else 'interrupt'}: finishing this step, then "
                "saving a checkpoint (Ctrl-C again to abort)"
            )

        signals = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
        old = {}
        for sig in signals:
            old[sig] = signal.getsignal(sig)
            signal.signal(sig, handler)
        if old[signal.SIGINT] is None:  # installed from C; the closest Python equivalent
            old[signal.SIGINT] = signal.default_int_handler

        def restore() -> None:
            for sig, previous in old.items():
                signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        return restore

    @property
    def last_checkpoint(self) -> int | None:
        """The step of the last checkpoint this run wrote (None before the first)."""
        return self._last_checkpoint

    def close(self) -> None:
        """Let go of the run folder's lock (taken when the run was set up, so that a second
        process cannot train or export into it meanwhile). A command's end lets go of it too."""
        if self.write:
            release_folder(self.out_dir)

    def use_data(self, sources) -> None:
        """Record what this run trains on (paths); resuming on other data says what happens."""
        described = sorted(os.path.abspath(os.fspath(s)) for s in (sources if isinstance(sources, (list, tuple))
                                                                       else [sources]))
        before = self.state.get("data")
        if before is not None and list(before) != described:
            stderr_console().print(
                f"warning: {self.out_dir} was trained on {', '.join(before)}; the steps left train on "
                f"{', '.join(described)} instead, continuing the run's weights, optimiser and schedule "
                "(the vocabulary, normaliser and sizes of the run are kept)", markup=False, highlight=False)
        self.state["data"] = described

    def _say(self, text: str) -> None:
        if not self.quiet:
            stderr_console().print(text, markup=False, highlight=False)

    # -- outputs --------------------------------------------------------------------------

    def log(self, step: int, **metrics: object) -> None:
        """Append ``{"step", "time" (training seconds so far), **metrics}`` to metrics.jsonl."""
        if not self.write:
            return
        record = {"step": int(step), "time": round(self.elapsed, 3)}
        record.update({k: _scalar(v) for k, v in metrics.items()})
        try:
            with open(self.metrics_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
                f.flush()
        except OSError as e:
            from audiogen.runtime.atomic import write_failure

            failure = write_failure(self.metrics_path, e)
            if failure is None:
                raise
            raise failure from None
        for key, value in record.items():
            if _is_loss(key) and isinstance(value, float) and not math.isfinite(value):
                raise TrainingDiverged(int(step), f"{key} is {value}", self._last_checkpoint,
                                       self.checkpoint_path)

    def save_checkpoint(self) -> Path:
        """Write checkpoint.pt now (atomically); ``steps()`` calls this on its own schedule."""
        if not self.write:
            return self.checkpoint_path
        for name, module in self.modules.items():
            for key, t in module.state_dict().items():
                if not t.is_floating_point():
                    continue
                if not bool(torch.isfinite(t).all()):
                    raise TrainingDiverged(self.step, f"{name}.{key} holds non-finite values",
                                           self._last_checkpoint, self.checkpoint_path)
                if t.numel() and float(t.detach().abs().max()) > EXPORT_LIMIT:  # every family exports float16
                    raise TrainingDiverged(self.step, f"{name}.{key} holds values beyond float16's range "
                                                      f"({float(t.detach().abs().max()):.3g})",
                                           self._last_checkpoint, self.checkpoint_path)
        state = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "kind": self.kind,
            "config": self.config,
            "step": self.step,
            "elapsed": self.elapsed,
            "modules": {n: m.state_dict() for n, m in self.modules.items()},
            "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()},
            "schedulers": {n: s.state_dict() for n, s in self.schedulers.items()},
            "rng": self._pending_rng if self._pending_rng is not None else rng_state(),
            "state": self.state,
        }
        path = save_checkpoint(self.checkpoint_path, state)
        self._last_checkpoint = self.step
        if self in _OPEN_RUNS:  # saved: nothing left for `after_failure` to undo or report
            _OPEN_RUNS.remove(self)
        return path

    def named_tensors(self) -> dict[str, torch.Tensor]:
        """Every module's state_dict, named ``<module name>.<tensor name>``."""
        return {
            f"{name}.{key}": t
            for name, module in self.modules.items()
            for key, t in module.state_dict().items()
        }

    def export(
        self, *, dtype: torch.dtype | None = None, extra: dict[str, object] | None = None,
        tensors: dict[str, torch.Tensor] | None = None,
    ) -> Path:
        """Write model.safetensors (run kind and config; ``extra`` gets ``trained_steps`` too).

        ``tensors`` replaces every module's tensors (``named_tensors()``), e.g. to ship only the
        networks sampling needs.
        """
        if not self.write:
            return self.model_path
        meta: dict[str, object] = {"trained_steps": self.step}
        meta.update(extra or {})
        try:
            return save_model(
                self.model_path, self.named_tensors() if tensors is None else tensors, kind=self.kind,
                config=self.config, extra=meta, dtype=dtype,
            )
        except NonFiniteModel as e:
            raise TrainingDiverged(self.step, f"the model to export: {e.problem}", self._last_checkpoint,
                                   self.checkpoint_path) from None
