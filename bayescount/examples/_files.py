"""Write the example fleet to a folder and read it back (or make it when there is none)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from bayescount.examples.fleet import FILES, ExampleFleet, FleetTruth, make_example_fleet
from bayescount.exceptions import DataError

__all__ = ["bundled_folder", "load_example_fleet", "write_fleet"]

_TEXT = {"region": str, "service": str, "node": str}


def bundled_folder() -> Path:
    """``data/example_fleet/`` of the repository checkout this package was imported from."""
    return Path(__file__).resolve().parents[2] / "data" / "example_fleet"


def write_fleet(fleet: ExampleFleet, folder: str | Path) -> dict[str, Path]:
    """Write ``fleet``'s tables as CSV and its truth as JSON (see :meth:`ExampleFleet.write`)."""
    from bayescount.io.atomic import atomic_write

    folder = Path(folder)
    written = {}
    for name, frame in fleet.frames().items():
        text = frame.to_csv(index=False, lineterminator="\n").encode()
        written[name] = atomic_write(folder / f"{name}.csv", text)
    truth = json.dumps(fleet.truth.to_dict(), indent=1, sort_keys=True) + "\n"
    written["truth"] = atomic_write(folder / "truth.json", truth.encode())
    return written


def _read(folder: Path) -> ExampleFleet:
    frames = {}
    for name in FILES:
        time = "time" if name == "sofar" else "timestamp"
        frames[name] = pd.read_csv(folder / f"{name}.csv", dtype=_TEXT, parse_dates=[time],
                                   keep_default_na=False, na_values=[""])
    truth = FleetTruth.from_dict(json.loads((folder / "truth.json").read_text()))
    return ExampleFleet(**frames, truth=truth)


def load_example_fleet(folder: str | Path | None = None) -> ExampleFleet:
    """Return the example fleet: the committed sample when there is one, else made now.

    With ``folder=None`` the sample in ``data/example_fleet/`` beside the package (a
    repository checkout) is read; an installed package has none, and the same data are
    made by :func:`make_example_fleet` with its defaults instead (well under a second
    either way; the committed sample is what the defaults make, a test checks it).

    Parameters
    ----------
    folder : str or Path, optional
        A folder written by :meth:`ExampleFleet.write` to read instead.

    Returns
    -------
    ExampleFleet
        The tables (``fleet``, ``holdout``, ``next_hour``, ``future``, ``incident``,
        ``sofar``) and the truth.

    Raises
    ------
    DataError
        ``folder`` was given and lacks one of the files.
    """
    names = [f"{name}.csv" for name in FILES] + ["truth.json"]
    if folder is None:
        bundled = bundled_folder()
        if all((bundled / n).is_file() for n in names):
            return _read(bundled)
        return make_example_fleet()
    folder = Path(folder)
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DataError(
            f"{folder} is not an example-fleet folder: {', '.join(missing)} missing. Write "
            "one with bc.make_example_fleet().write(folder), or call load_example_fleet() "
            "without a folder."
        )
    return _read(folder)
