"""A realistic synthetic fleet with known truth, for the demo, notebooks and tests.

Functions implemented in this folder depend only on NumPy and pandas (writing files
uses :mod:`bayescount.io.atomic`); nothing here imports PyMC, PyTensor or ArviZ, so
:func:`load_example_fleet` returns in well under a second.
"""

from bayescount.examples._files import load_example_fleet
from bayescount.examples.fleet import ExampleFleet, FleetTruth, make_example_fleet

__all__ = ["ExampleFleet", "FleetTruth", "load_example_fleet", "make_example_fleet"]
