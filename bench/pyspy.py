"""py-spy over gunicorn workers while a bench measures: where each request's wall time goes, by function.

``recording(pids, path)`` samples every worker (idle time included, so time blocked in a read counts) for as long as
the ``with`` block runs and writes py-spy's raw collapsed stacks, gzipped (speedscope and flamegraph.pl read them
unzipped); ``summary(path, answers)`` turns them into the
functions that took the most wall time per answered request, so two runs (say 1% and 100% of a national deployment)
can be compared function by function.
"""

import gzip
import signal
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

RATE = 250  # samples a second per worker
# Frames a request's own work runs under; stacks without one are a worker waiting for a connection.
REQUEST_FRAME = "wsgi_app ("


def py_spy() -> str:
    """The py-spy beside this interpreter (installed in the project's virtualenv), or the one on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else "py-spy"


@contextmanager
def recording(pids: list[int], path: Path, native: bool = False):
    """Sample ``pids`` while the block runs; their stacks are appended to ``path`` (raw format, one file)."""
    parts = [path.with_name(f"{path.name}.{pid}.txt") for pid in pids]
    command = [py_spy(), "record", "--idle", "--format", "raw", "--rate", str(RATE),
               *(["--native"] if native else ["--nonblocking"])]  # native stacks need the process paused
    spies = [subprocess.Popen([*command, "--pid", str(pid), "--output", str(part)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for pid, part in zip(pids, parts, strict=True)]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        errors = [spy.communicate(timeout=60)[1].decode(errors="replace") for spy in spies]
        with gzip.open(path, "wt", encoding="utf-8") as joined:
            for part, error in zip(parts, errors, strict=True):
                if not part.exists():
                    raise RuntimeError(f"py-spy wrote nothing to {part}: {error[-500:]}")
                joined.write(part.read_text(encoding="utf-8"))
                part.unlink()


def _frame_name(frame: str) -> str:
    """``function (file:line)`` as ``function (file)``: a function's samples together, whatever line they were on."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0].rstrip(')')})" if where else name


def summary(path: Path, answers: int, top: int = 25) -> dict:
    """The functions under which requests spent most wall time: per function, its samples with it anywhere on the
    stack (inclusive) and at the top (own), each also as milliseconds per answered request."""
    inclusive, own = Counter(), Counter()
    in_requests = 0
    with gzip.open(path, "rt", encoding="utf-8") as stacks:
        lines = stacks.read().splitlines()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or REQUEST_FRAME not in stack:
            continue
        samples = int(count)
        in_requests += samples
        frames = stack.split(";")
        start = next(i for i, f in enumerate(frames) if REQUEST_FRAME in f)
        frames = [_frame_name(f) for f in frames[start:]]  # the request's own frames, not gunicorn's around them
        for name in set(frames):
            inclusive[name] += samples
        own[frames[-1]] += samples

    def per_request(samples: int) -> float:
        return round(1000 * samples / RATE / max(answers, 1), 3)

    return {"rate": RATE, "answers": answers, "request_samples": in_requests,
            "ms_per_request": per_request(in_requests),
            "inclusive": [{"function": f, "samples": n, "ms_per_request": per_request(n)}
                          for f, n in inclusive.most_common(top)],
            "own": [{"function": f, "samples": n, "ms_per_request": per_request(n)} for f, n in own.most_common(top)]}


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn master's worker processes (Linux /proc)."""
    return [int(pid) for pid in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]


if __name__ == "__main__":  # summarise a kept raw file: .venv/bin/python bench/pyspy.py FILE ANSWERS
    import json

    print(json.dumps(summary(Path(sys.argv[1]), int(sys.argv[2])), indent=1))
