"""Where a step's own process runs (a ShellScript's bash), what it sees and how it stops.

    result = run_step_process(run, script=text, variables={"REGION": "eu-west-1"})
    result.code, result.last_lines, result.outputs   # outputs: what the script wrote to $CORRAL_OUTPUT_FILE

Whoever runs the engine chooses how (ExecutorOptions.step_processes, handed to each StepRun):
- local (the default: `corral run`, `corral demo`, delegates): as this process's OS user, from
  the project's folder, with this process's environment less Corral's own keys and tokens;
- isolated (a server running as root): as an unprivileged OS user of the step's own
  (step_users.py), in a fresh private folder holding a copy of the project's files (links
  copied as links, never followed; bounded size), with an environment of PATH, HOME, LANG, the
  step's variables and $CORRAL_OUTPUT_FILE: nothing of the server's; at most PROCESS_LIMIT
  processes. When the script ends, is aborted or times out, every process of that user is
  killed and the folder removed;
- refused (a server that cannot isolate and was not started with --allow-local-steps): the step
  fails with a message naming that setting, before anything runs.
Either way the script runs in its own process group, killed on abort or timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corral.config.settings import STATE_DIR
from corral.errors import CorralError

from .step_users import StepUser, end_processes, step_user

if TYPE_CHECKING:
    from .plan import PipelinePlan
    from .steps import StepRun

LOCAL = "local"
ISOLATED = "isolated"
REFUSED = "refused"

OUTPUT_VARIABLE = "CORRAL_OUTPUT_FILE"
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LAST_LINES = 10
KILL_GRACE = 2.0
MiB = 1024 * 1024
OUTPUTS_LIMIT = 16 * MiB
PROCESS_LIMIT = 4096  # processes an isolated step's user may have at once: a fork bomb stops there

# Step types that run code the project supplies (what a refused server will not start)
SCRIPT_STEP_TYPES = frozenset({"ShellScript"})

# Variables of Corral's own that hold keys or tokens: a local script never sees them.
PRIVATE_VARIABLES = ("CORRAL_SECRETS_KEY", "CORRAL_ADMIN_TOKEN", "CORRAL_TOKEN")


class StepRefused(CorralError):
    """This process may not run the step's code (see StepProcesses.refused)."""


@dataclass(frozen=True)
class StepProcesses:
    """How steps that run code a project supplies are run (see the module's docstring)."""

    mode: str = LOCAL
    refusal: str = ""  # why a refused step is refused and how to allow it
    copy_limit: int = 64 * MiB  # the most of the project's files an isolated step gets a copy of
    skip: tuple[str, ...] = (STATE_DIR,)  # top-level folders of the project an isolated step does not get

    @classmethod
    def isolated(cls, *, skip: tuple[str, ...] = ()) -> StepProcesses:
        return cls(ISOLATED, skip=(STATE_DIR, *skip))

    @classmethod
    def refused(cls, why: str) -> StepProcesses:
        return cls(REFUSED, refusal=why)


@dataclass(frozen=True)
class ProcessResult:
    code: int
    last_lines: list[str]  # masked
    outputs: bytes


def script_steps(plan: PipelinePlan) -> list[str]:
    """The paths (`pipeline.stages[0].stage.spec.execution.steps[1]`) of the plan's steps that run
    code the project supplies, rollback steps included."""
    return [step.path for _, step in plan.steps() if step.type in SCRIPT_STEP_TYPES]


def run_step_process(run: StepRun, *, script: str, variables: Mapping[str, str]) -> ProcessResult:
    """Run `bash script` as run.processes says; its output goes, masked, to the step's log."""
    processes = run.processes
    if processes.mode == REFUSED:
        raise StepRefused(processes.refusal)
    if processes.mode == ISOLATED:
        return _run_isolated(run, script, variables, processes)
    return _run_local(run, script, variables)


def _run_local(run: StepRun, script: str, variables: Mapping[str, str]) -> ProcessResult:
    with tempfile.TemporaryDirectory(prefix="corral-shell-") as folder:
        out_file = Path(folder) / "outputs"
        wrapper = Path(folder) / "script.sh"
        wrapper.write_text(script, encoding="utf-8")
        env = {**script_environment(os.environ), **variables, OUTPUT_VARIABLE: str(out_file)}
        cwd = str(run.project.root) if run.project is not None else folder
        code, last = _run(run, ["bash", str(wrapper)], env, cwd)
        return ProcessResult(code, last, _read_outputs(out_file))


def script_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The process environment a local script starts from, less Corral's own keys and tokens."""
    return {
        k: v for k, v in environ.items() if k not in PRIVATE_VARIABLES and not k.startswith("CORRAL_SECRET")
    }


# -- isolated -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    root: Path  # root's, 0711: the step user cannot add, remove or replace anything in it
    work: Path  # the user's: the working directory and HOME, with the project's files
    tmp: Path  # the user's: TMPDIR
    script: Path
    outputs: Path  # the user's, made empty beforehand; read back without following links


