"""Regenerate the bundled example fleet from the package's generator (deterministic).

Run from the repository root: ``python data/example_fleet/make_example_fleet.py``.
The files are what :func:`bayescount.make_example_fleet` makes with its defaults (seed
2026); the simulation, the truth and each file are described in this folder's README and
in ``bayescount/examples/fleet.py``. ``tests/examples/test_fleet.py`` checks that the
committed files are exactly what the generator makes.
"""

from pathlib import Path

from bayescount.examples import make_example_fleet

HERE = Path(__file__).parent


def main() -> None:
    """Write the six tables and ``truth.json`` beside this script."""
    fleet = make_example_fleet()
    fleet.write(HERE)
    sizes = ", ".join(f"{name} {len(frame)}" for name, frame in fleet.frames().items())
    print(f"rows: {sizes}; nodes: {fleet.fleet['node'].nunique()}")


if __name__ == "__main__":
    main()
