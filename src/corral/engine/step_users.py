"""The unprivileged OS users a server running as root runs steps as (see step_process.py).

    with step_user() as user:        # corral-step, or corral-step2, corral-step3... when taken
        ...                          # run the step's process as user.uid / user.gid
    # on leaving: every process of the user is killed, its files in the shared temp folders go

Each step running at the same time gets a user of its own, so a step can never read another
step's environment (/proc/PID/environ) or files, nor find a process or file another step left
behind. A user is held by a lock file under /run/corral-step (flock), so two servers on one
machine never hand out the same user at once; users are made with `useradd --system` when
missing: a group of their own, no supplementary groups, no home, no login shell.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from corral.errors import CorralError

BASE_NAME = "corral-step"
LOCK_DIR = Path("/run/corral-step")
# the folders any user may write to (a Debian or Ubuntu machine's; /var/lock is /run/lock)
SHARED_TEMP = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/run/lock"))
SYSV_IPC = {"shm": "-m", "msg": "-q", "sem": "-s"}  # /proc/sysvipc/KIND: `ipcrm OPTION ID`
MAX_USERS = 64
NO_LOGIN = next((s for s in ("/usr/sbin/nologin", "/sbin/nologin") if os.path.exists(s)), "/bin/false")


class StepUserError(CorralError):
    """No unprivileged OS user could be had for a step."""


@dataclass(frozen=True)
class StepUser:
    name: str
    uid: int
    gid: int


def user_name(slot: int) -> str:
    return BASE_NAME if slot == 0 else f"{BASE_NAME}{slot + 1}"


@contextmanager
def step_user() -> Iterator[StepUser]:
    """A step user no other step holds, for as long as the step runs; cleaned up after."""
    lock, slot = _claim()
    try:
        user = ensure_user(user_name(slot))
        try:
            yield user
        finally:
            end_processes(user)
            remove_shared_files(user)
            remove_ipc_objects(user)
    finally:
        os.close(lock)  # the flock goes with it


def _claim() -> tuple[int, int]:
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    info = os.lstat(LOCK_DIR)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise StepUserError(f"{LOCK_DIR} is not a folder of this server's own; remove it")
    for slot in range(MAX_USERS):
        fd = os.open(LOCK_DIR / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return fd, slot
    raise StepUserError(f"all {MAX_USERS} step users are busy: too many steps run at once")


def ensure_user(name: str) -> StepUser:
    """The OS user `name`, made when missing; never root or root's group."""
    found = _lookup(name)
    if found is None:
        command = ["useradd", "--system", "--user-group", "--no-create-home"]
        command += ["--home-dir", "/nonexistent", "--shell", NO_LOGIN, name]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            why = done.stderr.strip() or f"exit code {done.returncode}"
        except FileNotFoundError:
            why = "useradd is not installed"
        found = _lookup(name)  # another server may have made it at the same moment
        if found is None:
            raise StepUserError(
                f"could not make the OS user {name} that steps run as ({why}); make it with "
                f"`useradd --system --user-group --shell {NO_LOGIN} {name}` or run steps on delegates"
            )
    if found.uid == 0 or found.gid == 0:
        raise StepUserError(f"the OS user {name} that steps run as must not be root or in root's group")
    return found


def _lookup(name: str) -> StepUser | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return StepUser(name, entry.pw_uid, entry.pw_gid)


def end_processes(user: StepUser) -> None:
    """Kill every process of the user: the step's, and any it left running in the background."""
    for _ in range(20):
        if not processes_of(user.uid):
            return
        # kill(-1) as the user reaches exactly the user's processes (and never the caller)
        subprocess.run(
            ["bash", "-c", "kill -KILL -1"],
            user=user.uid,
            group=user.gid,
            extra_groups=[],
            env={"PATH": "/usr/bin:/bin"},
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        time.sleep(0.01)


def processes_of(uid: int) -> list[int]:
    """Live processes (not zombies) whose real or effective user is uid."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uids = fields.get("Uid", "").split()
        if str(uid) in uids[:2] and not fields.get("State", "").strip().startswith("Z"):
            found.append(int(entry.name))
    return found


def remove_shared_files(user: StepUser) -> None:
    """What the user left at the top of /tmp, /var/tmp and /dev/shm, where the next step
    given the same user could read it."""
    for folder in SHARED_TEMP:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != user.uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)  # never follows links
                else:
                    os.unlink(entry.path)
            except OSError:
                continue


def remove_ipc_objects(user: StepUser) -> None:
    """The System V shared memory, message queues and semaphores the user made or owns: they
    outlive every process, so the next step given the same user could read them."""
    for kind, option in SYSV_IPC.items():
        try:
            lines = Path("/proc/sysvipc", kind).read_text().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        columns = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(columns, line.split(), strict=False))
            if str(user.uid) in (row.get("uid"), row.get("cuid")):
                subprocess.run(["ipcrm", option, row[_ID_COLUMN[kind]]], capture_output=True, check=False)


_ID_COLUMN = {"shm": "shmid", "msg": "msqid", "sem": "semid"}