def _run_isolated(
    run: StepRun, script: str, variables: Mapping[str, str], processes: StepProcesses
) -> ProcessResult:
    with step_user() as user, _private_place(user) as place:
        if run.project is not None:
            _copy_project(Path(run.project.root), place.work, user, processes)
        _write_private(place.script, script.encode("utf-8"), user, 0o400)
        env = {
            "PATH": SAFE_PATH,
            "HOME": str(place.work),
            "TMPDIR": str(place.tmp),
            "LANG": os.environ.get("LANG") or "C.UTF-8",
            "USER": user.name,
            "LOGNAME": user.name,
            **variables,
            OUTPUT_VARIABLE: str(place.outputs),
        }
        # the limit is set (soft and hard) before the script starts, so the script cannot raise it
        limited = f'ulimit -u {PROCESS_LIMIT} 2>/dev/null; exec bash "$0"'
        argv = ["bash", "-c", limited, str(place.script)]
        code, last = _run(run, argv, env, str(place.work), user=user)
        return ProcessResult(code, last, _read_outputs(place.outputs))


@contextmanager
def _private_place(user: StepUser) -> Iterator[_Place]:
    root = Path(tempfile.mkdtemp(prefix="corral-step-"))
    try:
        os.chmod(root, 0o711)
        place = _Place(root, root / "work", root / "tmp", root / "script.sh", root / "outputs")
        for folder in (place.work, place.tmp):
            folder.mkdir(mode=0o700)
            os.chown(folder, user.uid, user.gid)
        _write_private(place.outputs, b"", user, 0o600)
        yield place
    finally:
        end_processes(user)  # nothing of the step's may still write into the folder
        shutil.rmtree(root, ignore_errors=True)  # never follows links the step made


def _write_private(path: Path, data: bytes, user: StepUser, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        os.fchown(out.fileno(), user.uid, user.gid)
        os.fchmod(out.fileno(), mode)


def _copy_project(source: Path, target: Path, user: StepUser, processes: StepProcesses) -> None:
    """The project's files into the step's folder, owned by the step's user. Links are copied
    as links (the step resolves them with its own rights); other special files are left out."""
    total = 0
    for folder, dirs, files in os.walk(source):  # does not descend into links to folders
        here = Path(folder)
        into = target / here.relative_to(source)
        if here == source:
            dirs[:] = [d for d in dirs if d not in processes.skip]
        for name in [*dirs, *files]:
            src, dst = here / name, into / name
            info = os.lstat(src)
            if stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(src), dst)
            elif stat.S_ISDIR(info.st_mode):
                dst.mkdir(mode=0o700)
            elif stat.S_ISREG(info.st_mode):
                total += info.st_size
                if total > processes.copy_limit:
                    raise CorralError(
                        f"the project's files hold more than {_size(processes.copy_limit)}: a step "
                        "that runs a script gets a copy of them; keep large files out of the project"
                    )
                _copy_file(src, dst, 0o600 | (info.st_mode & 0o100))
            else:
                continue
            os.lchown(dst, user.uid, user.gid)


def _size(count: int) -> str:
    return f"{count // MiB} MiB" if count % MiB == 0 else f"{count} bytes"


def _copy_file(src: Path, dst: Path, mode: int) -> None:
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as source, open(dst, "xb") as out:
        shutil.copyfileobj(source, out)
        os.fchmod(out.fileno(), mode)


# -- the process ------------------------------------------------------------------------------


def _run(
    run: StepRun, argv: list[str], env: dict[str, str], cwd: str, *, user: StepUser | None = None
) -> tuple[int, list[str]]:
    # as a step user: its own uid and group, no supplementary groups, files private to it
    as_user: dict[str, Any] = (
        {} if user is None else {"user": user.uid, "group": user.gid, "extra_groups": [], "umask": 0o077}
    )
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        start_new_session=True,
        **as_user,
    )
    after_exit: Callable[[], None] | None = None
    if user is not None:
        # what the script left running holds its output open: it ends with the script
        after_exit = lambda: end_processes(user)  # noqa: E731
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(run, process, done, after_exit), daemon=True)
    watcher.start()
    last: deque[str] = deque(maxlen=LAST_LINES)
    assert process.stdout is not None
    for raw in process.stdout:
        line = run.mask(raw.decode("utf-8", "replace").rstrip("\n"))
        last.append(line)
        run.log.info(line)
    code = process.wait()
    done.set()
    watcher.join()
    return code, list(last)


def _watch(
    run: StepRun,
    process: subprocess.Popen[bytes],
    done: threading.Event,
    after_exit: Callable[[], None] | None,
) -> None:
    while not done.wait(0.05):
        if run.stopped():
            _kill(process)
            if after_exit is not None:
                after_exit()
            return
        if after_exit is not None and process.poll() is not None:
            after_exit()
            return


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(KILL_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read_outputs(path: Path) -> bytes:
    """The output file as the script left it: a regular file only (never a link), bounded."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return b""
    with os.fdopen(fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            return b""
        data = source.read(OUTPUTS_LIMIT + 1)
    if len(data) > OUTPUTS_LIMIT:
        raise CorralError(f"the step's output variables hold more than {_size(OUTPUTS_LIMIT)}")
    return data
