"""Nothing a user has is lost (robustness issue, items 0 and 0c), with real processes.

* SIGINT / SIGTERM sent to a real ``bayescount fit`` while it works: exit 130 / 143,
  one line on stderr, the older fit at ``--out`` byte-identical, no temporary file.
* ``--out`` that cannot be written is refused before sampling.
* A full disk while saving (a small tmpfs where the machine allows mounting one, else
  a failing ``fsync``): one clean error, the old file intact, no crash.
* A closed or full stdout (``| head``, ``> /dev/full``): no traceback.
* Modes: new files follow the umask; an overwritten file keeps its mode.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bayescount.io.atomic import atomic_write
from bayescount.testing import simulate_telemetry

CONSOLE_SCRIPT = Path(sys.executable).with_name("bayescount")
OLD_FIT = b"\x89HDF\r\n\x1a\n an older fit the user keeps " * 64


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["CI"] = "true"  # no progress bars
    return out


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lost") / "telemetry.csv"
    simulate_telemetry(2, 2, 2, 24, seed=3).frame.to_csv(path, index=False)
    return path


def fit_args(data: Path, out: Path, draws: int) -> list[str]:
    return [
        str(CONSOLE_SCRIPT), "fit", str(data), "--counts", "errors", "--exposure", "requests",
        "--group", "region", "--group", "service", "--family", "poisson", "--seed", "1",
        "--draws", str(draws), "--tune", "200", "--chains", "2", "--out", str(out),
    ]


@pytest.mark.fit
@pytest.mark.parametrize(
    ("sig", "code", "after"),
    [(signal.SIGINT, 130, 0.5), (signal.SIGINT, 130, 25.0), (signal.SIGTERM, 143, 25.0)],
    ids=["sigint-importing", "sigint-sampling", "sigterm-sampling"],
)
def test_an_interrupted_fit_writes_nothing(data_csv, tmp_path, sig, code, after):
    out = tmp_path / "fit.nc"
    out.write_bytes(OLD_FIT)
    proc = subprocess.Popen(
        fit_args(data_csv, out, draws=1_000_000), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env(),
    )
    # 0.5 s: importing; 25 s: well into the million-draw run (or, on a slow machine,
    # still compiling — the same rule holds there).
    time.sleep(after)
    assert proc.poll() is None
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr.decode()
    text = stderr.decode()
    assert "Traceback" not in text
    assert f"bayescount: interrupted by {signal.Signals(sig).name}; nothing was written" in text
    assert b"Saved fit" not in stdout and b"nan" not in stdout
    assert out.read_bytes() == OLD_FIT
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]


@pytest.mark.parametrize("where", ["missing-dir/fit.nc", "/proc/fit.nc"])
def test_an_unwritable_out_is_refused_before_sampling(data_csv, tmp_path, where):
    out = tmp_path / where if not where.startswith("/") else Path(where)
    start = time.monotonic()
    proc = subprocess.run(fit_args(data_csv, out, draws=1000), capture_output=True, env=env())
    assert proc.returncode == 2
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bayescount: error: Cannot write {out}")
    assert b"NUTS" not in proc.stderr  # refused before any sampling
    assert time.monotonic() - start < 60


# --------------------------------------------------------------------- full disk
@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (or ``None`` where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


SAVE_COPY = """
import sys
from bayescount.exceptions import OutputError
from bayescount.io import load_fit, save_fit
try:
    save_fit(load_fit(sys.argv[1]), sys.argv[2])
except OutputError as err:
    print(err, file=sys.stderr)
    sys.exit(2)
"""


def test_a_full_disk_while_saving_keeps_the_old_file(fake_fit, small_disk, tmp_path, monkeypatch):
    source = fake_fit.save(tmp_path / "source.nc")
    if small_disk is None:  # no mount here: the writer's fsync fails as on a full disk
        import errno

        from bayescount.exceptions import OutputError
        from bayescount.io import atomic

        target = tmp_path / "target.nc"
        target.write_bytes(OLD_FIT)

        def full(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(atomic.os, "fsync", full)
        with pytest.raises(OutputError, match="no space left on device"):
            fake_fit.save(target)
        assert target.read_bytes() == OLD_FIT
        return
    assert source.stat().st_size > 64 * 1024  # it cannot fit
    target = small_disk / "fit.nc"
    target.write_bytes(OLD_FIT)
    proc = subprocess.run([sys.executable, "-c", SAVE_COPY, str(source), str(target)],
                          capture_output=True)
    assert proc.returncode == 2, proc.stderr.decode()  # not a segmentation fault (-11)
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "no space left on device" in lines[0]
    assert target.read_bytes() == OLD_FIT
    assert [p.name for p in small_disk.iterdir()] == ["fit.nc"]


# ------------------------------------------------------------------------ stdout
@pytest.fixture(scope="module")
def saved_fit(fake_fit, tmp_path_factory) -> Path:
    return fake_fit.save(tmp_path_factory.mktemp("stdout") / "fit.nc")


def test_a_closed_stdout_ends_quietly(saved_fit):
    proc = subprocess.run(f"'{CONSOLE_SCRIPT}' summary '{saved_fit}' | head -1",
                          shell=True, capture_output=True, env=env())
    assert proc.returncode == 0
    assert proc.stdout.decode().count("\n") == 1
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_stdout_is_one_line(saved_fit):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([str(CONSOLE_SCRIPT), "summary", str(saved_fit)], stdout=full,
                              stderr=subprocess.PIPE, env=env())
    assert proc.returncode == 1
    lines = proc.stderr.decode().strip().splitlines()
    assert lines == ["bayescount: error: cannot write the output: no space left on device"]


# ------------------------------------------------------------------------- modes
def test_new_files_follow_the_umask_and_overwrites_keep_their_mode(tmp_path):
    old = os.umask(0o027)
    try:
        fresh = atomic_write(tmp_path / "new.csv", b"a\n")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o640
        kept = tmp_path / "kept.csv"
        kept.write_bytes(b"old")
        kept.chmod(0o644)
        atomic_write(kept, b"new")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o644 and kept.read_bytes() == b"new"
    finally:
        os.umask(old)


def test_the_fit_file_is_not_created_private(fake_fit, tmp_path):
    old = os.umask(0o022)
    try:
        path = fake_fit.save(tmp_path / "fit.nc")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


# ------------------------------------------------------------- pass-through (0d)
def test_predict_passes_columns_through_exactly_as_given(fake_fit, telemetry, tmp_path):
    fit_path = fake_fit.save(tmp_path / "fit.nc")
    rows = telemetry.iloc[:3].drop(columns="errors").copy()
    rows["ticket"] = ["007", "0042", "1e3"]
    rows["owner_id"] = ["1.50", "+1", "NA"]
    data = tmp_path / "rows.csv"
    rows.to_csv(data, index=False)
    out = tmp_path / "forecast.csv"
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "predict", str(fit_path), "--data", str(data), "--out", str(out)],
        capture_output=True, env=env(),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    lines = out.read_text().splitlines()
    header = lines[0].split(",")
    cells = [line.split(",") for line in lines[1:]]
    assert [c[header.index("ticket")] for c in cells] == ["007", "0042", "1e3"]
    assert [c[header.index("owner_id")] for c in cells] == ["1.50", "+1", "NA"]
